// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
// Algorithm 1) over a float vector x of n values, one step per call:
//
//   AdamOptions options;           // lr = 10 (pixel units), β1 0.9, β2 0.999, ε 1e-8
//   AdamState state(n, options);
//   while (!state.stopped()) double loss = adam_step(state, x, objective);
//
// Memory: m and v, 2 n floats, plus n floats of gradient work space.
// The whole state is public plain data; save_state/load_state write and read it
// bit for bit, so a resumed run gives the same iterates as an uninterrupted one.
#pragma once

#include <cmath>
#include <cstdint>
#include <iosfwd>
#include <vector>

#include "optim/box.hpp"
#include "optim/objective.hpp"

namespace nst {

enum class AdamStop : int32_t {
  running = 0,
  max_iterations,  // iteration == max_iterations
  non_finite,      // f or ∇f became NaN or infinite; x was not updated
};
const char* adam_stop_name(AdamStop stop);

struct AdamOptions {
  double lr = 10.0;  // step size α, in the units of x (pixel values)
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  int64_t max_iterations = 1000;
};

// Throws nst::Error naming the bad option.
void check_adam_options(const AdamOptions& options);

struct AdamState {
  AdamState(int64_t n, const AdamOptions& options);

  AdamOptions options;
  int64_t n = 0;
  int64_t iteration = 0;  // t, steps taken
  AdamStop stop = AdamStop::running;
  double f = 0;          // f(x) before the last step
  std::vector<float> m;  // [n] first-moment estimate
  std::vector<float> v;  // [n] second-moment estimate

  std::vector<float> g;  // [n] work space: ∇f(x) of the last step (not saved)

  bool stopped() const { return stop != AdamStop::running; }

  // Binary, versioned and checksummed; load_state replaces every saved field
  // (options included) and throws nst::Error on a corrupt state or another n.
  void save_state(std::ostream& out) const;
  void load_state(std::istream& in);
};

// Bytes an AdamState for n values holds: m, v and g, 3 n floats.
inline int64_t adam_memory_bytes(int64_t n) { return 3 * n * int64_t(sizeof(float)); }

// One step: evaluates f(x) and g = ∇f(x), then updates m, v and x (adam_update).
// Returns f(x) at the x it was called with; once stopped, returns f and does nothing.
// With an active box, x is clamped into it after the update.
double adam_step(AdamState& state, float* x, const Objective& objective,
                 const Box* box = nullptr);

// Element-wise Adam update at step t >= 1 (t counts this step), x, m, v [n], g [n]:
//   m = β1 m + (1 - β1) g,   v = β2 v + (1 - β2) g²
//   x -= lr m̂ / (√v̂ + ε),   m̂ = m / (1 - β1ᵗ),  v̂ = v / (1 - β2ᵗ)
// computed in double per element, stored in float. Deterministic for any thread count.
void adam_update(float* x, float* m, float* v, const float* g, int64_t n, int64_t t,
                 const AdamOptions& options);

// The same formula as plain loops in the scalar type T (tests run it in double).
template <class T>
void adam_update_reference(T* x, T* m, T* v, const T* g, int64_t n, int64_t t,
                           const AdamOptions& o) {
  const T b1 = T(o.beta1), b2 = T(o.beta2);
  const T c1 = 1 - std::pow(b1, T(t)), c2 = 1 - std::pow(b2, T(t));
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    const T m_hat = m[i] / c1;
    const T v_hat = v[i] / c2;
    x[i] -= T(o.lr) * m_hat / (std::sqrt(v_hat) + T(o.eps));
  }
}

}  // namespace nst
