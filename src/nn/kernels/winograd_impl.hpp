// The Winograd F(4x4, 3x3) block steps as templates on the Arch tag, shared by
// the SIMD kernels (winograd_kernel.simd.cpp) and the scalar one
// (winograd_kernel.cpp). Lanes<Arch> is a batch of xsimd floats, or one float
// for ScalarArch; a lane group is that many consecutive tiles of the block.
//
// Every result is computed by a fixed sequence of adds and multiplies (no FMA
// outside the GEMM micro-kernel), so the bits depend only on the instruction set.
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "nn/kernels/gemm_micro.hpp"
#include "nn/kernels/permute.hpp"
#include "nn/kernels/winograd_kernel.hpp"

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
  // vgatherdps) was measured slower on this Zen 4 part: conv1_2 at 512 px,
  // 1 thread, 142 ms with it against 123 ms without.
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
// scalar loads); the output tiles are written back the same way. Same values,
// same arithmetic: the bits do not change. Where permutes are not single
// instructions (kHasPermute), every group gathers lane by lane.

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

#if defined(__AVX512F__)
// AVX-512 picks from two vectors in one instruction (vpermt2ps): the same
// shuffles as merge_four in 3 instructions instead of 7. Forward conv1_2 and
// conv2_2 at 512 px, 2 threads: 35.2-36.0 -> 34.7-34.8 ms and 28.7-28.9 ->
// 28.2-28.3 ms; the input gradients and the whole evaluation within noise.
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
#endif

// Lane l = element 4l + O of the 4W floats a[0], a[1], a[2], a[3] (O < 4).
template <class Arch, unsigned O>
xsimd::batch<float, Arch> every_fourth(const xsimd::batch<float, Arch> a[4]) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) return every_fourth_avx512<O>(a);
#endif
  return merge_four<Arch, EveryFourthLane<O>, QuarterLanes>(a);
}

// Elements [K W, (K+1) W) of the interleaving y[0][0], y[1][0], y[2][0], y[3][0], y[0][1], ...
template <class Arch, unsigned K>
xsimd::batch<float, Arch> interleave_fours(const xsimd::batch<float, Arch> y[4]) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) return interleave_fours_avx512<K>(y);
#endif
  return merge_four<Arch, SpreadLane<K>, LanesModFour>(y);
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
  const int64_t first = std::clamp<int64_t>(-at, 0, W), last = std::clamp<int64_t>(width - at, 0, W);
  if (first >= last) return V(0.0f);
  // The vector's address, outside the row when `at` < 0 (so counted as an
  // integer): the masked loads read only lanes [first, last), which are inside.
  [[maybe_unused]] const auto* address = reinterpret_cast<const float*>(
      reinterpret_cast<std::uintptr_t>(row) + static_cast<std::uintptr_t>(at) * sizeof(float));
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    const auto lanes = static_cast<__mmask16>(((1u << last) - 1u) & ~((1u << first) - 1u));
    return _mm512_maskz_loadu_ps(lanes, address);
  }
#endif
#if defined(__AVX__)
  if constexpr (std::is_base_of_v<xsimd::avx, Arch>) {
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i in = _mm256_and_si256(
        _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(static_cast<int>(first) - 1)),
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(last)), lane));
    return _mm256_maskload_ps(address, in);
  }
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
    d[r * 6 + 0] = every_fourth<Arch, 0>(a);
    d[r * 6 + 1] = every_fourth<Arch, 1>(a);
    d[r * 6 + 2] = every_fourth<Arch, 0>(b);
    d[r * 6 + 3] = every_fourth<Arch, 1>(b);
    d[r * 6 + 4] = every_fourth<Arch, 2>(b);
    d[r * 6 + 5] = every_fourth<Arch, 3>(b);
  }
}

// Writes (or adds) the 4x4 output tiles y of W tiles side by side at `corner`.
template <class Arch>
void store_tiles(float* corner, int64_t width, const xsimd::batch<float, Arch> y[16], bool add) {
  using V = xsimd::batch<float, Arch>;
  constexpr int W = static_cast<int>(V::size);
  for (int p = 0; p < 4; ++p) {
    const V* row = y + p * 4;
    const V out[4] = {interleave_fours<Arch, 0>(row), interleave_fours<Arch, 1>(row),
                      interleave_fours<Arch, 2>(row), interleave_fours<Arch, 3>(row)};
    float* dst = corner + p * width;
    for (int k = 0; k < 4; ++k)
      (add ? V::load_unaligned(dst + k * W) + out[k] : out[k]).store_unaligned(dst + k * W);
  }
}

// y = Bᵀ x for one column of six (the rows of Bᵀ in winograd_kernel.hpp).
template <class T>
void input_1d(const T x[6], T y[6]) {
  const T t1 = x[4] - T(4.0f) * x[2], t2 = x[3] - T(4.0f) * x[1];
  const T t3 = x[4] - x[2], t4 = T(2.0f) * (x[3] - x[1]);
  y[0] = T(4.0f) * x[0] - T(5.0f) * x[2] + x[4];
  y[1] = t1 + t2;
  y[2] = t1 - t2;
  y[3] = t3 + t4;
  y[4] = t3 - t4;
  y[5] = T(4.0f) * x[1] - T(5.0f) * x[3] + x[5];
}

// v = Bᵀ d B for a 6x6 patch d (row-major): Bᵀ on the columns, then on the rows.
template <class T>
void input_transform(const T d[36], T v[36]) {
  T cols[36];
  for (int u = 0; u < 6; ++u) {
    T x[6], y[6];
    for (int r = 0; r < 6; ++r) x[r] = d[r * 6 + u];
    input_1d(x, y);
    for (int i = 0; i < 6; ++i) cols[i * 6 + u] = y[i];
  }
  for (int i = 0; i < 6; ++i) input_1d(cols + i * 6, v + i * 6);
}

// z = Aᵀ m for one column of six (the rows of Aᵀ in winograd_kernel.hpp).
template <class T>
void output_1d(const T m[6], T z[4]) {
  const T s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  z[0] = m[0] + s12 + s34;
  z[1] = d12 + T(2.0f) * d34;
  z[2] = s12 + T(4.0f) * s34;
  z[3] = d12 + T(8.0f) * d34 + m[5];
}

// y = Aᵀ m A for a 6x6 m (row-major), y 4x4 row-major.
template <class T>
void output_transform(const T m[36], T y[16]) {
  T rows[24];  // rows[i][q] = (m A)[i][q]
  for (int i = 0; i < 6; ++i) output_1d(m + i * 6, rows + i * 4);
  for (int q = 0; q < 4; ++q) {
    T x[6], z[4];
    for (int i = 0; i < 6; ++i) x[i] = rows[i * 4 + q];
    output_1d(x, z);
    for (int p = 0; p < 4; ++p) y[p * 4 + q] = z[p];
  }
}

// t = G g for one column of three (the rows of G in winograd_kernel.hpp).
template <class T>
[[gnu::always_inline]] inline void weight_1d(const T g[3], T t[6]) {
  const T sum = g[0] + g[2];
  t[0] = g[0] * T(1.0f / 4);
  t[1] = (sum + g[1]) * T(-1.0f / 6);
  t[2] = (sum - g[1]) * T(-1.0f / 6);
  const T even = g[0] * T(1.0f / 24) + g[2] * T(1.0f / 6), odd = g[1] * T(1.0f / 12);
  t[3] = even + odd;
  t[4] = even - odd;
  t[5] = g[2];
}

// u = G g Gᵀ for a 3x3 kernel g (row-major), u 6x6 row-major.
template <class T>
[[gnu::always_inline]] inline void weight_transform(const T g[9], T u[36]) {
  T cols[18];  // (G g)[i][j] at cols[i * 3 + j]
  for (int j = 0; j < 3; ++j) {
    const T x[3] = {g[j], g[3 + j], g[6 + j]};
    T y[6];
    weight_1d(x, y);
    for (int i = 0; i < 6; ++i) cols[i * 3 + j] = y[i];
  }
  for (int i = 0; i < 6; ++i) weight_1d(cols + i * 3, u + i * 6);
}

// U panel by panel. Within panel p, U[ξ][p] is C x mr floats, element
// f = c * mr + r being kernel (output p*mr + r, input c). The kernels of a chunk
// of f are first copied, weight by weight, into `staged` [9][kStagedKernels]
// (plain scalar copies: a kernel's 9 weights are contiguous, but W consecutive f
// are not, and gathering them lane by lane into vectors was slower: a 512 x 512
// weight transform on one thread 5.3-6.0 ms, against 4.3-4.8); then W
// consecutive f at a time are transformed and stored contiguously. The copy of a
// chunk is done before its first vector is read, so the loads do not wait on the
// stores just made.
inline constexpr int64_t kStagedKernels = 256;

#if defined(__AVX512F__)
// ---- The weight transform's loads on AVX-512 ----
//
// Staging costs 288 scalar loads and stores per vector of 16 kernels. On
// AVX-512 each kernel's 9 contiguous floats are instead one load (a row of a
// 16 x 16 block), and the shuffles of a 16 x 16 transpose, pruned to the 9
// columns used, turn the rows into taps. Loads come from addresses the lanes
// compute as vectors, so the weights of the vector kPrefetchVectors ahead are
// prefetched: the transform's long chain of work between loads otherwise
// leaves few of them in flight, and the weights mostly come from memory. A
// 512 x 512 weight transform, one panel at a time, one thread: 2.4-3.0 ms
// (weights in L3) and 2.8-3.5 ms (in memory) before, 1.9-2.1 and 1.9-2.4 after.
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
[[gnu::always_inline]] inline void load_kernels_avx512(const float* weight, const int32_t offset[16],
                                                     __mmask16 valid, int64_t full_load_limit,
                                                     bool flip, Avx512Floats g[9]) {
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
    for (int j = 0; j < 16; ++j) c0[j] = static_cast<int32_t>(j / mr), r0[j] = static_cast<int32_t>(j % mr);
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
#endif

template <class Arch>
void weight_panels(const WinogradWeights& w, int64_t p0, int64_t p1) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    weight_panels_avx512(w, p0, p1);
    return;
  }
#endif
  const int64_t mr = w.mr;
  using L = Lanes<Arch>;
  using V = typename L::V;
  constexpr int W = L::W;
  static_assert(kStagedKernels % W == 0);
  const int64_t per_panel = w.C * mr;
  alignas(64) float staged[9][kStagedKernels];
  for (int64_t p = p0; p < p1; ++p)
    for (int64_t f_begin = 0; f_begin < per_panel; f_begin += kStagedKernels) {
      const int64_t f_end = std::min(per_panel, f_begin + kStagedKernels);
      // Kernel (output a, input c) is weight[a][c] or, flipped, weight[c][a]
      // turned by 180 degrees; kernels past the layer's outputs are zero.
      int64_t c = f_begin / mr, r = f_begin % mr;
      for (int64_t f = f_begin; f < f_end; ++f) {
        const int64_t a = p * mr + r, j = f - f_begin;
        if (a >= w.A) {
          for (int k = 0; k < 9; ++k) staged[k][j] = 0.0f;
        } else if (w.transpose_flip) {
          const float* g = w.weight + (c * w.A_total + w.a0 + a) * 9;
          for (int k = 0; k < 9; ++k) staged[k][j] = g[8 - k];
        } else {
          const float* g = w.weight + ((w.a0 + a) * w.C + c) * 9;
          for (int k = 0; k < 9; ++k) staged[k][j] = g[k];
        }
        if (++r == mr) r = 0, ++c;
      }
      // The lanes of the panel's last vector past its end (transformed, not stored).
      for (int64_t j = f_end - f_begin; j % W != 0; ++j)
        for (int k = 0; k < 9; ++k) staged[k][j] = 0.0f;
      for (int64_t f0 = f_begin; f0 < f_end; f0 += W) {
        V g[9], u[36];
        for (int k = 0; k < 9; ++k) g[k] = L::load(&staged[k][f0 - f_begin]);
        weight_transform(g, u);
        for (int k = 0; k < 36; ++k) {
          float* dst = w.U + k * w.u_stride + p * per_panel + f0;
          if (f0 + W <= per_panel) {
            L::store(dst, u[k]);
          } else {  // the panel's last, partial vector
            alignas(64) float part[W];
            L::store(part, u[k]);
            std::copy(part, part + (per_panel - f0), dst);
          }
        }
      }
    }
}

// Fetches the lines of floats [p, p + n) into the cache ahead of use, for
// reading or (Write) for writing: a tile row's pixels are a few lines in each of
// many planes far apart, a pattern the hardware prefetcher does not follow.
template <bool Write>
void prefetch_lines(const float* p, int64_t n) {
  for (int64_t x = 0; x < n; x += kLineFloats) __builtin_prefetch(p + x, Write ? 1 : 0);
}

// Where the W tiles of lane group g (block tiles g*W ...) read and write:
// tile row and column, or -1 past the image's last tile.
template <int W>
void lane_tiles(const WinogradBlock& b, int64_t first, int64_t ty[W], int64_t tx[W]) {
  for (int l = 0; l < W; ++l) {
    const int64_t t = b.t0 + first + l;
    const bool real = first + l < b.count && t < b.tiles;
    ty[l] = real ? t / b.tiles_w : -1;
    tx[l] = real ? t % b.tiles_w : -1;
  }
}

template <class Arch>
void input_block(const WinogradBlock& b, int64_t c0, int64_t c1) {
  using L = Lanes<Arch>;
  using V = typename L::V;
  constexpr int W = L::W;
  const int64_t nr = b.plan.nr, plane = b.H * b.W;
  for (int64_t first = 0; first < b.Tb; first += W) {
    // Patch element (r, u) of lane l: input pixel (4ty - pad_top + r, 4tx - pad_left + u).
    int64_t ty[W], tx[W];
    lane_tiles<W>(b, first, ty, tx);
    const int64_t panel = first / nr, lane = first % nr;
    if constexpr (kHasPermute<Arch>) {
      // The whole group in one tile row: vector loads, masked at the image's
      // left and right edges.
      const int64_t y0 = ty[0] * 4 - b.pad_top, x0 = tx[0] * 4 - b.pad_left;
      if (ty[0] >= 0 && ty[W - 1] == ty[0] && tx[W - 1] == tx[0] + W - 1) {
        // The span of a patch row inside the image, prefetched two channels ahead.
        const int64_t lo = std::clamp<int64_t>(x0, 0, b.W);
        const int64_t hi = std::clamp<int64_t>(x0 + 4 * W + 2, lo, b.W);
        for (int64_t c = c0; c < c1; ++c) {
          const float* rows[6];
          for (int r = 0; r < 6; ++r) {
            const int64_t y = y0 + r;
            rows[r] = y >= 0 && y < b.H ? b.inp + c * plane + y * b.W : nullptr;
            if (rows[r] && c + 2 < c1) prefetch_lines<false>(rows[r] + 2 * plane + lo, hi - lo);
          }
          V d[36], v[36];
          load_patches<Arch>(rows, x0, b.W, d);
          input_transform(d, v);
          for (int k = 0; k < 36; ++k)
            L::store(b.V + k * b.v_stride + (panel * b.C + c) * nr + lane, v[k]);
        }
        continue;
      }
    }
    alignas(64) int32_t index[36][W];
    alignas(64) float inside[36][W];
    for (int r = 0; r < 6; ++r)
      for (int u = 0; u < 6; ++u)
        for (int l = 0; l < W; ++l) {
          const int64_t y = ty[l] * 4 - b.pad_top + r, x = tx[l] * 4 - b.pad_left + u;
          const bool in = ty[l] >= 0 && y >= 0 && y < b.H && x >= 0 && x < b.W;
          index[r * 6 + u][l] = in ? static_cast<int32_t>(y * b.W + x) : 0;
          inside[r * 6 + u][l] = in ? 1.0f : 0.0f;
        }
    for (int64_t c = c0; c < c1; ++c) {
      const float* src = b.inp + c * plane;
      V d[36], v[36];
      for (int k = 0; k < 36; ++k)
        d[k] = L::gather(src, L::load_index(index[k]), L::load_mask(inside[k]));
      input_transform(d, v);
      for (int k = 0; k < 36; ++k)
        L::store(b.V + k * b.v_stride + (panel * b.C + c) * nr + lane, v[k]);
    }
  }
}

template <class Arch, class Micro>
void gemm_block(const WinogradBlock& b, int64_t i0, int64_t i1, const Micro& micro) {
  const int64_t mr = b.plan.mr, nr = b.plan.nr;
  const int64_t row_panels = (b.OC + mr - 1) / mr, col_panels = b.Tb / nr;
  for (int64_t i = i0; i < i1; ++i) {
    const int64_t k = i / row_panels, p = i % row_panels;
    const float* a = b.U + k * b.u_stride + p * b.C * mr;
    float* m = b.M + k * b.m_stride + p * mr * b.Tb;
    const int64_t rows = std::min(mr, b.OC - p * mr);
    for (int64_t q = 0; q < col_panels; ++q)
      micro(b.C, a, b.V + k * b.v_stride + q * b.C * nr, m + q * nr, b.Tb, rows, nr, 1.0f, 0.0f);
  }
}

template <class Arch>
void output_block(const WinogradBlock& b, int64_t o0, int64_t o1) {
  using L = Lanes<Arch>;
  using V = typename L::V;
  constexpr int W = L::W;
  for (int64_t first = 0; first < b.count; first += W) {
    int64_t ty[W], tx[W];
    lane_tiles<W>(b, first, ty, tx);
    // The whole group in one tile row, its 4x4 tiles inside the output.
    const bool interior = ty[0] >= 0 && ty[W - 1] == ty[0] && tx[W - 1] == tx[0] + W - 1 &&
                          4 * ty[0] + 4 <= b.OH && 4 * (tx[0] + W) <= b.OW;
    for (int64_t o = o0; o < o1; ++o) {
      V m[36], y[16];
      for (int k = 0; k < 36; ++k) m[k] = L::load(b.M + k * b.m_stride + o * b.Tb + first);
      output_transform(m, y);
      if (!b.accumulate) {
        const V bias(b.bias ? b.bias[o] : 0.0f);
        for (int k = 0; k < 16; ++k) y[k] = b.relu ? L::relu(y[k] + bias) : y[k] + bias;
      }
      float* plane = b.out + o * b.OH * b.OW;
      if constexpr (kHasPermute<Arch>) {
        if (interior) {
          // The rows the channel after next writes (or adds to).
          if (o + 2 < o1)
            for (int p = 0; p < 4; ++p)
              prefetch_lines<true>(plane + 2 * b.OH * b.OW + (4 * ty[0] + p) * b.OW + 4 * tx[0], 4 * W);
          store_tiles<Arch>(plane + 4 * ty[0] * b.OW + 4 * tx[0], b.OW, y, b.accumulate);
          continue;
        }
      }
      alignas(64) float values[16][W];
      for (int k = 0; k < 16; ++k) L::store(values[k], y[k]);
      for (int l = 0; l < W; ++l) {
        if (ty[l] < 0) continue;
        const int64_t rows = std::min<int64_t>(4, b.OH - 4 * ty[l]);
        const int64_t cols = std::min<int64_t>(4, b.OW - 4 * tx[l]);
        float* dst = plane + 4 * ty[l] * b.OW + 4 * tx[l];
        for (int64_t p = 0; p < rows; ++p)
          for (int64_t q = 0; q < cols; ++q) {
            if (b.accumulate)
              dst[p * b.OW + q] += values[p * 4 + q][l];
            else
              dst[p * b.OW + q] = values[p * 4 + q][l];
          }
      }
    }
  }
}

}  // namespace nst::kernels::winograd_detail
