// GEMM micro-kernel with xsimd, compiled once per instruction set (NST_ARCH).
#include "nn/kernels/gemm_kernel.hpp"

#include "nn/kernels/gemm_micro.hpp"

namespace nst::kernels {

// Cache blocks: the A micro-panel (kc x mr, at most 16 KB) stays in L1 while the
// packed B block (kc x nc) streams from L2/L3; the packed A block (mc x kc) is
// reused across the tile's columns. Sizes chosen by measuring on the project
// machine (AVX-512, 1 MB L2, 32 MB L3): wide mc and nc amortise the packing,
// which cost more than the cache misses of a B block larger than L2; kc up to
// 512 keeps K = 512 (the Gram backward of 512 channels) in one block: 512 x 3072
// x 512 in 9.4 ms on 2 threads, against 11.3 ms with two blocks of 256.
template <class Arch>
GemmPlan GemmPlanKernel::operator()(Arch, int64_t K) const {
  using T = gemm_detail::SimdTile<Arch>;
  return gemm_detail::make_plan<Arch>(T::mr, T::nr, K, 512, 256, 1152);
}

template <class Arch>
void GemmTileKernel::operator()(Arch, const GemmArgs& g, const GemmPlan& plan, const GemmTile& tile,
                                const GemmTile& next, float* pack_a, float* pack_b) const {
  using T = gemm_detail::SimdTile<Arch>;
  gemm_detail::run_tile<Arch, T::mr, T::nr>(g, plan, tile, next, pack_a, pack_b,
                                            gemm_detail::SimdMicroKernel<Arch, T::mr, T::nv>{});
}

NST_INSTANTIATE_SIMD_KERNEL(GemmPlanKernel, GemmPlan, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(GemmTileKernel, void, const GemmArgs&, const GemmPlan&, const GemmTile&,
                            const GemmTile&, float*, float*)

}  // namespace nst::kernels
