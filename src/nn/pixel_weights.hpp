// The pixel weights of a region mask, shared by the ops that take one
// (masked_gram, channel_mean, covariance): mask [1, 1, H, W] for x [N, C, H, W],
// every value finite and >= 0, not all zero; an undefined mask weighs every
// pixel 1. Errors start with `op`.
#pragma once

#include <vector>

#include "tensor/tensor.hpp"

namespace nst {

// The H*W weights; `sum` receives their sum (in double).
std::vector<float> pixel_weights(const char* op, const Tensor& x, const Tensor& mask, double& sum);

}  // namespace nst
