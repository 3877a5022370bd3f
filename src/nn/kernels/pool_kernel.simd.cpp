// The 2x2 max pool compiled for one instruction set (NST_ARCH). The backward,
// where lanes can be permuted in one instruction, does W windows at a time:
// each window's gradient and argmax spread over its two columns, the same
// selects as pool_rows.hpp (the same bits). Elsewhere, and for the last
// windows of a row, the plain loops.
#include "nn/kernels/pool_kernel.hpp"
#include "nn/kernels/permute.hpp"
#include "nn/kernels/pool_rows.hpp"

namespace nst::kernels {

namespace {

// Lane l of the result: lane H n/2 + l/2 (each of a half's lanes twice).
template <unsigned H>
struct SpreadHalf {
  static constexpr unsigned get(unsigned l, unsigned n) { return H * (n / 2) + l / 2; }
};

template <class Arch>
xsimd::batch<float, Arch> load_argmax(const uint8_t* at) {
  using V = xsimd::batch<float, Arch>;
  alignas(64) float k[V::size];
  for (size_t j = 0; j < V::size; ++j) k[j] = float(at[j]);
  return V::load_aligned(k);
}

}  // namespace

// The forward reads four times what it writes and is bound by memory: the
// plain loops (which the compiler vectorises where there is no argmax) were
// measured as fast as permutes of even and odd lanes (4.5 ms for 64 x 384 x 512
// on 2 threads either way).
template <class Arch>
void MaxPool2x2Kernel::operator()(Arch, float* out, uint8_t* at, const float* plane, int64_t W,
                                  int64_t OH, int64_t OW) const {
  pool_detail::max_2x2_plane(out, at, plane, W, OH, OW);
}

template <class Arch>
void MaxPool2x2BackwardKernel::operator()(Arch, float* dplane, const float* d, const uint8_t* at,
                                          int64_t W, int64_t OH, int64_t OW,
                                          bool accumulate) const {
  using V = xsimd::batch<float, Arch>;
  using M = xsimd::batch<uint32_t, Arch>;
  constexpr int64_t L = V::size;
  if constexpr (!kHasPermute<Arch>) {
    pool_detail::max_2x2_plane_backward(dplane, d, at, W, OH, OW, accumulate);
  } else {
    constexpr auto lo = xsimd::make_batch_constant<M, SpreadHalf<0>>();
    constexpr auto hi = xsimd::make_batch_constant<M, SpreadHalf<1>>();
    alignas(64) float parity[L];  // 0, 1, 0, 1, ...: the column of the window a lane is in
    for (int64_t j = 0; j < L; ++j) parity[j] = float(j % 2);
    const V column = V::load_aligned(parity), none(accumulate ? -0.0f : 0.0f);
    const int64_t whole = OW / L * L;
    for (int64_t oh = 0; oh < OH; ++oh) {
      float* d0 = dplane + 2 * oh * W;
      float* d1 = d0 + W;
      for (int64_t ow = 0; ow < whole; ow += L) {
        const V g = V::load_unaligned(d + oh * OW + ow), k = load_argmax<Arch>(at + oh * OW + ow);
        for (int half = 0; half < 2; ++half) {  // pixels 2ow + half W ... of both rows
          const V gs = half ? permute(g, hi) : permute(g, lo);
          const V ks = half ? permute(k, hi) : permute(k, lo);
          float* p0 = d0 + 2 * ow + half * L;
          float* p1 = d1 + 2 * ow + half * L;
          const V top = xsimd::select(ks == column, gs, none);
          const V bottom = xsimd::select(ks == column + V(2.0f), gs, none);
          (accumulate ? V::load_unaligned(p0) + top : top).store_unaligned(p0);
          (accumulate ? V::load_unaligned(p1) + bottom : bottom).store_unaligned(p1);
        }
      }
      pool_detail::max_2x2_plane_backward(d0 + 2 * whole, d + oh * OW + whole, at + oh * OW + whole,
                                          W, 1, OW - whole, accumulate);
    }
  }
}

NST_INSTANTIATE_SIMD_KERNEL(MaxPool2x2Kernel, void, float*, uint8_t*, const float*, int64_t,
                            int64_t, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(MaxPool2x2BackwardKernel, void, float*, const float*, const uint8_t*,
                            int64_t, int64_t, int64_t, bool)

}  // namespace nst::kernels
