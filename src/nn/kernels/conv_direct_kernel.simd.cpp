// SIMD body of the direct convolution (compiled once per instruction set,
// NST_ARCH names it). Register tile: MR channels x NV batches of columns; per
// tap it loads NV batches of the band and broadcasts MR weights for MR*NV
// fused multiply-adds. 16 registers (AVX2, SSE2): 4 x 3 (or 3 x 4 when OC <= 3),
// 12 accumulators; 32 (AVX-512): 8 x 3 (3 x 6), 24 or 18.
#include "nn/kernels/conv_direct_kernel.hpp"
#include "nn/kernels/fma.hpp"

#include <type_traits>

namespace nst::kernels {

namespace {

template <class Arch>
struct DirectTiles {
  using Batch = xsimd::batch<float, Arch>;
  static constexpr int W = static_cast<int>(Batch::size);
  static constexpr bool wide = std::is_base_of_v<xsimd::avx512f, Arch> ||
                               std::is_same_v<Arch, xsimd::neon64>;
  static constexpr int big_mr = wide ? 8 : 4, big_nv = 3;      // OC > 3
  static constexpr int small_mr = 3, small_nv = wide ? 6 : 4;  // OC <= 3
};

template <class Arch, int MR, int NV>
void direct_rows(const ConvDirectArgs& a) {
  using Batch = xsimd::batch<float, Arch>;
  constexpr int W = static_cast<int>(Batch::size), NR = NV * W;
  const int64_t panels = (a.OC + MR - 1) / MR;
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t ow0 = 0; ow0 < a.OW; ow0 += NR) {
      const float* b = a.band + i * a.Wb + ow0;
      const int64_t cols = std::min<int64_t>(NR, a.OW - ow0);
      for (int64_t p = 0; p < panels; ++p) {
        const float* w = a.panels + p * a.K * MR;
        Batch acc[MR][NV];
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[r][v] = Batch(0.0f);
        for (int64_t k = 0; k < a.K; ++k, w += MR) {
          const float* bk = b + a.offsets[k];
          // The shorter side lives in registers across the longer one: MR*NV
          // accumulators + min(MR, NV) + 1 registers.
          if constexpr (MR < NV) {
            Batch wr[MR];
#pragma GCC unroll 8
            for (int r = 0; r < MR; ++r) wr[r] = Batch(w[r]);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) {
              const Batch bv = Batch::load_unaligned(bk + v * W);
#pragma GCC unroll 8
              for (int r = 0; r < MR; ++r) acc[r][v] = kernels::fma(wr[r], bv, acc[r][v]);
            }
          } else {
            Batch bv[NV];
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) bv[v] = Batch::load_unaligned(bk + v * W);
#pragma GCC unroll 8
            for (int r = 0; r < MR; ++r) {
              const Batch wr(w[r]);
#pragma GCC unroll 8
              for (int v = 0; v < NV; ++v) acc[r][v] = kernels::fma(wr, bv[v], acc[r][v]);
            }
          }
        }
        const int64_t o0 = p * MR, channels = std::min<int64_t>(MR, a.OC - o0);
        if (channels == MR && cols == NR && a.out_col == 1) {
#pragma GCC unroll 8
          for (int r = 0; r < MR; ++r) {
            float* dst = a.out + (o0 + r) * a.out_plane + i * a.out_row + ow0;
            const Batch bias(a.bias ? a.bias[o0 + r] : 0.0f);
#pragma GCC unroll 8
            for (int v = 0; v < NV; ++v) {
              Batch y = acc[r][v];
              if (a.bias) y = y + bias;
              if (a.relu) y = xsimd::select(y < Batch(0.0f), Batch(0.0f), y);
              y.store_unaligned(dst + v * W);
            }
          }
          continue;
        }
        alignas(64) float tile[MR * NR];
#pragma GCC unroll 8
        for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[r][v].store_aligned(tile + r * NR + v * W);
        conv_direct_store_edge(a, tile, NR, o0, channels, i, ow0, cols);
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
    direct_rows<Arch, T::small_mr, T::small_nv>(a);
  else
    direct_rows<Arch, T::big_mr, T::big_nv>(a);
}

NST_INSTANTIATE_SIMD_KERNEL(ConvDirectPlanKernel, ConvDirectPlan, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(ConvDirectKernel, void, const ConvDirectArgs&, const ConvDirectPlan&)

}  // namespace nst::kernels
