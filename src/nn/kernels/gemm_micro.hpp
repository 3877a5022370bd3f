// GEMM micro-kernels: one mr x nr tile of C from packed panels (see
// gemm_kernel.hpp for the panel layout). Shared by the GEMM and the Winograd
// convolution, whose transforms write their operands directly as panels.
//
// Everything here is a template on the Arch tag, so each translation unit built
// with its own -m flags instantiates its own copies (see gemm_pack.hpp).
#pragma once

#include <cstdint>
#include <type_traits>

#include "nn/kernels/gemm_pack.hpp"
#include "nn/kernels/fma.hpp"

namespace nst::kernels::gemm_detail {

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
        for (int v = 0; v < NV; ++v) acc[r][v] = kernels::fma(ar, bv[v], acc[r][v]);
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


// Plain loops for ScalarArch: a 4 x 4 tile.
template <class Arch>
struct PlainTile {
  static constexpr int mr = 4;
  static constexpr int nr = 4;
};

// acc[r][j] = sum over k of a[k*MR + r] * b[k*NR + j], then stored into C.
template <class Arch, int MR, int NR>
struct PlainMicroKernel {
  void operator()(int64_t kb, const float* a, const float* b, float* c, int64_t ldc, int64_t rows,
                  int64_t cols, float alpha, float beta) const {
    float acc[MR * NR] = {};
    for (int64_t k = 0; k < kb; ++k, a += MR, b += NR)
      for (int r = 0; r < MR; ++r)
        for (int j = 0; j < NR; ++j) acc[r * NR + j] += a[r] * b[j];
    store_edge<Arch, MR, NR>(c, ldc, acc, rows, cols, alpha, beta);
  }
};

}  // namespace nst::kernels::gemm_detail
