#include "nst/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <ostream>
#include <utility>

#include "nst/line_search.hpp"
#include "nst/state_io.hpp"
#include "nst/vector_ops.hpp"
#include "tensor/check.hpp"

namespace nst {

const char* lbfgs_stop_name(LbfgsStop stop) {
  switch (stop) {
    case LbfgsStop::running: return "running";
    case LbfgsStop::max_iterations: return "max iterations reached";
    case LbfgsStop::max_evaluations: return "max function evaluations reached";
    case LbfgsStop::gradient_tolerance: return "gradient below tolerance";
    case LbfgsStop::change_tolerance: return "relative change of the loss below tolerance";
    case LbfgsStop::step_tolerance: return "step below tolerance";
    case LbfgsStop::not_descent: return "no descent direction";
    case LbfgsStop::line_search_failed: return "line search found no decrease";
    case LbfgsStop::non_finite: return "loss or gradient is not finite";
  }
  return "unknown";
}

void check_lbfgs_options(const LbfgsOptions& o) {
  NST_CHECK(o.history >= 1, "lbfgs: history (m) must be >= 1, got ", o.history);
  NST_CHECK(o.lr > 0 && std::isfinite(o.lr), "lbfgs: lr must be > 0 and finite, got ", o.lr);
  NST_CHECK(o.line_search == LineSearch::none || o.line_search == LineSearch::strong_wolfe,
            "lbfgs: unknown line search ", static_cast<int>(o.line_search));
  NST_CHECK(o.max_iterations >= 1, "lbfgs: max_iterations must be >= 1, got ",
            o.max_iterations);
  NST_CHECK(o.max_evaluations >= 0, "lbfgs: max_evaluations must be >= 0, got ",
            o.max_evaluations);
  NST_CHECK(o.grad_tolerance >= 0 && o.change_tolerance >= 0 && o.step_tolerance >= 0 &&
                o.min_curvature >= 0,
            "lbfgs: tolerances must be >= 0, got grad ", o.grad_tolerance, ", change ",
            o.change_tolerance, ", step ", o.step_tolerance, ", curvature ", o.min_curvature);
  check_line_search_options({o.c1, o.c2, o.max_line_search_evaluations, 0}, "lbfgs");
}

LbfgsState::LbfgsState(int64_t n_, const LbfgsOptions& options_) : options(options_), n(n_) {
  NST_CHECK(n > 0, "lbfgs: the variable needs n > 0 values, got n = ", n);
  check_lbfgs_options(options);
  g.assign(static_cast<size_t>(n), 0.0f);
}

int64_t LbfgsState::history_floats() const {
  return static_cast<int64_t>(s.size() + y.size()) * n;
}

namespace {

int64_t max_evaluations(const LbfgsOptions& o) {
  if (o.max_evaluations > 0) return o.max_evaluations;
  const int64_t limit = std::numeric_limits<int64_t>::max() / 5;
  return o.max_iterations > limit ? std::numeric_limits<int64_t>::max() : o.max_iterations * 5 / 4;
}

double evaluate(LbfgsState& st, const float* x, const Objective& objective) {
  ++st.evaluations;
  return objective(x, st.g.data());
}

void clear_history(LbfgsState& st) {
  st.s.clear();
  st.y.clear();
  st.rho.clear();
  st.h_diag = 1;
}

// Turns the work buffers into the newest pair: d -> s = t d, g_old -> y = g - g_old.
// Keeps it only if yᵀs > min_curvature, so H stays positive definite (N&W §7.2).
void push_pair(LbfgsState& st, double t) {
  const int64_t n = st.n;
  vec_scale(st.d.data(), t, st.d.data(), n);
  vec_add_scaled(st.g_old.data(), st.g.data(), -1.0, st.g_old.data(), n);
  const double ys = vec_dot(st.g_old.data(), st.d.data(), n);
  if (!(ys > st.options.min_curvature)) return;
  const double yy = vec_dot(st.g_old.data(), st.g_old.data(), n);
  if (st.s.size() == static_cast<size_t>(st.options.history)) {
    // Full: the oldest pair's buffers become the work buffers.
    std::rotate(st.s.begin(), st.s.begin() + 1, st.s.end());
    std::rotate(st.y.begin(), st.y.begin() + 1, st.y.end());
    st.rho.erase(st.rho.begin());
    std::swap(st.s.back(), st.d);
    std::swap(st.y.back(), st.g_old);
  } else {
    st.s.push_back(std::move(st.d));
    st.y.push_back(std::move(st.g_old));
    st.d.clear();
    st.g_old.clear();
  }
  st.rho.push_back(1.0 / ys);
  st.h_diag = ys / yy;
}

// Stopping rules after an iteration, first match wins.
LbfgsStop stop_test(const LbfgsState& st, double f_old, double step_max) {
  const LbfgsOptions& o = st.options;
  const double g_max = vec_max_abs(st.g.data(), st.n);
  if (!std::isfinite(st.f) || !std::isfinite(g_max)) return LbfgsStop::non_finite;
  if (g_max <= o.grad_tolerance) return LbfgsStop::gradient_tolerance;
  // The first step is deliberately short (min(1, 1/‖g‖₁) lr), so the change and
  // step tests start at the second iteration.
  if (st.iteration >= 2) {
    const double scale = std::max(std::fabs(st.f), std::fabs(f_old));
    if (std::fabs(st.f - f_old) <= o.change_tolerance * scale) return LbfgsStop::change_tolerance;
    if (step_max <= o.step_tolerance) return LbfgsStop::step_tolerance;
  }
  if (st.iteration >= o.max_iterations) return LbfgsStop::max_iterations;
  if (st.evaluations >= max_evaluations(o)) return LbfgsStop::max_evaluations;
  return LbfgsStop::running;
}

// Moves x along d by a strong-Wolfe step; returns the step, 0 if the search failed
// (then x, f and g are back where they were).
double line_search_step(LbfgsState& st, float* x, const Objective& objective, double t_init,
                        double gtd) {
  const int64_t n = st.n;
  const LbfgsOptions& o = st.options;
  st.x0.assign(x, x + n);
  const double f_old = st.f;
  auto phi = [&](double t, double* dphi) {
    vec_add_scaled(x, st.x0.data(), t, st.d.data(), n);
    const double f = evaluate(st, x, objective);
    *dphi = vec_dot(st.g.data(), st.d.data(), n);
    return f;
  };
  LineSearchOptions ls;
  ls.c1 = o.c1;
  ls.c2 = o.c2;
  const int64_t budget = std::max<int64_t>(1, max_evaluations(o) - st.evaluations);
  ls.max_evaluations = static_cast<int>(std::min<int64_t>(o.max_line_search_evaluations, budget));
  const double d_max = vec_max_abs(st.d.data(), n);
  ls.min_interval = d_max > 0 ? o.step_tolerance / d_max : 0;
  const LineSearchResult r = strong_wolfe_line_search(phi, f_old, gtd, t_init, ls);
  if (!(r.t > 0)) {
    std::copy(st.x0.begin(), st.x0.end(), x);
    st.g = st.g_old;
    st.f = f_old;
    return 0;
  }
  if (r.last_evaluated) {
    st.f = r.f;
  } else {
    vec_add_scaled(x, st.x0.data(), r.t, st.d.data(), n);
    st.f = evaluate(st, x, objective);
  }
  return r.t;
}

}  // namespace

// Two-loop recursion, N&W Algorithm 7.4, pairs i = 0 (oldest) .. k-1 (newest):
//   q = -g;  for i = k-1..0: α_i = ρ_i s_iᵀq,  q -= α_i y_i
//   r = γ q; for i = 0..k-1: β = ρ_i y_iᵀr,    r += (α_i - β) s_i;   d = r
void lbfgs_direction(float* d, const float* g, LbfgsState& st) {
  const int64_t n = st.n;
  const size_t k = st.s.size();
  st.alpha.assign(k, 0.0);
  vec_scale(d, -1.0, g, n);
  for (size_t i = k; i-- > 0;) {
    st.alpha[i] = st.rho[i] * vec_dot(st.s[i].data(), d, n);
    vec_axpy(d, -st.alpha[i], st.y[i].data(), n);
  }
  vec_scale(d, st.h_diag, d, n);
  for (size_t i = 0; i < k; ++i) {
    const double beta = st.rho[i] * vec_dot(st.y[i].data(), d, n);
    vec_axpy(d, st.alpha[i] - beta, st.s[i].data(), n);
  }
}

double lbfgs_step(LbfgsState& st, float* x, const Objective& objective) {
  NST_CHECK(x != nullptr, "lbfgs: x is null");
  NST_CHECK(static_cast<bool>(objective), "lbfgs: the objective is empty");
  check_lbfgs_options(st.options);
  const int64_t n = st.n;
  NST_CHECK(st.g.size() == static_cast<size_t>(n) && st.s.size() == st.y.size() &&
                st.s.size() == st.rho.size(),
            "lbfgs: inconsistent state (n = ", n, ", g has ", st.g.size(), ", pairs ",
            st.s.size(), "/", st.y.size(), "/", st.rho.size(), ")");
  while (st.s.size() > static_cast<size_t>(st.options.history)) {  // history was lowered
    st.s.erase(st.s.begin());
    st.y.erase(st.y.begin());
    st.rho.erase(st.rho.begin());
  }
  if (!st.evaluated) {
    st.f = st.f_prev = evaluate(st, x, objective);
    st.evaluated = true;
    const double g_max = vec_max_abs(st.g.data(), n);
    if (!std::isfinite(st.f) || !std::isfinite(g_max)) st.stop = LbfgsStop::non_finite;
    else if (g_max <= st.options.grad_tolerance) st.stop = LbfgsStop::gradient_tolerance;
  }
  if (st.stopped()) return st.f;

  st.d.resize(static_cast<size_t>(n));
  lbfgs_direction(st.d.data(), st.g.data(), st);
  double gtd = vec_dot(st.g.data(), st.d.data(), n);
  if (!(gtd < 0) && !st.s.empty()) {  // H lost positive definiteness: restart from -g
    clear_history(st);
    lbfgs_direction(st.d.data(), st.g.data(), st);
    gtd = vec_dot(st.g.data(), st.d.data(), n);
  }
  if (!(gtd < 0)) {
    st.stop = LbfgsStop::not_descent;
    return st.f;
  }
  // torch.optim.LBFGS: first step min(1, 1/‖g‖₁) lr, then lr.
  const double lr = st.options.lr;
  const double t_init =
      st.iteration == 0 ? std::min(1.0, 1.0 / vec_sum_abs(st.g.data(), n)) * lr : lr;
  const double f_old = st.f;
  st.g_old = st.g;
  double t = t_init;
  if (st.options.line_search == LineSearch::none) {
    vec_axpy(x, t, st.d.data(), n);
    st.f = evaluate(st, x, objective);
  } else {
    t = line_search_step(st, x, objective, t_init, gtd);
    if (t == 0) {
      st.stop = LbfgsStop::line_search_failed;
      return st.f;
    }
  }
  ++st.iteration;
  st.t = t;
  st.f_prev = f_old;
  const double step_max = std::fabs(t) * vec_max_abs(st.d.data(), n);
  push_pair(st, t);
  st.stop = stop_test(st, f_old, step_max);
  return st.f;
}

int64_t lbfgs_memory_bytes(int64_t n, const LbfgsOptions& options) {
  // s, y: 2 m n; g, d, g_old: 3 n; x0: n.
  const int64_t vectors = 2 * int64_t(options.history) + 3 +
                          (options.line_search == LineSearch::strong_wolfe ? 1 : 0);
  return vectors * n * int64_t(sizeof(float));
}

void lbfgs_restart(LbfgsState& state) {
  clear_history(state);
  state.evaluated = false;
  state.stop = LbfgsStop::running;
}

double lbfgs_run(LbfgsState& state, float* x, const Objective& objective) {
  double f = lbfgs_step(state, x, objective);
  while (!state.stopped()) f = lbfgs_step(state, x, objective);
  return f;
}

// ---------------------------------------------------------------------------
// State file: "NSTLBFGS" | version | options | counters | f, f_prev, t, γ | g |
// pair count | (ρ, s, y) per pair | checksum. See state_io.hpp.
// ---------------------------------------------------------------------------

namespace {
constexpr char kLbfgsMagic[9] = "NSTLBFGS";
constexpr uint32_t kLbfgsVersion = 1;
}  // namespace

void LbfgsState::save_state(std::ostream& out) const {
  NST_CHECK(s.size() == y.size() && s.size() == rho.size() && g.size() == static_cast<size_t>(n),
            "lbfgs: cannot save an inconsistent state");
  StateWriter w(out, kLbfgsMagic, kLbfgsVersion);
  const LbfgsOptions& o = options;
  w.value(int32_t(o.history));
  w.value(o.lr);
  w.value(int32_t(o.line_search));
  w.value(o.max_iterations);
  w.value(o.max_evaluations);
  w.value(o.grad_tolerance);
  w.value(o.change_tolerance);
  w.value(o.step_tolerance);
  w.value(o.min_curvature);
  w.value(o.c1);
  w.value(o.c2);
  w.value(int32_t(o.max_line_search_evaluations));
  w.value(n);
  w.value(iteration);
  w.value(evaluations);
  w.value(int32_t(stop));
  w.value(uint8_t(evaluated ? 1 : 0));
  w.value(f);
  w.value(f_prev);
  w.value(t);
  w.value(h_diag);
  w.floats(g);
  w.value(int64_t(s.size()));
  for (size_t i = 0; i < s.size(); ++i) {
    NST_CHECK(s[i].size() == g.size() && y[i].size() == g.size(),
              "lbfgs: cannot save a pair of the wrong length");
    w.value(rho[i]);
    w.floats(s[i]);
    w.floats(y[i]);
  }
  w.finish("lbfgs");
}

void LbfgsState::load_state(std::istream& in) {
  StateReader r(in, kLbfgsMagic, kLbfgsVersion, "lbfgs");
  LbfgsOptions o;
  o.history = r.value<int32_t>();
  o.lr = r.value<double>();
  o.line_search = static_cast<LineSearch>(r.value<int32_t>());
  o.max_iterations = r.value<int64_t>();
  o.max_evaluations = r.value<int64_t>();
  o.grad_tolerance = r.value<double>();
  o.change_tolerance = r.value<double>();
  o.step_tolerance = r.value<double>();
  o.min_curvature = r.value<double>();
  o.c1 = r.value<double>();
  o.c2 = r.value<double>();
  o.max_line_search_evaluations = r.value<int32_t>();
  try {
    check_lbfgs_options(o);
  } catch (const Error& e) {
    fail("lbfgs: corrupt state: ", e.what());
  }
  const auto n_saved = r.value<int64_t>();
  NST_CHECK(n_saved == n, "lbfgs: the state is for n = ", n_saved, " values, this optimiser has n = ",
            n);
  LbfgsState st(n, o);
  st.iteration = r.value<int64_t>();
  r.expect(st.iteration >= 0, "iteration");
  st.evaluations = r.value<int64_t>();
  r.expect(st.evaluations >= 0, "evaluations");
  const auto stop_code = r.value<int32_t>();
  r.expect(stop_code >= 0 && stop_code <= int32_t(LbfgsStop::non_finite), "stop");
  st.stop = static_cast<LbfgsStop>(stop_code);
  const auto evaluated_flag = r.value<uint8_t>();
  r.expect(evaluated_flag <= 1, "evaluated");
  st.evaluated = evaluated_flag == 1;
  st.f = r.value<double>();
  st.f_prev = r.value<double>();
  st.t = r.value<double>();
  st.h_diag = r.value<double>();
  r.expect(st.h_diag > 0 && std::isfinite(st.h_diag), "h_diag");
  st.g = r.floats(n);
  const auto pairs = r.value<int64_t>();
  r.expect(pairs >= 0 && pairs <= o.history, "pair count");
  for (int64_t i = 0; i < pairs; ++i) {
    const auto rho_i = r.value<double>();
    r.expect(rho_i > 0 && std::isfinite(rho_i), "rho");
    st.rho.push_back(rho_i);
    st.s.push_back(r.floats(n));
    st.y.push_back(r.floats(n));
  }
  r.finish();
  *this = std::move(st);
}

}  // namespace nst
