// GEMM micro-kernel with xsimd, compiled once per instruction set (NST_ARCH).
#include "nn/kernels/gemm_kernel.hpp"

#include <type_traits>

#include "nn/kernels/gemm_pack.hpp"

namespace nst::kernels {

namespace {

// Register tile: mr rows of A times nv vectors of B. It uses mr*nv accumulators,
// nv registers for B and one for the broadcast of A, out of 32 (AVX-512) or 16.
// AVX-512: 8 x 48 (24 accumulators; M = 64, 256, 512 of VGG split without
// edges); per k it loads 3 vectors and 8 scalars for 24 FMAs.
template <class Arch>
struct SimdTile {
  using Batch = xsimd::batch<float, Arch>;
  static constexpr bool wide = std::is_base_of_v<xsimd::avx512f, Arch>;
  static constexpr int nv = wide ? 3 : 2;
  static constexpr int mr = wide ? 8 : 6;
  static constexpr int nr = nv * static_cast<int>(Batch::size);
};

// acc[r][v] = sum over k of a[k*MR + r] * b[k*NR + v*W : ...], then stored into C.
template <class Arch, int MR, int NV>
struct SimdMicroKernel {
  void operator()(int64_t kb, const float* a, const float* b, float* c, int64_t ldc, int64_t rows,
                  int64_t cols, float alpha, float beta) const {
    using Batch = xsimd::batch<float, Arch>;
    constexpr int W = static_cast<int>(Batch::size);
    constexpr int NR = NV * W;
    Batch acc[MR][NV];
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v] = Batch(0.0f);
    for (int64_t k = 0; k < kb; ++k, a += MR, b += NR) {
      Batch bv[NV];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) bv[v] = Batch::load_aligned(b + v * W);
#pragma GCC unroll 32
      for (int r = 0; r < MR; ++r) {
        const Batch ar(a[r]);
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) acc[r][v] = xsimd::fma(ar, bv[v], acc[r][v]);
      }
    }
    const Batch valpha(alpha), vbeta(beta);
    if (rows == MR && cols == NR) {
#pragma GCC unroll 32
      for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
        for (int v = 0; v < NV; ++v) {
          float* out = c + r * ldc + v * W;
          Batch y = valpha * acc[r][v];
          if (beta != 0.0f) y = y + vbeta * Batch::load_unaligned(out);
          y.store_unaligned(out);
        }
      return;
    }
    alignas(64) float tile[MR * NR];
#pragma GCC unroll 32
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[r][v].store_aligned(tile + r * NR + v * W);
    gemm_detail::store_edge<Arch, MR, NR>(c, ldc, tile, rows, cols, alpha, beta);
  }
};

}  // namespace

// Cache blocks: the A micro-panel (kc x mr, 12 KB) stays in L1 while the packed
// B block (kc x nc) streams from L2/L3; the packed A block (mc x kc) is reused
// across the tile's columns. Sizes chosen by measuring on the project machine
// (AVX-512, 1 MB L2, 32 MB L3): wide mc and nc amortise the packing, which cost
// more than the cache misses of a B block larger than L2.
template <class Arch>
GemmPlan GemmPlanKernel::operator()(Arch, int64_t K) const {
  using T = SimdTile<Arch>;
  return gemm_detail::make_plan<Arch>(T::mr, T::nr, K, 384, 256, 1152);
}

template <class Arch>
void GemmTileKernel::operator()(Arch, const GemmArgs& g, const GemmPlan& plan, const GemmTile& tile,
                                const GemmTile& next, float* pack_a, float* pack_b) const {
  using T = SimdTile<Arch>;
  gemm_detail::run_tile<Arch, T::mr, T::nr>(g, plan, tile, next, pack_a, pack_b,
                                            SimdMicroKernel<Arch, T::mr, T::nv>{});
}

NST_INSTANTIATE_SIMD_KERNEL(GemmPlanKernel, GemmPlan, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(GemmTileKernel, void, const GemmArgs&, const GemmPlan&, const GemmTile&,
                            const GemmTile&, float*, float*)

}  // namespace nst::kernels
