// GEMM kernel for ScalarArch: the same packing and blocking as the SIMD
// kernels, with a micro-kernel of plain loops.
#include "nn/kernels/gemm_kernel.hpp"

#include "nn/kernels/gemm_micro.hpp"

namespace nst::kernels {

namespace {
using Tile = gemm_detail::PlainTile<ScalarArch>;
}  // namespace

GemmPlan GemmPlanKernel::operator()(ScalarArch, int64_t K) const {
  return gemm_detail::make_plan<ScalarArch>(Tile::mr, Tile::nr, K, 256, 64, 256);
}

void GemmTileKernel::operator()(ScalarArch, const GemmArgs& g, const GemmPlan& plan,
                                const GemmTile& tile, const GemmTile& next, float* pack_a,
                                float* pack_b) const {
  gemm_detail::run_tile<ScalarArch, Tile::mr, Tile::nr>(
      g, plan, tile, next, pack_a, pack_b, gemm_detail::PlainMicroKernel<ScalarArch, Tile::mr, Tile::nr>{});
}

}  // namespace nst::kernels
