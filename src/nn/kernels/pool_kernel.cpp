// The 2x2 max pool's loops in the plain build (ScalarArch).
#include "nn/kernels/pool_kernel.hpp"
#include "nn/kernels/pool_rows.hpp"

namespace nst::kernels {

void MaxPool2x2Kernel::operator()(ScalarArch, float* out, uint8_t* at, const float* plane,
                                  int64_t W, int64_t OH, int64_t OW) const {
  pool_detail::max_2x2_plane(out, at, plane, W, OH, OW);
}

void MaxPool2x2BackwardKernel::operator()(ScalarArch, float* dplane, const float* d,
                                          const uint8_t* at, int64_t W, int64_t OH, int64_t OW,
                                          bool accumulate) const {
  pool_detail::max_2x2_plane_backward(dplane, d, at, W, OH, OW, accumulate);
}

}  // namespace nst::kernels
