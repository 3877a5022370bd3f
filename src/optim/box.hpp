// A box constraint lower <= x <= upper, element by element: what keeps an
// image's pixels displayable (0..255) while it is optimised, so that the
// picture written is the one the optimiser scored.
//
// With a box, L-BFGS takes projected steps (lbfgs_step: the direction from the
// free components only, x = P(x + t d), pairs from the actual moves) and Adam
// clamps after each update (adam_step).
#pragma once

#include <cstdint>
#include <vector>

namespace nst {

struct Box {
  std::vector<float> lower, upper;  // n values each, lower <= upper; both empty: no box
  bool active() const { return !lower.empty(); }
};

// Throws nst::Error unless the box is empty or has n values on each side with
// lower <= upper, all finite.
void check_box(const Box& box, int64_t n);

// x = min(max(x, lower), upper).
void box_project(float* x, const Box& box, int64_t n);

// Whether component i is held at a bound: x at the lower bound with g > 0 (a
// descent step would leave the box below), or at the upper bound with g < 0.
inline bool box_blocked(float x, float g, float lower, float upper) {
  return (x <= lower && g > 0.0f) || (x >= upper && g < 0.0f);
}

// out = g with the blocked components zeroed: the projected gradient, whose
// zero is the box-constrained optimum's first-order condition. out may be g.
void box_free_gradient(float* out, const float* g, const float* x, const Box& box, int64_t n);

}  // namespace nst
