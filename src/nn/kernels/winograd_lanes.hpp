// How the Winograd transforms move data, as templates on the Arch tag: a lane
// group is Lanes<Arch>::W consecutive tiles of a block (W = 1 for ScalarArch),
// whose 6x6 input patches are read and 4x4 output tiles written here.
//
// The code is portable xsimd; where an instruction set does a step its own way
// (same values, same bits), it calls that set's version, from a header compiled
// only into that set's object: winograd_avx512.hpp, winograd_avx2.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "nn/kernels/dispatch.hpp"
#include "nn/kernels/permute.hpp"

#if defined(__AVX512F__)
#include "nn/kernels/winograd_avx512.hpp"
#endif
#if defined(__AVX2__)
#include "nn/kernels/winograd_avx2.hpp"
#endif

namespace nst::kernels::winograd_detail {

template <class Arch>
struct Lanes {
  using V = xsimd::batch<float, Arch>;
  using Mask = xsimd::batch_bool<float, Arch>;
  using Index = xsimd::batch<int32_t, Arch>;
  static constexpr int W = static_cast<int>(V::size);
  static V load(const float* p) { return V::load_unaligned(p); }
  static void store(float* p, const V& v) { v.store_unaligned(p); }
  static Index load_index(const int32_t* p) { return Index::load_unaligned(p); }
  static Mask load_mask(const float* p) { return V::load_unaligned(p) != V(0.0f); }
  // base[index] where mask, else 0 (clamped indices: base is read in range).
  // xsimd 8.1 gathers lane by lane here; the hardware gather (masked
  // vgatherdps) was slower (docs/performance.md).
  static V gather(const float* base, const Index& index, const Mask& mask) {
    return xsimd::select(mask, V::gather(base, index), V(0.0f));
  }

  // max(v, 0) that keeps a NaN, as std::max(v, 0.0f) does.
  static V relu(const V& v) { return xsimd::select(v < V(0.0f), V(0.0f), v); }
};

template <>
struct Lanes<ScalarArch> {
  using V = float;
  using Mask = bool;
  using Index = int32_t;
  static constexpr int W = 1;
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static Index load_index(const int32_t* p) { return *p; }
  static Mask load_mask(const float* p) { return *p != 0.0f; }
  static V gather(const float* base, Index index, Mask mask) { return mask ? base[index] : 0.0f; }
  static V relu(V v) { return std::max(v, 0.0f); }
};

// ---- Stride-4 shuffles (x86: SSE2, AVX2, AVX-512) ----
//
// Tiles are 4 pixels apart, so lane l of a group reads patch column u at pixel
// 4l + u of a row: a stride-4 gather. Where a whole lane group lies inside the
// image, the row is loaded with plain vector loads and each column picked out
// by compile-time swizzles and blends (7 instructions for W values instead of W
// scalar loads; 3 on AVX-512 and AVX2, whose transposes give all four columns
// at once); the output tiles are written back the same way.
// Same values, same arithmetic: the bits do not change. Where permutes are not
// single instructions (kHasPermute), every group gathers lane by lane.

// Source lane for lane l of a swizzled vector: element 4 (l mod W/4) + O.
template <unsigned O>
struct EveryFourthLane {
  static constexpr unsigned get(unsigned l, unsigned n) { return 4 * (l % (n / 4)) + O; }
};
// Lanes [K W/4, (K+1) W/4).
template <unsigned K>
struct QuarterLanes {
  static constexpr bool get(unsigned l, unsigned n) { return l / (n / 4) == K; }
};
// Source lane for lane i when interleaving: K W/4 + i / 4.
template <unsigned K>
struct SpreadLane {
  static constexpr unsigned get(unsigned i, unsigned n) { return K * (n / 4) + i / 4; }
};
// Lanes i with i mod 4 = Q.
template <unsigned Q>
struct LanesModFour {
  static constexpr bool get(unsigned i, unsigned) { return i % 4 == Q; }
};

// Lane l of the result is lane Pick(l) of v[s], s the source whose From<s>
// holds lane l: the same swizzle of all four, then three blends.
template <class Arch, class Pick, template <unsigned> class From>
xsimd::batch<float, Arch> merge_four(const xsimd::batch<float, Arch> v[4]) {
  using V = xsimd::batch<float, Arch>;
  using M = xsimd::batch<uint32_t, Arch>;
  constexpr auto pick = xsimd::make_batch_constant<M, Pick>();
  V r = permute(v[3], pick);
  r = xsimd::select(xsimd::make_batch_bool_constant<V, From<2>>(), permute(v[2], pick), r);
  r = xsimd::select(xsimd::make_batch_bool_constant<V, From<1>>(), permute(v[1], pick), r);
  return xsimd::select(xsimd::make_batch_bool_constant<V, From<0>>(), permute(v[0], pick), r);
}

// Lane l = element 4l + O of the 4W floats a[0], a[1], a[2], a[3] (O < 4).
template <class Arch, unsigned O>
xsimd::batch<float, Arch> every_fourth(const xsimd::batch<float, Arch> a[4]) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) return every_fourth_avx512<O>(a);
#endif
  return merge_four<Arch, EveryFourthLane<O>, QuarterLanes>(a);
}

// out[O] = every_fourth<Arch, O>(a) for O < N (N = 2 or 4).
template <class Arch, int N>
void every_fourths(const xsimd::batch<float, Arch> a[4], xsimd::batch<float, Arch> out[]) {
#if defined(__AVX2__)
  if constexpr (std::is_base_of_v<xsimd::avx2, Arch>) {
    const __m256 in[4] = {a[0], a[1], a[2], a[3]};
    __m256 picked[4];
    every_fourth_avx2<N>(in, picked);
    for (int o = 0; o < N; ++o) out[o] = picked[o];
    return;
  }
#endif
  out[0] = every_fourth<Arch, 0>(a);
  out[1] = every_fourth<Arch, 1>(a);
  if constexpr (N == 4) {
    out[2] = every_fourth<Arch, 2>(a);
    out[3] = every_fourth<Arch, 3>(a);
  }
}

// Elements [K W, (K+1) W) of the interleaving y[0][0], y[1][0], y[2][0], y[3][0], y[0][1], ...
template <class Arch, unsigned K>
xsimd::batch<float, Arch> interleave_fours(const xsimd::batch<float, Arch> y[4]) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) return interleave_fours_avx512<K>(y);
#endif
  return merge_four<Arch, SpreadLane<K>, LanesModFour>(y);
}

// out[K] = interleave_fours<Arch, K>(y) for K < 4.
template <class Arch>
void interleave_all_fours(const xsimd::batch<float, Arch> y[4], xsimd::batch<float, Arch> out[4]) {
#if defined(__AVX2__)
  if constexpr (std::is_base_of_v<xsimd::avx2, Arch>) {
    const __m256 in[4] = {y[0], y[1], y[2], y[3]};
    __m256 spread[4];
    interleave_fours_avx2(in, spread);
    for (int k = 0; k < 4; ++k) out[k] = spread[k];
    return;
  }
#endif
  out[0] = interleave_fours<Arch, 0>(y);
  out[1] = interleave_fours<Arch, 1>(y);
  out[2] = interleave_fours<Arch, 2>(y);
  out[3] = interleave_fours<Arch, 3>(y);
}

// Pixels at .. at + W - 1 of an image row of `width` pixels starting at `row`;
// those outside the row are zero and never read (masked loads where the
// instruction set has them). `at` may be negative.
template <class Arch>
[[gnu::always_inline]] inline xsimd::batch<float, Arch> load_row_part(const float* row, int64_t at,
                                                                      int64_t width) {
  using V = xsimd::batch<float, Arch>;
  constexpr int64_t W = static_cast<int64_t>(V::size);
  if (at >= 0 && at + W <= width) return V::load_unaligned(row + at);
  const int64_t first = std::clamp<int64_t>(-at, 0, W),
                last = std::clamp<int64_t>(width - at, 0, W);
  if (first >= last) return V(0.0f);
  // The vector's address, outside the row when `at` < 0 (so counted as an
  // integer): the masked loads read only lanes [first, last), which are inside.
  [[maybe_unused]] const auto* address = reinterpret_cast<const float*>(
      reinterpret_cast<std::uintptr_t>(row) + static_cast<std::uintptr_t>(at) * sizeof(float));
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
    return load_lanes_avx512<Arch>(address, first, last);
#endif
#if defined(__AVX2__)
  if constexpr (std::is_base_of_v<xsimd::avx2, Arch>)
    return load_lanes_avx2<Arch>(address, first, last);
#endif
  alignas(64) float part[W] = {};
  for (int64_t i = first; i < last; ++i) part[i] = row[at + i];
  return V::load_aligned(part);
}

// The 6x6 patches of W tiles side by side, read with vector loads: patch row r
// is pixels x0 .. x0 + 4W + 1 of image row rows[r] (null: a row above or below
// the image, all zeros), loaded as 4W floats from x0 (columns 0, 1) and from
// x0 + 2 (columns 2 .. 5).
template <class Arch>
void load_patches(const float* const rows[6], int64_t x0, int64_t width,
                  xsimd::batch<float, Arch> d[36]) {
  using V = xsimd::batch<float, Arch>;
  constexpr int W = static_cast<int>(V::size);
  for (int r = 0; r < 6; ++r) {
    const float* row = rows[r];
    V a[4], b[4];
    if (row && x0 >= 0 && x0 + 4 * W + 2 <= width) {
      for (int k = 0; k < 4; ++k) {
        a[k] = V::load_unaligned(row + x0 + k * W);
        b[k] = V::load_unaligned(row + x0 + 2 + k * W);
      }
    } else {
      for (int k = 0; k < 4; ++k) {
        a[k] = row ? load_row_part<Arch>(row, x0 + k * W, width) : V(0.0f);
        b[k] = row ? load_row_part<Arch>(row, x0 + 2 + k * W, width) : V(0.0f);
      }
    }
    every_fourths<Arch, 2>(a, d + r * 6);      // columns 0, 1
    every_fourths<Arch, 4>(b, d + r * 6 + 2);  // columns 2 .. 5
  }
}

// Writes (or adds) the 4x4 output tiles y of W tiles side by side at `corner`.
template <class Arch>
void store_tiles(float* corner, int64_t width, const xsimd::batch<float, Arch> y[16], bool add) {
  using V = xsimd::batch<float, Arch>;
  constexpr int W = static_cast<int>(V::size);
  for (int p = 0; p < 4; ++p) {
    const V* row = y + p * 4;
    V out[4];
    interleave_all_fours<Arch>(row, out);
    float* dst = corner + p * width;
    for (int k = 0; k < 4; ++k)
      (add ? V::load_unaligned(dst + k * W) + out[k] : out[k]).store_unaligned(dst + k * W);
  }
}

}  // namespace nst::kernels::winograd_detail
