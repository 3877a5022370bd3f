// The AVX2 versions of some Winograd steps (same values, same bits as the
// portable ones in winograd_lanes.hpp, which call them):
//   - the stride-4 shuffles of the input and output transforms, all four
//     columns at once by a 4 x 4 transpose within 128-bit lanes and one
//     exchange of 128-bit halves: 3 instructions per vector instead of 7
//     (4 cross-lane permutes and 3 blends);
//   - the loads at the image's left and right edges, by a masked load;
//   - the weight transform's loads for the input gradient (flipped kernels,
//     contiguous): 8 kernels' first 8 weights as 8 vector loads and an 8 x 8
//     transpose, their ninth as scalars, instead of copying the kernels weight
//     by weight into a staging buffer.
// Included only in the objects compiled with -mavx2 (winograd_kernel.simd.cpp
// for AVX2, and for AVX-512, which has its own).
#pragma once

#if !defined(__AVX2__)
#error "winograd_avx2.hpp is for the objects compiled with -mavx2 only"
#endif

#include <algorithm>
#include <cstdint>

#include <xsimd/xsimd.hpp>

#include "nn/kernels/winograd_kernel.hpp"
#include "nn/kernels/winograd_transforms.hpp"

namespace nst::kernels::winograd_detail {

// Lanes [first, last) of the 8 floats at `address`, the others zero; only
// those lanes are read (0 <= first < last <= 8).
template <class Arch>
inline xsimd::batch<float, Arch> load_lanes_avx2(const float* address, int64_t first,
                                                 int64_t last) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i in = _mm256_and_si256(
      _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(static_cast<int>(first) - 1)),
      _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(last)), lane));
  return _mm256_maskload_ps(address, in);
}

// ---- Stride-4 shuffles (see every_fourth and interleave_fours) ----
//
// A group of 8 tiles reads 32 floats of a patch row, a[0..3]: the 128-bit half
// h of a[k] is tile 2k + h's four pixels. Exchanging halves first puts tiles
// 0-3 in the low halves and 4-7 in the high ones; a 4 x 4 transpose of each
// half then gives column O of tiles 0-7 in order.

// out[O] = lanes 4l + O of the 32 floats a[0..3], for O < N (N = 2 or 4).
template <int N>
inline void every_fourth_avx2(const __m256 a[4], __m256 out[]) {
  static_assert(N == 2 || N == 4);
  const __m256 q04 = _mm256_permute2f128_ps(a[0], a[2], 0x20);  // tiles 0 | 4
  const __m256 q15 = _mm256_permute2f128_ps(a[0], a[2], 0x31);  // tiles 1 | 5
  const __m256 q26 = _mm256_permute2f128_ps(a[1], a[3], 0x20);  // tiles 2 | 6
  const __m256 q37 = _mm256_permute2f128_ps(a[1], a[3], 0x31);  // tiles 3 | 7
  // Columns 0, 1 (lo) and 2, 3 (hi) of two tiles, interleaved.
  const __m256 lo01 = _mm256_unpacklo_ps(q04, q15), lo23 = _mm256_unpacklo_ps(q26, q37);
  out[0] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(lo01), _mm256_castps_pd(lo23)));
  out[1] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(lo01), _mm256_castps_pd(lo23)));
  if constexpr (N == 4) {
    const __m256 hi01 = _mm256_unpackhi_ps(q04, q15), hi23 = _mm256_unpackhi_ps(q26, q37);
    out[2] = _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(hi01), _mm256_castps_pd(hi23)));
    out[3] = _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(hi01), _mm256_castps_pd(hi23)));
  }
}

// out[K] = floats [8K, 8K + 8) of the interleaving y[0][0], y[1][0], y[2][0],
// y[3][0], y[0][1], ...: the inverse of every_fourth_avx2<4>.
inline void interleave_fours_avx2(const __m256 y[4], __m256 out[4]) {
  const __m256 lo01 = _mm256_unpacklo_ps(y[0], y[1]), hi01 = _mm256_unpackhi_ps(y[0], y[1]);
  const __m256 lo23 = _mm256_unpacklo_ps(y[2], y[3]), hi23 = _mm256_unpackhi_ps(y[2], y[3]);
  // Tile t's four values in the half of each vector (tiles 0 | 4, 1 | 5, ...).
  const __m256 q04 =
      _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(lo01), _mm256_castps_pd(lo23)));
  const __m256 q15 =
      _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(lo01), _mm256_castps_pd(lo23)));
  const __m256 q26 =
      _mm256_castpd_ps(_mm256_unpacklo_pd(_mm256_castps_pd(hi01), _mm256_castps_pd(hi23)));
  const __m256 q37 =
      _mm256_castpd_ps(_mm256_unpackhi_pd(_mm256_castps_pd(hi01), _mm256_castps_pd(hi23)));
  out[0] = _mm256_permute2f128_ps(q04, q15, 0x20);  // tiles 0, 1
  out[1] = _mm256_permute2f128_ps(q26, q37, 0x20);  // tiles 2, 3
  out[2] = _mm256_permute2f128_ps(q04, q15, 0x31);  // tiles 4, 5
  out[3] = _mm256_permute2f128_ps(q26, q37, 0x31);  // tiles 6, 7
}

// ---- The weight transform's loads (see weight_panels) ----

// g[k] = tap k (flip: tap 8 - k) of the kernels at weight + offset[j], for the
// lanes j with valid[j] (the others are zero). Only the kernels' 9 floats are read.
[[gnu::always_inline]] inline void load_kernels_avx2(const float* weight, const int64_t offset[8],
                                                     const bool valid[8], bool flip, __m256 g[9]) {
  __m256 rows[8];
  float ninth[8];
  for (int j = 0; j < 8; ++j) {
    rows[j] = valid[j] ? _mm256_loadu_ps(weight + offset[j]) : _mm256_setzero_ps();
    ninth[j] = valid[j] ? weight[offset[j] + 8] : 0.0f;
  }
  // 8 x 8 transpose: pairs of rows interleaved, then quads, then the halves exchanged.
  __m256 t[8], q[8], col[9];
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm256_unpacklo_ps(rows[2 * i], rows[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(rows[2 * i], rows[2 * i + 1]);
  }
  for (int i = 0; i < 2; ++i) {  // rows 4i .. 4i + 3: taps p | p + 4 in q[4i + p]
    q[4 * i + 0] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
    q[4 * i + 1] = _mm256_shuffle_ps(t[4 * i], t[4 * i + 2], 0xee);
    q[4 * i + 2] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
    q[4 * i + 3] = _mm256_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xee);
  }
  for (int p = 0; p < 4; ++p) {
    col[p] = _mm256_permute2f128_ps(q[p], q[4 + p], 0x20);
    col[4 + p] = _mm256_permute2f128_ps(q[p], q[4 + p], 0x31);
  }
  col[8] = _mm256_setr_ps(ninth[0], ninth[1], ninth[2], ninth[3], ninth[4], ninth[5], ninth[6],
                          ninth[7]);
  for (int k = 0; k < 9; ++k) g[k] = col[flip ? 8 - k : k];
}

// weight_panels on AVX2 (same U, same bits): kernel f = c * mr + r of panel p
// is at weight + c * step_c + r * step_r from the panel's first kernel.
template <class Arch>
void weight_panels_avx2(const WinogradWeights& w, int64_t p0, int64_t p1) {
  using V = xsimd::batch<float, Arch>;
  const int64_t mr = w.mr, per_panel = w.C * mr;
  const int64_t step_c = w.transpose_flip ? w.A_total * 9 : 9;
  const int64_t step_r = w.transpose_flip ? 9 : w.C * 9;
  for (int64_t p = p0; p < p1; ++p) {
    const float* weight = w.weight + (w.a0 + p * mr) * (w.transpose_flip ? 9 : w.C * 9);
    const int64_t rows = std::min(mr, w.A - p * mr);
    int64_t c = 0, r = 0;  // kernel f0 = c * mr + r
    for (int64_t f0 = 0; f0 < per_panel; f0 += 8) {
      int64_t offset[8];
      bool valid[8];  // a row of the layer, a kernel of the panel
      for (int j = 0; j < 8; ++j) {
        valid[j] = f0 + j < per_panel && r < rows;
        offset[j] = c * step_c + r * step_r;
        if (++r == mr) r = 0, ++c;
      }
      __m256 raw[9];
      load_kernels_avx2(weight, offset, valid, w.transpose_flip, raw);
      V g[9], u[36];
      for (int k = 0; k < 9; ++k) g[k] = raw[k];
      weight_transform(g, u);
      float* dst = w.U + p * per_panel + f0;
      if (f0 + 8 <= per_panel) {
        for (int k = 0; k < 36; ++k) u[k].store_unaligned(dst + k * w.u_stride);
      } else {  // the panel's last, partial vector
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i store =
            _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(per_panel - f0)), lane);
        for (int k = 0; k < 36; ++k) _mm256_maskstore_ps(dst + k * w.u_stride, store, u[k]);
      }
    }
  }
}

}  // namespace nst::kernels::winograd_detail
