// The 2x2 max pool compiled for one instruction set (NST_ARCH). Where lanes can
// be permuted in one instruction, both directions do W windows at a time: the
// forward picks even and odd columns, the backward spreads each window's
// gradient and argmax over its two columns; the same comparisons and selects
// as pool_rows.hpp (the same bits). Elsewhere, and for the last windows of a
// row, the plain loops.
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

// Lane l of the result: lane (2l + O) mod n, of the first vector for l < n/2
// (FirstHalf) and of the second for the others.
template <unsigned O>
struct EveryOther {
  static constexpr unsigned get(unsigned l, unsigned n) { return (2 * l + O) % n; }
};
struct FirstHalf {
  static constexpr bool get(unsigned l, unsigned n) { return l < n / 2; }
};

template <class Arch>
xsimd::batch<float, Arch> load_argmax(const uint8_t* at) {
  using V = xsimd::batch<float, Arch>;
  alignas(64) float k[V::size];
  for (size_t j = 0; j < V::size; ++j) k[j] = float(at[j]);
  return V::load_aligned(k);
}

}  // namespace

// The forward, where lanes can be permuted in one instruction, does L windows
// at a time: the even and odd columns of both rows picked out of two vectors
// each, then the same strict comparisons in the same order as pool_rows.hpp
// (the same bits, and the same argmax). The compiler vectorised the plain loop
// only without the argmax, and the one with it (the one style transfer runs)
// took 10.9 ms for 64 x 384 x 512 on 2 threads, the permutes take 4.2 ms (all four
// pools of the 512 px objective: 19 -> 7 ms; session 5).
template <class Arch>
void MaxPool2x2Kernel::operator()(Arch, float* out, uint8_t* at, const float* plane, int64_t W,
                                  int64_t OH, int64_t OW) const {
  using V = xsimd::batch<float, Arch>;
  using M = xsimd::batch<uint32_t, Arch>;
  constexpr int64_t L = V::size;
  if constexpr (!kHasPermute<Arch>) {
    pool_detail::max_2x2_plane(out, at, plane, W, OH, OW);
  } else {
    constexpr auto even = xsimd::make_batch_constant<M, EveryOther<0>>();
    constexpr auto odd = xsimd::make_batch_constant<M, EveryOther<1>>();
    constexpr auto first = xsimd::make_batch_bool_constant<V, FirstHalf>();
    // The even and odd lanes of the 2L floats at p: the same swizzle of both
    // halves, one blend each.
    auto split = [&](const float* p, V& evens, V& odds) {
      const V lo = V::load_unaligned(p), hi = V::load_unaligned(p + L);
      evens = xsimd::select(first, permute(lo, even), permute(hi, even));
      odds = xsimd::select(first, permute(lo, odd), permute(hi, odd));
    };
    const int64_t whole = OW / L * L;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const float* r0 = plane + 2 * oh * W;
      const float* r1 = r0 + W;
      float* o = out + oh * OW;
      uint8_t* a = at ? at + oh * OW : nullptr;
      for (int64_t ow = 0; ow < whole; ow += L) {
        V e0, o0, e1, o1;
        split(r0 + 2 * ow, e0, o0);
        split(r1 + 2 * ow, e1, o1);
        V v = e0, k(0.0f);
        auto take = [&](const V& x, float index) {
          const auto larger = x > v;
          k = xsimd::select(larger, V(index), k);
          v = xsimd::select(larger, x, v);
        };
        take(o0, 1.0f);
        take(e1, 2.0f);
        take(o1, 3.0f);
        v.store_unaligned(o + ow);
        if (a) {
          alignas(64) float index[L];
          k.store_aligned(index);
          for (int64_t j = 0; j < L; ++j) a[ow + j] = static_cast<uint8_t>(index[j]);
        }
      }
      pool_detail::max_2x2_row(o, a, r0, r1, whole, OW);
    }
  }
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
