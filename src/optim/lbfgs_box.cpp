// Projected L-BFGS under a box l <= x <= u (in the spirit of L-BFGS-B, Byrd,
// Lu, Nocedal & Zhu 1995, without its generalized Cauchy point): per iteration
//
//   blocked  B = { i : x_i = l_i and g_i > 0, or x_i = u_i and g_i < 0 }
//   g_free   = g with the components in B zeroed (the projected gradient)
//   d        = -H g_free by the two-loop recursion, then d_i = 0 for i in B
//   x+       = P(x + t d), P = clamp to [l, u]      (fixed t, or a strong-Wolfe
//              search along the projected path t -> P(x + t d); the search
//              also when the fixed step does not lower f)
//   s        = x+ - x (the move actually made),  y = g+ - g
//
// so the iterate never leaves the box and the pairs describe real moves. It
// stops as the plain step does, the gradient test on g_free (zero at a
// box-constrained minimum).
#include <algorithm>
#include <cmath>

#include "optim/lbfgs.hpp"
#include "optim/lbfgs_internal.hpp"
#include "optim/vector_ops.hpp"
#include "tensor/check.hpp"

namespace nst {

using namespace lbfgs_internal;

namespace {

// d_i = 0 where component i is held at its bound.
void zero_blocked(float* d, const float* x, const float* g, const Box& box, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (box_blocked(x[i], g[i], box.lower[size_t(i)], box.upper[size_t(i)])) d[i] = 0.0f;
}

// The projected direction from x: d = -H g_free with blocked components zeroed,
// a steepest-descent restart if that is not a descent direction. Returns gᵀd.
double projected_direction(LbfgsState& st, const float* x, const Box& box) {
  const int64_t n = st.n;
  float* d = st.d.data();
  lbfgs_direction(d, st.g_free.data(), st);
  zero_blocked(d, x, st.g.data(), box, n);
  double gtd = vec_dot(st.g.data(), d, n);
  if (!(gtd < 0) && !st.s.empty()) {  // H lost positive definiteness: restart from -g_free
    clear_history(st);
    lbfgs_direction(d, st.g_free.data(), st);
    zero_blocked(d, x, st.g.data(), box, n);
    gtd = vec_dot(st.g.data(), d, n);
  }
  return gtd;
}

// x = P(x0 + t d).
void projected_point(float* x, const LbfgsState& st, double t, const Box& box) {
  vec_add_scaled(x, st.x0.data(), t, st.d.data(), st.n);
  box_project(x, box, st.n);
}

}  // namespace

double lbfgs_projected_step(LbfgsState& st, float* x, const Objective& objective, const Box& box) {
  const int64_t n = st.n;
  check_box(box, n);
  st.d.resize(static_cast<size_t>(n));
  st.g_free.resize(static_cast<size_t>(n));
  box_free_gradient(st.g_free.data(), st.g.data(), x, box, n);
  if (vec_max_abs(st.g_free.data(), n) <= st.options.grad_tolerance) {
    st.stop = LbfgsStop::gradient_tolerance;
    return st.f;
  }
  const double gtd = projected_direction(st, x, box);
  if (!(gtd < 0)) {
    st.stop = LbfgsStop::not_descent;
    return st.f;
  }
  // torch.optim.LBFGS: first step min(1, 1/‖g‖₁) lr, then lr (g_free here).
  const double lr = st.options.lr;
  const double t_init =
      st.iteration == 0 ? std::min(1.0, 1.0 / vec_sum_abs(st.g_free.data(), n)) * lr : lr;
  const double f_old = st.f;
  st.g_old = st.g;
  double t = t_init;
  if (st.options.line_search == LineSearch::none) {
    st.x0.assign(x, x + n);
    projected_point(x, st, t, box);
    st.f = evaluate(st, x, objective);
    // The fixed step has no safeguard, and along a path bent by the bounds the
    // history's model can be far off (at the start of a finer scale one such
    // step raised the loss 100-fold and the run never recovered). A step that
    // does not lower f is taken back and replaced by the strong-Wolfe search;
    // when even that needed more than two evaluations the history is dropped
    // (its model is poor here; kept, it went on proposing such steps).
    if (!(st.f < f_old)) {
      std::copy(st.x0.begin(), st.x0.end(), x);
      st.f = f_old;
      st.g = st.g_old;
      const int64_t before = st.evaluations;
      // At the first iteration from no shorter than one grey level (level_step).
      const double start = st.iteration == 0 ? std::max(t_init, level_step(st, x, &box)) : t_init;
      t = line_search_step(st, x, objective, start, gtd, &box);
      if (t == 0) {
        st.stop = LbfgsStop::line_search_failed;
        return st.f;
      }
      if (st.evaluations - before > 2) clear_history(st);
    }
  } else {
    t = searched_step(st, x, objective, t_init, gtd, &box);
    if (t == 0) {
      st.stop = LbfgsStop::line_search_failed;
      return st.f;
    }
  }
  ++st.iteration;
  st.t = t;
  st.f_prev = f_old;
  vec_add_scaled(st.d.data(), x, -1.0, st.x0.data(), n);  // s = x+ - x, the real move
  const double step_max = vec_max_abs(st.d.data(), n);
  push_pair(st, 1.0);
  box_free_gradient(st.g_free.data(), st.g.data(), x, box, n);
  st.stop = stop_test(st, f_old, step_max, vec_max_abs(st.g_free.data(), n));
  return st.f;
}

}  // namespace nst
