// Winograd F(4x4, 3x3) block steps for ScalarArch: one tile per lane, the
// plain-loop GEMM micro-kernel.
#include "nn/kernels/winograd_impl.hpp"

namespace nst::kernels {

namespace {
using Tile = gemm_detail::PlainTile<ScalarArch>;
}  // namespace

WinogradPlan WinogradPlanKernel::operator()(ScalarArch, int64_t) const {
  return WinogradPlan{Tile::mr, Tile::nr, Tile::nr};
}

void WinogradWeightKernel::operator()(ScalarArch, const WinogradWeights& w, int64_t p0,
                                      int64_t p1) const {
  winograd_detail::weight_panels<ScalarArch>(w, p0, p1);
}

void WinogradInputKernel::operator()(ScalarArch, const WinogradBlock& b, int64_t c0,
                                     int64_t c1) const {
  winograd_detail::input_block<ScalarArch>(b, c0, c1);
}

void WinogradGemmKernel::operator()(ScalarArch, const WinogradBlock& b, int64_t i0,
                                    int64_t i1) const {
  winograd_detail::gemm_block<ScalarArch>(
      b, i0, i1, gemm_detail::PlainMicroKernel<ScalarArch, Tile::mr, Tile::nr>{});
}

void WinogradOutputKernel::operator()(ScalarArch, const WinogradBlock& b, int64_t o0,
                                      int64_t o1) const {
  winograd_detail::output_block<ScalarArch>(b, o0, o1);
}

}  // namespace nst::kernels
