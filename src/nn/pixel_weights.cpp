#include "nn/pixel_weights.hpp"

#include <cmath>

#include "tensor/check.hpp"

namespace nst {

std::vector<float> pixel_weights(const char* op, const Tensor& x, const Tensor& mask, double& sum) {
  NST_CHECK(x.rank() == 4 && x.numel() > 0, op, ": x must be a non-empty [N, C, H, W], got ",
            x.shape().to_string());
  const int64_t M = x.h() * x.w();
  if (!mask.defined()) {
    sum = double(M);
    return std::vector<float>(static_cast<size_t>(M), 1.0f);
  }
  NST_CHECK(mask.rank() == 4 && mask.dim(0) == 1 && mask.dim(1) == 1 && mask.dim(2) == x.h() &&
                mask.dim(3) == x.w(),
            op, ": mask ", mask.shape().to_string(), " must be [1, 1, H, W] = [1, 1, ", x.h(), ", ", x.w(),
            "] for x ", x.shape().to_string());
  sum = 0.0;
  for (int64_t p = 0; p < M; ++p) {
    NST_CHECK(std::isfinite(mask[p]) && mask[p] >= 0.0f, op, ": mask value ", mask[p], " at pixel ", p,
              " (masks are >= 0)");
    sum += double(mask[p]);
  }
  NST_CHECK(sum > 0.0, op, ": the mask is zero everywhere");
  return std::vector<float>(mask.data(), mask.data() + M);
}

}  // namespace nst
