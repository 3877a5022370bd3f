// SIMD body of the direct convolution (compiled once per instruction set,
// NST_ARCH names it). Register tile: MR channels x NV batches of columns; per
// tap it loads NV batches of the band and broadcasts MR weights for MR*NV
// fused multiply-adds. 16 registers (AVX2, SSE2): 4 x 3 (or 3 x 4 when OC <= 3),
// 12 accumulators; 32 (AVX-512): 8 x 3 (3 x 6), 24 or 18.
#include "nn/kernels/conv_direct_kernel.hpp"

#include <type_traits>

#include "nn/kernels/fma.hpp"
#include "nn/kernels/permute.hpp"

namespace nst::kernels {

namespace {

template <class Arch>
struct DirectTiles {
  using Batch = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(Batch::size);
  static constexpr bool wide =
      std::is_base_of_v<xsimd::avx512f, Arch> || std::is_same_v<Arch, xsimd::neon64>;
  static constexpr int big_mr = wide ? 8 : 4, big_nv = 3;      // OC > 3
  static constexpr int small_mr = 3, small_nv = wide ? 6 : 4;  // OC <= 3
};

// Lane l: lane H*n/2 + l/2 (the H-th half of a vector, each lane twice).
template <unsigned H>
struct SpreadHalf {
  static constexpr unsigned get(unsigned l, unsigned n) { return H * n / 2 + l / 2; }
};
struct EvenLane {
  static constexpr bool get(unsigned l, unsigned) { return l % 2 == 0; }
};

// out = acc (+ bias) (max 0 with relu) for the valid channels and columns of
// the MR x NR tile at channel o0, band row i, column ow0.
template <class Arch, int MR, int NV>
void store_tile(const ConvDirectArgs& a, const xsimd::batch<float, Arch> (&acc)[MR][NV], int64_t o0,
                int64_t i, int64_t ow0, int64_t cols) {
  using Batch = xsimd::batch<float, Arch>;
  constexpr int W = static_cast<int>(Batch::size), NR = NV * W;
  const int64_t channels = std::min<int64_t>(MR, a.OC - o0);
  auto finish = [&](Batch y, int r) {
    if (a.bias) y = y + Batch(a.bias[o0 + r]);
    return a.relu ? xsimd::select(y < Batch(0.0f), Batch(0.0f), y) : y;
  };
  if (channels == MR && cols == NR && a.out_col == 1) {
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      float* dst = a.out + (o0 + r) * a.out_plane + i * a.out_row + ow0;
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) finish(acc[r][v], r).store_unaligned(dst + v * W);
    }
    return;
  }
  // Every other float (the transposed conv's phases): each vector spread over
  // two, blended into what the odd lanes hold (other calls' columns, a.out_span).
  if constexpr (kHasPermute<Arch>) {
    if (channels == MR && cols == NR && a.out_col == 2 && 2 * (ow0 + NR) <= a.out_span) {
      using M = xsimd::batch<uint32_t, Arch>;
      constexpr auto lo = xsimd::make_batch_constant<M, SpreadHalf<0>>();
      constexpr auto hi = xsimd::make_batch_constant<M, SpreadHalf<1>>();
      constexpr auto mine = xsimd::make_batch_bool_constant<Batch, EvenLane>();
#pragma GCC unroll 8
      for (int r = 0; r < MR; ++r) {
        float* dst = a.out + (o0 + r) * a.out_plane + i * a.out_row + 2 * ow0;
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) {
          const Batch y = finish(acc[r][v], r);
          float* d = dst + 2 * v * W;
          xsimd::select(mine, permute(y, lo), Batch::load_unaligned(d)).store_unaligned(d);
          xsimd::select(mine, permute(y, hi), Batch::load_unaligned(d + W)).store_unaligned(d + W);
        }
      }
      return;
    }
  }
  alignas(64) float tile[MR * NR];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) acc[r][v].store_aligned(tile + r * NR + v * W);
  conv_direct_store_edge(a, tile, NR, o0, channels, i, ow0, cols);
}

// Loop order: column tiles, then the band's rows, then passes over chunks of
// at most a.k_chunk taps, then channel panels. The band slice one pass reads
// (k_chunk taps x NR columns) stays in L1 across the panels; a panel's sums
// wait in a.partial between passes (a float store and reload: the sum over k
// is the same sequence of fused multiply-adds as in one pass).
template <class Arch, int MR, int NV, bool Pack>
void direct_rows(const ConvDirectArgs& a) {
  using Batch = xsimd::batch<float, Arch>;
  constexpr int W = static_cast<int>(Batch::size), NR = NV * W;
  const int64_t panels = (a.OC + MR - 1) / MR;
  for (int64_t ow0 = 0; ow0 < a.OW; ow0 += NR) {
    const int64_t cols = std::min<int64_t>(NR, a.OW - ow0);
    for (int64_t i = 0; i < a.rows; ++i) {
      const float* b = a.band + i * a.Wb + ow0;
      for (int64_t k0 = 0; k0 < a.K; k0 += a.k_chunk) {
        const int64_t k1 = std::min(a.K, k0 + a.k_chunk);
        // With Pack, the pass's slice is first copied to a.packed[k - k0][NR]:
        // the panels then read it in order, aligned, from L1.
        if constexpr (Pack)
          for (int64_t k = k0; k < k1; ++k)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
              Batch::load_unaligned(b + a.offsets[k] + v * W)
                  .store_aligned(a.packed + (k - k0) * NR + v * W);
        for (int64_t p = 0; p < panels; ++p) {
          const float* w = a.panels + (p * a.K + k0) * MR;
          float* part = a.partial + p * MR * NR;
          Batch acc[MR][NV];
#pragma GCC unroll 8
          for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v)
              acc[r][v] = k0 == 0 ? Batch(0.0f) : Batch::load_aligned(part + r * NR + v * W);
          // The blended store (store_tile) reads these lines: fetch them now.
          if (k1 == a.K && a.out_col * (ow0 + NR) <= a.out_span)
            for (int64_t r = 0; r < std::min<int64_t>(MR, a.OC - p * MR); ++r)
              for (int64_t j = 0; j < NR * a.out_col; j += 64 / sizeof(float))
                __builtin_prefetch(
                    a.out + (p * MR + r) * a.out_plane + i * a.out_row + ow0 * a.out_col + j, 1);
          for (int64_t k = k0; k < k1; ++k, w += MR) {
            const float* bk = Pack ? a.packed + (k - k0) * NR : b + a.offsets[k];
            // The shorter side lives in registers across the longer one: MR*NV
            // accumulators + min(MR, NV) + 1 registers.
            if constexpr (MR < NV) {
              Batch wr[MR];
#pragma GCC unroll 8
              for (int r = 0; r < MR; ++r) wr[r] = Batch(w[r]);
#pragma GCC unroll 8
              for (int v = 0; v < NV; ++v) {
                const Batch bv =
                    Pack ? Batch::load_aligned(bk + v * W) : Batch::load_unaligned(bk + v * W);
#pragma GCC unroll 8
                for (int r = 0; r < MR; ++r) acc[r][v] = kernels::fma(wr[r], bv, acc[r][v]);
              }
            } else {
              Batch bv[NV];
#pragma GCC unroll 8
              for (int v = 0; v < NV; ++v)
                bv[v] = Pack ? Batch::load_aligned(bk + v * W) : Batch::load_unaligned(bk + v * W);
#pragma GCC unroll 8
              for (int r = 0; r < MR; ++r) {
                const Batch wr(w[r]);
#pragma GCC unroll 8
                for (int v = 0; v < NV; ++v) acc[r][v] = kernels::fma(wr, bv[v], acc[r][v]);
              }
            }
          }
          if (k1 < a.K) {
#pragma GCC unroll 8
            for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
              for (int v = 0; v < NV; ++v) acc[r][v].store_aligned(part + r * NR + v * W);
            continue;
          }
          store_tile<Arch, MR, NV>(a, acc, p * MR, i, ow0, cols);
        }
      }
    }
  }
}

}  // namespace

template <class Arch>
ConvDirectPlan ConvDirectPlanKernel::operator()(Arch, int64_t OC) const {
  using T = DirectTiles<Arch>;
  if (OC <= 3) return {T::small_mr, T::small_nv * T::W};
  return {T::big_mr, T::big_nv * T::W};
}

template <class Arch>
void ConvDirectKernel::operator()(Arch, const ConvDirectArgs& a, const ConvDirectPlan& plan) const {
  using T = DirectTiles<Arch>;
  if (plan.mr == T::small_mr)
    direct_rows<Arch, T::small_mr, T::small_nv, false>(a);
  else if (a.packed)
    direct_rows<Arch, T::big_mr, T::big_nv, true>(a);
  else
    direct_rows<Arch, T::big_mr, T::big_nv, false>(a);
}

NST_INSTANTIATE_SIMD_KERNEL(ConvDirectPlanKernel, ConvDirectPlan, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(ConvDirectKernel, void, const ConvDirectArgs&, const ConvDirectPlan&)

}  // namespace nst::kernels
