// The 2x2 max pool's loops compiled for one instruction set (NST_ARCH).
#include "nn/kernels/pool_kernel.hpp"
#include "nn/kernels/pool_rows.hpp"

namespace nst::kernels {

template <class Arch>
void MaxPool2x2Kernel::operator()(Arch, float* out, uint8_t* at, const float* plane, int64_t W,
                                  int64_t OH, int64_t OW) const {
  pool_detail::max_2x2_plane(out, at, plane, W, OH, OW);
}

template <class Arch>
void MaxPool2x2BackwardKernel::operator()(Arch, float* dplane, const float* d, const uint8_t* at,
                                          int64_t W, int64_t OH, int64_t OW, bool accumulate) const {
  pool_detail::max_2x2_plane_backward(dplane, d, at, W, OH, OW, accumulate);
}

NST_INSTANTIATE_SIMD_KERNEL(MaxPool2x2Kernel, void, float*, uint8_t*, const float*, int64_t,
                            int64_t, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(MaxPool2x2BackwardKernel, void, float*, const float*, const uint8_t*,
                            int64_t, int64_t, int64_t, bool)

}  // namespace nst::kernels
