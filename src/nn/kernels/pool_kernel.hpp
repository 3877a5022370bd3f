// SIMD functors for the 2x2, stride-2 max pool of one plane (see dispatch.hpp
// for the pattern). The loops are plain C++ (pool_rows.hpp), the same for
// every level: each instantiation is that code compiled with its level's -m
// flags (pool_kernel.simd.cpp; the backward with permutes). Selects and
// comparisons only, so every level gives the same bits.
#pragma once

#include <cstdint>

#include "nn/kernels/dispatch.hpp"

namespace nst::kernels {

// out[oh][ow] = the first maximum of the 2x2 window at (2oh, 2ow) of an H x W
// plane (W >= 2 OW, H >= 2 OH), in the order (0,0), (0,1), (1,0), (1,1) with
// strict comparisons; at[oh][ow] = its index in that order (at may be null).
struct MaxPool2x2Kernel {
  template <class Arch>
  void operator()(Arch, float* out, uint8_t* at, const float* plane, int64_t W, int64_t OH,
                  int64_t OW) const;
  void operator()(ScalarArch, float* out, uint8_t* at, const float* plane, int64_t W, int64_t OH,
                  int64_t OW) const;
};

// dplane[window pixel at[oh][ow]] += d[oh][ow], every other pixel += -0.0f
// (which leaves every float unchanged: the same bits as a scatter). Not
// accumulating: = d[oh][ow] and 0 (dplane is not read); rows 2 OH.. and
// columns 2 OW.. of the plane (outside every window) are left alone.
struct MaxPool2x2BackwardKernel {
  template <class Arch>
  void operator()(Arch, float* dplane, const float* d, const uint8_t* at, int64_t W, int64_t OH,
                  int64_t OW, bool accumulate) const;
  void operator()(ScalarArch, float* dplane, const float* d, const uint8_t* at, int64_t W,
                  int64_t OH, int64_t OW, bool accumulate) const;
};

}  // namespace nst::kernels

NST_DECLARE_SIMD_KERNEL(nst::kernels::MaxPool2x2Kernel, void, float*, uint8_t*, const float*,
                        int64_t, int64_t, int64_t)
NST_DECLARE_SIMD_KERNEL(nst::kernels::MaxPool2x2BackwardKernel, void, float*, const float*,
                        const uint8_t*, int64_t, int64_t, int64_t, bool)
