// a * b + c with one rounding, for the SIMD kernels (kernel layer only).
//
// xsimd 8.1 has fused multiply-add kernels for FMA3 and NEON but none for
// AVX-512: xsimd::fma falls back to a * b + c, two instructions and (under
// -ffp-contract=off) two roundings. On the project machine that halves the
// rate of the GEMM micro-kernel's inner loop's arithmetic ports, so the
// AVX-512 instantiation calls the intrinsic itself.
#pragma once

#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace nst::kernels {

template <class Arch>
inline xsimd::batch<float, Arch> fma(const xsimd::batch<float, Arch>& a,
                                     const xsimd::batch<float, Arch>& b,
                                     const xsimd::batch<float, Arch>& c) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>) return _mm512_fmadd_ps(a, b, c);
#endif
  return xsimd::fma(a, b, c);
}

}  // namespace nst::kernels
