// L-BFGS (Nocedal & Wright, Numerical Optimization, 2nd ed., Algorithm 7.4 and
// 7.5) for minimising an Objective over a float vector x of n values, one
// iteration per call so the caller can print progress, save images, stop and
// resume:
//
//   LbfgsOptions options;                        // m = 100, lr = 1, no line search
//   options.line_search = LineSearch::strong_wolfe;
//   LbfgsState state(n, options);
//   while (!state.stopped()) {
//     double loss = lbfgs_step(state, x, objective);  // loss = f(x) after the step
//     ...
//   }
//   std::cout << lbfgs_stop_name(state.stop);
//
// x belongs to the caller and must not change between steps (state.g is ∇f at x);
// after changing it (clamping pixels, a new scale of the same size), call
// lbfgs_restart.
//
// Memory: the history holds up to m pairs (s, y) of n values each: at
// 512x512x3 pixels and m = 100, 2 * 100 * 786432 * 4 B = 629 MB as float32, half
// that with options.bf16_history (each value rounded to bfloat16: the direction
// is a preconditioner, s and y to within 2^-8 are plenty, and ρ and γ
// are computed from the rounded pairs, so H stays positive definite), plus
// about 4 n floats of work space. Lower options.history to save more.
//
// The whole state is public plain data; save_state/load_state write and read it
// bit for bit, so a resumed run gives the same iterates as an uninterrupted one.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "optim/box.hpp"
#include "optim/objective.hpp"

namespace nst {

enum class LineSearch : int32_t { none = 0, strong_wolfe = 1 };

// Why the optimiser stopped; `running` until then.
enum class LbfgsStop : int32_t {
  running = 0,
  max_iterations,      // iteration == max_iterations
  max_evaluations,     // evaluations >= max_evaluations
  gradient_tolerance,  // max |g| <= grad_tolerance
  change_tolerance,    // |f - f_prev| <= change_tolerance * max(|f|, |f_prev|), from iteration 2
  step_tolerance,      // max |t d| <= step_tolerance, from iteration 2
  not_descent,         // no descent direction, even steepest descent (g = 0 or NaN)
  line_search_failed,  // no step met sufficient decrease; x is unchanged
  non_finite,          // f or ∇f became NaN or infinite
};
const char* lbfgs_stop_name(LbfgsStop stop);

struct LbfgsOptions {
  int history = 100;          // m, pairs kept (neural-style and torch.optim.LBFGS use 100)
  bool bf16_history = false;  // keep s and y as bfloat16 (half the memory)
  double lr = 1.0;            // fixed step; also the first trial step of the line search
  LineSearch line_search = LineSearch::none;
  int64_t max_iterations = 1000;
  int64_t max_evaluations = 0;  // 0: max_iterations * 5 / 4, as torch.optim.LBFGS
  double grad_tolerance = 1e-7;
  double change_tolerance = 1e-9;  // relative change of f
  double step_tolerance = 1e-9;    // absolute, in the units of x
  double min_curvature = 1e-10;    // a pair with yᵀs <= this is skipped
  double c1 = 1e-4;                // strong Wolfe constants
  double c2 = 0.9;
  int max_line_search_evaluations = 25;
};

// Throws nst::Error naming the bad option.
void check_lbfgs_options(const LbfgsOptions& options);

// One vector of the history: float32, or bfloat16 (vector_ops.hpp).
class HistoryVector {
 public:
  HistoryVector() = default;
  HistoryVector(const std::vector<float>& x);           // NOLINT: float32, as given
  HistoryVector(const float* x, int64_t n, bool bf16);  // x must already be bf16-rounded if bf16

  int64_t size() const { return bf16_ ? int64_t(b16_.size()) : int64_t(f32_.size()); }
  bool bf16() const { return bf16_; }
  float operator[](int64_t i) const;
  double dot(const float* b) const;           // Σ v[i] b[i] in double
  void add_to(float* y, double alpha) const;  // y[i] = float(y[i] + alpha v[i])
  std::vector<float> to_floats() const;
  const std::vector<uint16_t>& bf16_values() const { return b16_; }
  static HistoryVector from_bf16(std::vector<uint16_t> values);

 private:
  bool bf16_ = false;
  std::vector<float> f32_;
  std::vector<uint16_t> b16_;
};

struct LbfgsState {
  LbfgsState(int64_t n, const LbfgsOptions& options);

  LbfgsOptions options;
  int64_t n = 0;
  int64_t iteration = 0;    // iterations done
  int64_t evaluations = 0;  // calls of the objective
  LbfgsStop stop = LbfgsStop::running;
  bool evaluated = false;  // f and g hold f(x), ∇f(x) of the caller's x
  double f = 0;            // f(x)
  double f_prev = 0;       // f before the last iteration
  double t = 0;            // step length of the last iteration
  double h_diag = 1;       // γ = sᵀy / yᵀy of the newest pair; H0 = γ I
  std::vector<float> g;    // [n] ∇f(x)
  // Curvature pairs, oldest first: s_i = x_{i+1} - x_i = t d, y_i = g_{i+1} - g_i,
  // rho_i = 1 / y_iᵀs_i. At most options.history of each, n values each.
  std::vector<HistoryVector> s, y;
  std::vector<double> rho;

  // Work space, not part of the saved state.
  std::vector<float> d;       // [n] search direction, then s of the newest pair
  std::vector<float> g_old;   // [n] gradient before the step, then y
  std::vector<float> x0;      // [n] start of the line search
  std::vector<double> alpha;  // [m] two-loop coefficients
  std::vector<float> g_free;  // [n] projected gradient (with a box)

  bool stopped() const { return stop != LbfgsStop::running; }
  int64_t history_floats() const;  // values held in s and y now
  int64_t history_bytes() const;   // their bytes (2 per value in bf16)

  // Binary, versioned and checksummed; load_state replaces every saved field
  // (options included) and throws nst::Error on a corrupt state or another n.
  void save_state(std::ostream& out) const;
  void load_state(std::istream& in);
};

// One iteration: evaluates f at x first if needed, then d = -H g (two-loop
// recursion), steps x along d (fixed step or strong-Wolfe search), adds the
// pair (s, y) and tests the stopping rules. Returns f(x) at the new x; once
// stopped, returns f(x) and does nothing.
// With a box (an active one), the step is projected instead: see lbfgs_box.cpp.
double lbfgs_step(LbfgsState& state, float* x, const Objective& objective,
                  const Box* box = nullptr);

// Peak bytes an LbfgsState for n values holds once its history is full:
// 2 m n values of history (4 or 2 bytes each) and 3 n floats, plus n more with
// the line search (x0).
int64_t lbfgs_memory_bytes(int64_t n, const LbfgsOptions& options);

// Forgets the pairs and f, g (re-evaluated at the next step) and clears the stop
// reason; keeps the options and the iteration and evaluation counts.
void lbfgs_restart(LbfgsState& state);

// Calls lbfgs_step until the state stops; returns the final f(x).
double lbfgs_run(LbfgsState& state, float* x, const Objective& objective);

// d = -H g by the two-loop recursion over the pairs in state (N&W Algorithm 7.4).
void lbfgs_direction(float* d, const float* g, LbfgsState& state);

}  // namespace nst
