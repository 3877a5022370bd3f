// The function the optimisers minimise.
//
// The variable is a flat float vector x of n values (for style transfer: the
// image, NCHW, flattened). An Objective returns f(x) and overwrites grad[0..n)
// with ∇f(x); it must write every element. f is a double so that small
// relative changes of large losses stay visible to the stopping tests.
//
//   Objective f = [&](const float* x, float* grad) -> double { ... };
//   LbfgsState state(n, options);
//   while (!state.stopped()) double loss = lbfgs_step(state, x, f);
#pragma once

#include <functional>

namespace nst {

using Objective = std::function<double(const float* x, float* grad)>;

}  // namespace nst
