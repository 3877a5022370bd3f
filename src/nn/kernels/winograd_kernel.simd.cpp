// Winograd F(4x4, 3x3) block steps with xsimd, compiled once per instruction set
// (NST_ARCH): lanes are consecutive tiles; the GEMMs use the GEMM micro-kernel.
// The AVX-512 and AVX2 objects take some steps their own way, from headers only
// they include (winograd_avx512.hpp, winograd_avx2.hpp; see winograd_lanes.hpp).
#include "nn/kernels/winograd_impl.hpp"

namespace nst::kernels {

namespace {

// The wide register tile of the GEMM (8 x 48 on AVX-512) wastes most of its
// columns when a layer has few tiles (VGG's conv5_1 at 256 px: 16 tiles in 48
// columns); the narrow one is one vector wide and taller (12 x 16 on AVX-512:
// 12 accumulators and one B vector). 12 rows rather than 24 keep a panel's U
// (36 x 12 x 512 floats) in L2 while its GEMMs read it (docs/performance.md).
template <class Arch>
struct NarrowTile {
  static constexpr int nv = 1;
  static constexpr int mr = 12;
  static constexpr int nr = static_cast<int>(xsimd::batch<float, Arch>::size);
};

}  // namespace

// Narrow when the wide tile would leave more than a fifth of its columns empty.
// (Either gives the same bits: each element is the same chain of FMAs over C.)
// A whole block is one wide tile's columns on AVX-512 (48), and 48 tiles, three
// panels of 16, on AVX2: with blocks of 16 tiles the GEMMs read the layer's U
// (up to 36 MiB) once per 16 tiles, from memory for the 512-channel layers.
template <class Arch>
WinogradPlan WinogradPlanKernel::operator()(Arch, int64_t tiles) const {
  using T = gemm_detail::SimdTile<Arch>;
  using N = NarrowTile<Arch>;
  constexpr int64_t kBlockTiles = 48;
  auto block = [](int64_t nr) {
    return T::wide ? nr : std::max<int64_t>(nr, kBlockTiles / nr * nr);
  };
  const int64_t padded = (tiles + T::nr - 1) / T::nr * T::nr;
  if (padded * 5 > tiles * 6) return WinogradPlan{N::mr, N::nr, block(N::nr)};
  return WinogradPlan{T::mr, T::nr, block(T::nr)};
}

template <class Arch>
void WinogradWeightKernel::operator()(Arch, const WinogradWeights& w, int64_t p0,
                                      int64_t p1) const {
  winograd_detail::weight_panels<Arch>(w, p0, p1);
}

template <class Arch>
void WinogradInputKernel::operator()(Arch, const WinogradBlock& b, int64_t c0, int64_t c1) const {
  winograd_detail::input_block<Arch>(b, c0, c1);
}

template <class Arch>
void WinogradGemmKernel::operator()(Arch, const WinogradBlock& b, int64_t i0, int64_t i1) const {
  using T = gemm_detail::SimdTile<Arch>;
  using N = NarrowTile<Arch>;
  if (b.plan.mr == N::mr && b.plan.nr == N::nr)
    winograd_detail::gemm_block<Arch>(b, i0, i1, gemm_detail::SimdMicroKernel<Arch, N::mr, N::nv>{});
  else
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
