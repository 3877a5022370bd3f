// The Winograd F(4x4, 3x3) block steps as templates on the Arch tag, shared by
// the SIMD kernels (winograd_kernel.simd.cpp, once per instruction set) and the
// scalar one (winograd_kernel.cpp): the weight transform of output-channel
// panels, the input transform of a block of tiles, its 36 GEMMs and its output
// transform (winograd.hpp has the algorithm, winograd_kernel.hpp the layouts).
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
#include "nn/kernels/winograd_lanes.hpp"
#include "nn/kernels/winograd_transforms.hpp"

namespace nst::kernels::winograd_detail {

// U panel by panel. Within panel p, U[ξ][p] is C x mr floats, element
// f = c * mr + r being kernel (output p*mr + r, input c). The kernels of a chunk
// of f are first copied, weight by weight, into `staged` [9][kStagedKernels]
// (plain scalar copies: a kernel's 9 weights are contiguous, but W consecutive f
// are not, and gathering them lane by lane into vectors was slower); then W
// consecutive f at a time are transformed and stored contiguously. The copy of a
// chunk is done before its first vector is read, so the loads do not wait on the
// stores just made. AVX-512 loads whole kernels instead, and so does AVX2 for
// the input gradient (winograd_avx512.hpp, winograd_avx2.hpp).
inline constexpr int64_t kStagedKernels = 256;

template <class Arch>
void weight_panels(const WinogradWeights& w, int64_t p0, int64_t p1) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) {
    weight_panels_avx512(w, p0, p1);
    return;
  }
#endif
#if defined(__AVX2__)
  // Only for the input gradient's flipped kernels, whose 8 kernels of a vector
  // are contiguous: for the forward's (C * 9 floats apart) the copy was faster
  // (docs/performance.md).
  if constexpr (std::is_base_of_v<xsimd::avx2, Arch>) {
    if (w.transpose_flip) {
      weight_panels_avx2<Arch>(w, p0, p1);
      return;
    }
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
              prefetch_lines<true>(plane + 2 * b.OH * b.OW + (4 * ty[0] + p) * b.OW + 4 * tx[0],
                                   4 * W);
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
