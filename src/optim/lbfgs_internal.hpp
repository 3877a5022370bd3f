// Pieces of L-BFGS shared by its plain step (lbfgs.cpp) and its projected step
// under a box (lbfgs_box.cpp). Internal to src/optim.
#pragma once

#include <cstdint>

#include "optim/lbfgs.hpp"

namespace nst {

// One projected iteration (lbfgs_box.cpp); lbfgs_step calls it once f and g hold
// f(x), ∇f(x) and nothing has stopped the run.
double lbfgs_projected_step(LbfgsState& st, float* x, const Objective& objective, const Box& box);

namespace lbfgs_internal {

int64_t max_evaluations(const LbfgsOptions& o);
// f(x), with g = ∇f(x) into st.g; counts the evaluation.
double evaluate(LbfgsState& st, const float* x, const Objective& objective);
void clear_history(LbfgsState& st);
// The work buffers d (times t) and g - g_old become the newest pair, if yᵀs > min_curvature.
void push_pair(LbfgsState& st, double t);
LbfgsStop stop_test(const LbfgsState& st, double f_old, double step_max, double g_max);
// A strong-Wolfe step from x0 = x along d (projected onto the box when there is
// one); the step, or 0 when it failed (x, f, g restored). x0 holds the start after.
double line_search_step(LbfgsState& st, float* x, const Objective& objective, double t_init,
                        double gtd, const Box* box);
// Where a first search that failed starts again: the step that moves the
// fastest value along d by one grey level (1/255 of its box; without a box
// 1/256 of max(1, max |x|)).
double level_step(const LbfgsState& st, const float* x, const Box* box);
// line_search_step, and at the first iteration, when that failed, again from
// level_step if it is longer.
double searched_step(LbfgsState& st, float* x, const Objective& objective, double t_init, double gtd,
                     const Box* box);

}  // namespace lbfgs_internal

}  // namespace nst
