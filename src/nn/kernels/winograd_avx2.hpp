// The AVX2 version of one Winograd step (same values, same bits as the portable
// one in winograd_lanes.hpp, which calls it): the loads at the image's left and
// right edges, by a masked load. Included only in the objects compiled with
// -mavx2 (winograd_kernel.simd.cpp for AVX2, and for AVX-512, which has its own).
#pragma once

#if !defined(__AVX2__)
#error "winograd_avx2.hpp is for the objects compiled with -mavx2 only"
#endif

#include <cstdint>

#include <xsimd/xsimd.hpp>

namespace nst::kernels::winograd_detail {

// Lanes [first, last) of the 8 floats at `address`, the others zero; only
// those lanes are read (0 <= first < last <= 8).
template <class Arch>
inline xsimd::batch<float, Arch> load_lanes_avx2(const float* address, int64_t first,
                                                 int64_t last) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i in = _mm256_and_si256(
      _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(static_cast<int>(first) - 1)),
      _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(last)), lane));
  return _mm256_maskload_ps(address, in);
}

}  // namespace nst::kernels::winograd_detail
