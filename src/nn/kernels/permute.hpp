// Compile-time lane permutations of float batches (kernel layer only), for the
// instruction sets whose xsimd::swizzle is a single cross-lane shuffle.
#pragma once

#include <type_traits>

#include <xsimd/xsimd.hpp>

namespace nst::kernels {

// Whether permute() below is one instruction (x86 SSE2, AVX, AVX-512); other
// targets take the plain-loop paths of the kernels that use it.
template <class Arch>
inline constexpr bool kHasPermute = std::is_base_of_v<xsimd::sse2, Arch> ||
                                    std::is_base_of_v<xsimd::avx, Arch> ||
                                    std::is_base_of_v<xsimd::avx512f, Arch>;

// xsimd::swizzle, except on AVX-512 where xsimd's permute starts from
// _mm512_undefined_ps, which GCC 12 flags as used uninitialised: the zero-masked
// form is the same instruction without that operand.
template <class Arch, class Mask>
xsimd::batch<float, Arch> permute(const xsimd::batch<float, Arch>& a, Mask mask) {
#if defined(__AVX512F__)
  if constexpr (std::is_base_of_v<xsimd::avx512f, Arch>)
    return _mm512_maskz_permutexvar_ps(__mmask16(0xffff),
                                       __m512i(xsimd::batch<uint32_t, Arch>(mask)), a);
#endif
  return xsimd::swizzle(a, mask);
}

}  // namespace nst::kernels
