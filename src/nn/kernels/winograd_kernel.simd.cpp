// Winograd F(4x4, 3x3) block steps with xsimd, compiled once per instruction set
// (NST_ARCH): lanes are consecutive tiles; the GEMMs use the GEMM micro-kernel.
#include "nn/kernels/winograd_impl.hpp"

namespace nst::kernels {

template <class Arch>
WinogradPlan WinogradPlanKernel::operator()(Arch, int64_t) const {
  using T = gemm_detail::SimdTile<Arch>;
  return WinogradPlan{T::mr, T::nr, winograd_detail::Lanes<Arch>::W};
}

template <class Arch>
void WinogradWeightKernel::operator()(Arch, const WinogradWeights& w, int64_t p0,
                                      int64_t p1) const {
  winograd_detail::weight_panels<Arch>(w, gemm_detail::SimdTile<Arch>::mr, p0, p1);
}

template <class Arch>
void WinogradInputKernel::operator()(Arch, const WinogradBlock& b, int64_t c0, int64_t c1) const {
  winograd_detail::input_block<Arch>(b, c0, c1);
}

template <class Arch>
void WinogradGemmKernel::operator()(Arch, const WinogradBlock& b, int64_t i0, int64_t i1) const {
  using T = gemm_detail::SimdTile<Arch>;
  winograd_detail::gemm_block<Arch>(b, i0, i1, gemm_detail::SimdMicroKernel<Arch, T::mr, T::nv>{});
}

template <class Arch>
void WinogradOutputKernel::operator()(Arch, const WinogradBlock& b, int64_t o0, int64_t o1) const {
  winograd_detail::output_block<Arch>(b, o0, o1);
}

NST_INSTANTIATE_SIMD_KERNEL(WinogradPlanKernel, WinogradPlan, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(WinogradWeightKernel, void, const WinogradWeights&, int64_t, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(WinogradInputKernel, void, const WinogradBlock&, int64_t, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(WinogradGemmKernel, void, const WinogradBlock&, int64_t, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(WinogradOutputKernel, void, const WinogradBlock&, int64_t, int64_t)

}  // namespace nst::kernels
