#include "optim/lbfgs.hpp"
#include "optim/lbfgs_internal.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <limits>
#include <ostream>
#include <utility>

#include "optim/line_search.hpp"
#include "optim/state_io.hpp"
#include "optim/vector_ops.hpp"
#include "tensor/check.hpp"

namespace nst {

const char* lbfgs_stop_name(LbfgsStop stop) {
  switch (stop) {
    case LbfgsStop::running:
      return "running";
    case LbfgsStop::max_iterations:
      return "max iterations reached";
    case LbfgsStop::max_evaluations:
      return "max function evaluations reached";
    case LbfgsStop::gradient_tolerance:
      return "gradient below tolerance";
    case LbfgsStop::change_tolerance:
      return "relative change of the loss below tolerance";
    case LbfgsStop::step_tolerance:
      return "step below tolerance";
    case LbfgsStop::not_descent:
      return "no descent direction";
    case LbfgsStop::line_search_failed:
      return "line search found no decrease";
    case LbfgsStop::non_finite:
      return "loss or gradient is not finite";
  }
  return "unknown";
}

void check_lbfgs_options(const LbfgsOptions& o) {
  NST_CHECK(o.history >= 1, "lbfgs: history (m) must be >= 1, got ", o.history);
  NST_CHECK(o.lr > 0 && std::isfinite(o.lr), "lbfgs: lr must be > 0 and finite, got ", o.lr);
  NST_CHECK(o.line_search == LineSearch::none || o.line_search == LineSearch::strong_wolfe,
            "lbfgs: unknown line search ", static_cast<int>(o.line_search));
  NST_CHECK(o.max_iterations >= 1, "lbfgs: max_iterations must be >= 1, got ", o.max_iterations);
  NST_CHECK(o.max_evaluations >= 0, "lbfgs: max_evaluations must be >= 0, got ", o.max_evaluations);
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

HistoryVector::HistoryVector(const std::vector<float>& x) : bf16_(false), f32_(x) {}

HistoryVector::HistoryVector(const float* x, int64_t n, bool bf16) : bf16_(bf16) {
  if (bf16) {
    b16_.resize(static_cast<size_t>(n));
    vec_to_bf16(b16_.data(), x, n);
  } else {
    f32_.assign(x, x + n);
  }
}

HistoryVector HistoryVector::from_bf16(std::vector<uint16_t> values) {
  HistoryVector v;
  v.bf16_ = true;
  v.b16_ = std::move(values);
  return v;
}

float HistoryVector::operator[](int64_t i) const {
  return bf16_ ? bf16_to_float(b16_[static_cast<size_t>(i)]) : f32_[static_cast<size_t>(i)];
}

double HistoryVector::dot(const float* b) const {
  return bf16_ ? vec_dot_bf16(b16_.data(), b, size()) : vec_dot(f32_.data(), b, size());
}

void HistoryVector::add_to(float* y, double alpha) const {
  if (bf16_)
    vec_axpy_bf16(y, alpha, b16_.data(), size());
  else
    vec_axpy(y, alpha, f32_.data(), size());
}

std::vector<float> HistoryVector::to_floats() const {
  if (!bf16_) return f32_;
  std::vector<float> out(b16_.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = bf16_to_float(b16_[i]);
  return out;
}

int64_t LbfgsState::history_floats() const { return static_cast<int64_t>(s.size() + y.size()) * n; }

int64_t LbfgsState::history_bytes() const {
  return history_floats() * (options.bf16_history ? 2 : 4);
}

namespace lbfgs_internal {

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

// Turns the work buffers into the newest pair: d -> s = t d, g_old -> y = g - g_old
// (rounded to bf16 first when the history is kept so: ρ and γ are then those of
// the stored pair). Keeps it only if yᵀs > min_curvature, so H stays positive
// definite (N&W §7.2).
void push_pair(LbfgsState& st, double t) {
  const int64_t n = st.n;
  const bool bf16 = st.options.bf16_history;
  vec_scale(st.d.data(), t, st.d.data(), n);
  vec_add_scaled(st.g_old.data(), st.g.data(), -1.0, st.g_old.data(), n);
  if (bf16) {
    vec_round_bf16(st.d.data(), n);
    vec_round_bf16(st.g_old.data(), n);
  }
  const double ys = vec_dot(st.g_old.data(), st.d.data(), n);
  if (!(ys > st.options.min_curvature)) return;
  const double yy = vec_dot(st.g_old.data(), st.g_old.data(), n);
  if (st.s.size() == static_cast<size_t>(st.options.history)) {  // full: the oldest goes
    st.s.erase(st.s.begin());
    st.y.erase(st.y.begin());
    st.rho.erase(st.rho.begin());
  }
  st.s.emplace_back(st.d.data(), n, bf16);
  st.y.emplace_back(st.g_old.data(), n, bf16);
  st.rho.push_back(1.0 / ys);
  st.h_diag = ys / yy;
}

// Stopping rules after an iteration, first match wins (g_max: max |∇f|, or of
// the projected gradient under a box).
LbfgsStop stop_test(const LbfgsState& st, double f_old, double step_max, double g_max) {
  const LbfgsOptions& o = st.options;
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
// (then x, f and g are back where they were). With a box the path is
// t -> P(x0 + t d) and φ'(t) the one-sided slope: g · d over the components
// strictly inside their bounds.
double line_search_step(LbfgsState& st, float* x, const Objective& objective, double t_init,
                        double gtd, const Box* box) {
  const int64_t n = st.n;
  const LbfgsOptions& o = st.options;
  st.x0.assign(x, x + n);
  const double f_old = st.f;
  const auto move_to = [&](double t) {
    vec_add_scaled(x, st.x0.data(), t, st.d.data(), n);
    if (box) box_project(x, *box, n);
  };
  auto phi = [&](double t, double* dphi) {
    move_to(t);
    const double f = evaluate(st, x, objective);
    if (!box) {
      *dphi = vec_dot(st.g.data(), st.d.data(), n);
    } else {
      double slope = 0;
      for (int64_t i = 0; i < n; ++i)
        if (x[i] > box->lower[size_t(i)] && x[i] < box->upper[size_t(i)])
          slope += double(st.g[size_t(i)]) * st.d[size_t(i)];
      *dphi = slope;
    }
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
    move_to(r.t);
    st.f = evaluate(st, x, objective);
  }
  return r.t;
}

// The first step, min(1, 1/‖g‖₁) lr, moves the n values by lr in all: on a large
// picture each by far less than float resolution, so f does not change (at
// 1024x768 from 3e8, flat to the last bit) and a search that starts there only
// shrinks it and fails. The start to search from instead: the step that moves the
// fastest value by one grey level, 1/255 of its box; without a box by 1/256 of
// the largest |x| (of 1 when x is near 0). 0 if d is zero.
double level_step(const LbfgsState& st, const float* x, const Box* box) {
  const int64_t n = st.n;
  const float* d = st.d.data();
  if (!box) {
    const double d_max = vec_max_abs(d, n);
    return d_max > 0 ? std::max(1.0, double(vec_max_abs(x, n))) / (256.0 * d_max) : 0.0;
  }
  double rate = 0;  // max |d_i| / (u_i - l_i)
  for (int64_t i = 0; i < n; ++i) {
    const double width = double(box->upper[size_t(i)]) - box->lower[size_t(i)];
    if (width > 0) rate = std::max(rate, std::fabs(double(d[i])) / width);
  }
  return rate > 0 ? 1.0 / (255.0 * rate) : 0.0;
}

double searched_step(LbfgsState& st, float* x, const Objective& objective, double t_init, double gtd,
                     const Box* box) {
  double t = line_search_step(st, x, objective, t_init, gtd, box);
  if (t == 0 && st.iteration == 0) {
    const double t_level = level_step(st, x, box);
    if (t_level > t_init) t = line_search_step(st, x, objective, t_level, gtd, box);
  }
  return t;
}

}  // namespace lbfgs_internal

using namespace lbfgs_internal;

// Two-loop recursion, N&W Algorithm 7.4, pairs i = 0 (oldest) .. k-1 (newest):
//   q = -g;  for i = k-1..0: α_i = ρ_i s_iᵀq,  q -= α_i y_i
//   r = γ q; for i = 0..k-1: β = ρ_i y_iᵀr,    r += (α_i - β) s_i;   d = r
void lbfgs_direction(float* d, const float* g, LbfgsState& st) {
  const int64_t n = st.n;
  const size_t k = st.s.size();
  st.alpha.assign(k, 0.0);
  vec_scale(d, -1.0, g, n);
  for (size_t i = k; i-- > 0;) {
    st.alpha[i] = st.rho[i] * st.s[i].dot(d);
    st.y[i].add_to(d, -st.alpha[i]);
  }
  vec_scale(d, st.h_diag, d, n);
  for (size_t i = 0; i < k; ++i) {
    const double beta = st.rho[i] * st.y[i].dot(d);
    st.s[i].add_to(d, st.alpha[i] - beta);
  }
}

double lbfgs_step(LbfgsState& st, float* x, const Objective& objective, const Box* box) {
  NST_CHECK(x != nullptr, "lbfgs: x is null");
  NST_CHECK(static_cast<bool>(objective), "lbfgs: the objective is empty");
  check_lbfgs_options(st.options);
  const int64_t n = st.n;
  NST_CHECK(st.g.size() == static_cast<size_t>(n) && st.s.size() == st.y.size() &&
                st.s.size() == st.rho.size(),
            "lbfgs: inconsistent state (n = ", n, ", g has ", st.g.size(), ", pairs ", st.s.size(),
            "/", st.y.size(), "/", st.rho.size(), ")");
  while (st.s.size() > static_cast<size_t>(st.options.history)) {  // history was lowered
    st.s.erase(st.s.begin());
    st.y.erase(st.y.begin());
    st.rho.erase(st.rho.begin());
  }
  if (!st.evaluated) {
    st.f = st.f_prev = evaluate(st, x, objective);
    st.evaluated = true;
    const double g_max = vec_max_abs(st.g.data(), n);
    if (!std::isfinite(st.f) || !std::isfinite(g_max))
      st.stop = LbfgsStop::non_finite;
    else if (g_max <= st.options.grad_tolerance)
      st.stop = LbfgsStop::gradient_tolerance;
  }
  if (st.stopped()) return st.f;
  if (box && box->active()) return lbfgs_projected_step(st, x, objective, *box);

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
    t = searched_step(st, x, objective, t_init, gtd, nullptr);
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
  st.stop = stop_test(st, f_old, step_max, vec_max_abs(st.g.data(), n));
  return st.f;
}

int64_t lbfgs_memory_bytes(int64_t n, const LbfgsOptions& options) {
  // s, y: 2 m n values; g, d, g_old: 3 n floats; x0: n floats.
  const int64_t history = 2 * int64_t(options.history) * n * (options.bf16_history ? 2 : 4);
  const int64_t work = 3 + (options.line_search == LineSearch::strong_wolfe ? 1 : 0);
  return history + work * n * int64_t(sizeof(float));
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
constexpr uint32_t kLbfgsVersion = 2;  // 2: bf16_history, pairs in their own format
}  // namespace

void LbfgsState::save_state(std::ostream& out) const {
  NST_CHECK(s.size() == y.size() && s.size() == rho.size() && g.size() == static_cast<size_t>(n),
            "lbfgs: cannot save an inconsistent state");
  StateWriter w(out, kLbfgsMagic, kLbfgsVersion);
  const LbfgsOptions& o = options;
  w.value(int32_t(o.history));
  w.value(uint8_t(o.bf16_history ? 1 : 0));
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
    NST_CHECK(s[i].size() == n && y[i].size() == n && s[i].bf16() == o.bf16_history &&
                  y[i].bf16() == o.bf16_history,
              "lbfgs: cannot save a pair of the wrong length or format");
    w.value(rho[i]);
    for (const HistoryVector* v : {&s[i], &y[i]}) {
      if (o.bf16_history)
        w.bytes(v->bf16_values().data(), v->bf16_values().size() * sizeof(uint16_t));
      else
        w.floats(v->to_floats());
    }
  }
  w.finish("lbfgs");
}

void LbfgsState::load_state(std::istream& in) {
  StateReader r(in, kLbfgsMagic, kLbfgsVersion, "lbfgs");
  LbfgsOptions o;
  o.history = r.value<int32_t>();
  const auto bf16_flag = r.value<uint8_t>();
  r.expect(bf16_flag <= 1, "bf16_history");
  o.bf16_history = bf16_flag == 1;
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
  NST_CHECK(n_saved == n, "lbfgs: the state is for n = ", n_saved,
            " values, this optimiser has n = ", n);
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
    for (auto* list : {&st.s, &st.y}) {
      if (o.bf16_history) {
        std::vector<uint16_t> v(static_cast<size_t>(n));
        r.bytes(v.data(), v.size() * sizeof(uint16_t));
        list->push_back(HistoryVector::from_bf16(std::move(v)));
      } else {
        list->push_back(r.floats(n));
      }
    }
  }
  r.finish();
  *this = std::move(st);
}

}  // namespace nst
