// The AVX-512 versions of three Winograd steps (same values, same bits as the
// portable ones in winograd_lanes.hpp and winograd_impl.hpp, which call them):
//   - the stride-4 shuffles of the input and output transforms, by two-source
//     permutes (vpermt2ps): 3 instructions per vector instead of 7;
//   - the loads at the image's left and right edges, by masked loads;
//   - the weight transform's loads: one vector load per kernel and a pruned
//     16 x 16 transpose, instead of copying the kernels weight by weight.
// Included only in the object compiled for AVX-512 (winograd_kernel.simd.cpp
// with NST_ARCH = xsimd::avx512f and -mavx512f ...).
#pragma once

#if !defined(__AVX512F__)
#error "winograd_avx512.hpp is for the objects compiled with -mavx512f only"
#endif

#include <algorithm>
#include <cstdint>

#include "nn/kernels/winograd_kernel.hpp"
#include "nn/kernels/winograd_transforms.hpp"

namespace nst::kernels::winograd_detail {

// ---- Stride-4 shuffles (see every_fourth and interleave_fours) ----

// Lane l = element 4l + O of the 64 floats a[0], a[1], a[2], a[3] (O < 4).
template <unsigned O, class Arch>
xsimd::batch<float, Arch> every_fourth_avx512(const xsimd::batch<float, Arch> a[4]) {
  // Lanes 0-7: elements 4l + O of a pair of vectors (indices 0-31 of the pair).
  const __m512i pick = _mm512_setr_epi32(O, 4 + O, 8 + O, 12 + O, 16 + O, 20 + O, 24 + O, 28 + O,
                                         O, 4 + O, 8 + O, 12 + O, 16 + O, 20 + O, 24 + O, 28 + O);
  const __m512 lo = _mm512_permutex2var_ps(a[0], pick, a[1]);
  const __m512 hi = _mm512_permutex2var_ps(a[2], pick, a[3]);
  return _mm512_mask_blend_ps(__mmask16(0xff00), lo, hi);
}

// Lane i: y[i % 4][4K + i / 4].
template <unsigned K, class Arch>
xsimd::batch<float, Arch> interleave_fours_avx512(const xsimd::batch<float, Arch> y[4]) {
  // From a pair (first, second): lane i takes lane 4K + i / 4 of the first
  // where i % 4 is even (index 4K + i / 4), of the second where odd (+ 16).
  constexpr int b = 4 * K;
  const __m512i pick = _mm512_setr_epi32(b, b + 16, b, b + 16, b + 1, b + 17, b + 1, b + 17,
                                         b + 2, b + 18, b + 2, b + 18, b + 3, b + 19, b + 3, b + 19);
  const __m512 even = _mm512_permutex2var_ps(y[0], pick, y[1]);  // lanes i % 4 = 0, 1
  const __m512 odd = _mm512_permutex2var_ps(y[2], pick, y[3]);   // lanes i % 4 = 2, 3
  return _mm512_mask_blend_ps(__mmask16(0xcccc), even, odd);
}

// ---- Edges of the image (see load_row_part) ----

// Lanes [first, last) of the 16 floats at `address`, the others zero; only
// those lanes are read (0 <= first < last <= 16).
template <class Arch>
inline xsimd::batch<float, Arch> load_lanes_avx512(const float* address, int64_t first,
                                                   int64_t last) {
  const auto lanes = static_cast<__mmask16>(((1u << last) - 1u) & ~((1u << first) - 1u));
  return _mm512_maskz_loadu_ps(lanes, address);
}

// ---- The weight transform's loads (see weight_panels) ----
//
// Staging costs 288 scalar loads and stores per vector of 16 kernels. On
// AVX-512 each kernel's 9 contiguous floats are instead one load (a row of a
// 16 x 16 block), and the shuffles of a 16 x 16 transpose, pruned to the 9
// columns used, turn the rows into taps. Loads come from addresses the lanes
// compute as vectors, so the weights of the vector kPrefetchVectors ahead are
// prefetched: the transform's long chain of work between loads otherwise
// leaves few of them in flight, and the weights mostly come from memory.
inline constexpr int kPrefetchVectors = 8;

// The unpack and shuffle intrinsics without a mask start from an undefined
// vector, which GCC 12 reports as maybe used uninitialised; all-ones masks
// give the same instructions.
inline constexpr __mmask16 kAll16 = 0xffff;
inline constexpr __mmask8 kAll8 = 0xff;

using Avx512Floats = xsimd::batch<float, xsimd::avx512f>;

// g[k] = tap k (flip: tap 8 - k) of the kernels at weight + offset[j], for
// the lanes j in `valid` (the others are zero). Kernels at offsets up to
// `full_load_limit` are read as 16 floats (7 of them unused), the others with
// a masked load, which never reads past the kernel: unmasked loads are the
// ones the hardware prefetcher follows.
[[gnu::always_inline]] inline void load_kernels_avx512(const float* weight,
                                                       const int32_t offset[16], __mmask16 valid,
                                                       int64_t full_load_limit, bool flip,
                                                       Avx512Floats g[9]) {
  __m512 rows[16];
  for (int j = 0; j < 16; ++j) {
    if (!((valid >> j) & 1))
      rows[j] = _mm512_setzero_ps();
    else if (offset[j] <= full_load_limit)
      rows[j] = _mm512_loadu_ps(weight + offset[j]);
    else
      rows[j] = _mm512_maskz_loadu_ps(__mmask16(0x1ff), weight + offset[j]);
  }
  // Rows 2i and 2i + 1 interleaved within each 128-bit lane.
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_maskz_unpacklo_ps(kAll16, rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm512_maskz_unpackhi_ps(kAll16, rows[2 * i], rows[2 * i + 1]);
  }
  // v[q][p]: 128-bit lane L holds rows 4q .. 4q + 3 at column 4L + p.
  __m512 v[4][4];
  for (int q = 0; q < 4; ++q) {
    const __m512d lo = _mm512_castps_pd(t[4 * q]), hi = _mm512_castps_pd(t[4 * q + 1]);
    const __m512d lo2 = _mm512_castps_pd(t[4 * q + 2]), hi2 = _mm512_castps_pd(t[4 * q + 3]);
    v[q][0] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(kAll8, lo, lo2));
    v[q][1] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(kAll8, lo, lo2));
    v[q][2] = _mm512_castpd_ps(_mm512_maskz_unpacklo_pd(kAll8, hi, hi2));
    v[q][3] = _mm512_castpd_ps(_mm512_maskz_unpackhi_pd(kAll8, hi, hi2));
  }
  // Column 4L + p: lane L of v[0][p], v[1][p], v[2][p] and v[3][p].
  const auto lanes = [](const __m512& a, const __m512& b, int pick) {
    switch (pick) {  // the immediate must be a constant
      case 0: return _mm512_maskz_shuffle_f32x4(kAll16, a, b, _MM_SHUFFLE(1, 0, 1, 0));
      case 1: return _mm512_maskz_shuffle_f32x4(kAll16, a, b, _MM_SHUFFLE(2, 0, 2, 0));
      case 2: return _mm512_maskz_shuffle_f32x4(kAll16, a, b, _MM_SHUFFLE(3, 1, 3, 1));
      default: return _mm512_maskz_shuffle_f32x4(kAll16, a, b, _MM_SHUFFLE(2, 2, 2, 2));
    }
  };
  __m512 col[9];
  for (int p = 0; p < 4; ++p) {
    const __m512 x = lanes(v[0][p], v[1][p], 0), y = lanes(v[2][p], v[3][p], 0);  // lanes 0, 1
    col[p] = lanes(x, y, 1);
    col[4 + p] = lanes(x, y, 2);
  }
  col[8] = lanes(lanes(v[0][0], v[1][0], 3), lanes(v[2][0], v[3][0], 3), 1);  // lane 2
  for (int k = 0; k < 9; ++k) g[k] = col[flip ? 8 - k : k];
}

// Kernel f = c * mr + r of a panel, for 16 lanes; advance() moves each lane on
// by 16 kernels (16 / mr more c, 16 % mr more r, with at most one wrap of r).
struct KernelLanes {
  __m512i c, r;
  void advance(int64_t mr) {
    c = _mm512_add_epi32(c, _mm512_set1_epi32(static_cast<int32_t>(16 / mr)));
    r = _mm512_add_epi32(r, _mm512_set1_epi32(static_cast<int32_t>(16 % mr)));
    const __m512i m = _mm512_set1_epi32(static_cast<int32_t>(mr));
    const __mmask16 wrap = _mm512_cmpge_epi32_mask(r, m);
    r = _mm512_mask_sub_epi32(r, wrap, r, m);
    c = _mm512_mask_add_epi32(c, wrap, c, _mm512_set1_epi32(1));
  }
  // The kernels' offsets: c * step_c + r * step_r.
  void offsets(int32_t step_c, int32_t step_r, int32_t out[16]) const {
    _mm512_storeu_si512(out, _mm512_add_epi32(_mm512_mullo_epi32(c, _mm512_set1_epi32(step_c)),
                                              _mm512_mullo_epi32(r, _mm512_set1_epi32(step_r))));
  }
};

// weight_panels on AVX-512 (same U, same bits): kernel f = c * mr + r of panel
// p is at weight + c * step_c + r * step_r from the panel's first kernel.
inline void weight_panels_avx512(const WinogradWeights& w, int64_t p0, int64_t p1) {
  const int64_t mr = w.mr, per_panel = w.C * mr;
  const int32_t step_c = static_cast<int32_t>(w.transpose_flip ? w.A_total * 9 : 9);
  const int32_t step_r = static_cast<int32_t>(w.transpose_flip ? 9 : w.C * 9);
  for (int64_t p = p0; p < p1; ++p) {
    const float* weight = w.weight + (w.a0 + p * mr) * (w.transpose_flip ? 9 : w.C * 9);
    const int64_t full_load_limit = w.A_total * w.C * 9 - 16 - (weight - w.weight);
    const __m512i rows = _mm512_set1_epi32(static_cast<int32_t>(std::min(mr, w.A - p * mr)));
    alignas(64) int32_t c0[16], r0[16];  // lane j: kernel j
    for (int j = 0; j < 16; ++j)
      c0[j] = static_cast<int32_t>(j / mr), r0[j] = static_cast<int32_t>(j % mr);
    KernelLanes at{_mm512_load_si512(c0), _mm512_load_si512(r0)};
    KernelLanes ahead = at;
    for (int i = 0; i < kPrefetchVectors; ++i) ahead.advance(mr);
    alignas(64) int32_t offset[16];
    for (int64_t f0 = 0; f0 < per_panel; f0 += 16) {
      if (f0 + 16 * kPrefetchVectors < per_panel) {
        // Some lanes may point past the layer (rows past A): a prefetch does not
        // fault, and the address is formed as an integer.
        ahead.offsets(step_c, step_r, offset);
        for (int j = 0; j < 16; ++j)
          _mm_prefetch(reinterpret_cast<const char*>(reinterpret_cast<std::uintptr_t>(weight) +
                                                     std::uintptr_t(offset[j]) * sizeof(float)),
                       _MM_HINT_T0);
      }
      ahead.advance(mr);
      const __m512i f = _mm512_add_epi32(
          _mm512_set1_epi32(static_cast<int32_t>(f0)),
          _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
      const __mmask16 valid =  // rows of the layer, kernels of the panel
          _mm512_cmplt_epi32_mask(at.r, rows) &
          _mm512_cmplt_epi32_mask(f, _mm512_set1_epi32(static_cast<int32_t>(per_panel)));
      at.offsets(step_c, step_r, offset);
      at.advance(mr);
      Avx512Floats g[9], u[36];
      load_kernels_avx512(weight, offset, valid, full_load_limit, w.transpose_flip, g);
      weight_transform(g, u);
      const __mmask16 store = f0 + 16 <= per_panel
                                  ? __mmask16(0xffff)
                                  : static_cast<__mmask16>((1u << (per_panel - f0)) - 1u);
      for (int k = 0; k < 36; ++k)
        _mm512_mask_storeu_ps(w.U + k * w.u_stride + p * per_panel + f0, store, u[k]);
    }
  }
}

}  // namespace nst::kernels::winograd_detail
