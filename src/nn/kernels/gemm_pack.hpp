// Packing and the blocked loop over one tile of C (plain loops), shared by the
// SIMD kernels (gemm_kernel.simd.cpp) and the scalar one (gemm_kernel.cpp).
//
// Everything here is a template on the Arch tag, so each translation unit built
// with its own -m flags instantiates its own copies: no symbol compiled for
// AVX-512 can be picked by the linker for the scalar path.
#pragma once

#include <algorithm>
#include <cstdint>

#include "nn/kernels/gemm_kernel.hpp"
#include "tensor/check.hpp"

namespace nst::kernels::gemm_detail {

// Blocks for this K: kc at most kc_max, all K blocks of (nearly) equal size
// (K = 576 with kc_max = 384 gives 2 x 288 rather than 384 + 192).
template <class Arch>
GemmPlan make_plan(int64_t mr, int64_t nr, int64_t K, int64_t kc_max, int64_t mc_max,
                   int64_t nc_max) {
  const int64_t k_blocks = std::max<int64_t>(1, (K + kc_max - 1) / kc_max);
  const int64_t kc = std::max<int64_t>(1, (K + k_blocks - 1) / k_blocks);
  return GemmPlan{mr, nr, kc, mc_max / mr * mr, nc_max / nr * nr};
}

// Packs op(A)[i0 : i0+m, k0 : k0+kb] into panels of MR rows, panel p holding
// dst[p*kb*MR + k*MR + r] = op(A)(i0 + p*MR + r, k0 + k); rows past m are zero.
template <class Arch, int MR>
void pack_a(float* dst, const GemmArgs& g, int64_t i0, int64_t m, int64_t k0, int64_t kb) {
  for (int64_t p = 0; p < m; p += MR, dst += kb * MR) {
    const int64_t rows = std::min<int64_t>(MR, m - p);
    if (g.trans_a) {  // op(A)(i, k) = A[k*lda + i]: MR contiguous floats per k
      const float* src = g.A + k0 * g.lda + i0 + p;
      for (int64_t k = 0; k < kb; ++k) {
        float* d = dst + k * MR;
        const float* s = src + k * g.lda;
        if (rows == MR) {
          for (int r = 0; r < MR; ++r) d[r] = s[r];
        } else {
          for (int r = 0; r < MR; ++r) d[r] = r < rows ? s[r] : 0.0f;
        }
      }
    } else {  // op(A)(i, k) = A[i*lda + k]: each row contiguous in k
      for (int r = 0; r < MR; ++r) {
        if (r < rows) {
          const float* s = g.A + (i0 + p + r) * g.lda + k0;
          for (int64_t k = 0; k < kb; ++k) dst[k * MR + r] = s[k];
        } else {
          for (int64_t k = 0; k < kb; ++k) dst[k * MR + r] = 0.0f;
        }
      }
    }
  }
}

// Packs op(B)[k0 : k0+kb, j0 : j0+n] into panels of NR columns, panel q holding
// dst[q*kb*NR + k*NR + c] = op(B)(k0 + k, j0 + q*NR + c); columns past n are zero.
template <class Arch, int NR>
void pack_b(float* dst, const GemmArgs& g, int64_t k0, int64_t kb, int64_t j0, int64_t n) {
  for (int64_t q = 0; q < n; q += NR, dst += kb * NR) {
    const int64_t cols = std::min<int64_t>(NR, n - q);
    if (!g.trans_b) {  // op(B)(k, j) = B[k*ldb + j]: NR contiguous floats per k
      const float* src = g.B + k0 * g.ldb + j0 + q;
      for (int64_t k = 0; k < kb; ++k) {
        float* d = dst + k * NR;
        const float* s = src + k * g.ldb;
        if (cols == NR) {
          for (int c = 0; c < NR; ++c) d[c] = s[c];
        } else {
          for (int c = 0; c < NR; ++c) d[c] = c < cols ? s[c] : 0.0f;
        }
      }
    } else {  // op(B)(k, j) = B[j*ldb + k]: each column of op(B) contiguous in k
      for (int c = 0; c < NR; ++c) {
        if (c < cols) {
          const float* s = g.B + (j0 + q + c) * g.ldb + k0;
          for (int64_t k = 0; k < kb; ++k) dst[k * NR + c] = s[k];
        } else {
          for (int64_t k = 0; k < kb; ++k) dst[k * NR + c] = 0.0f;
        }
      }
    }
  }
}

// Stores the valid rows x cols of an MR x NR accumulator tile (row-major in acc):
// C = alpha * acc + beta * C, or C = alpha * acc when beta == 0 (C not read).
template <class Arch, int MR, int NR>
void store_edge(float* c, int64_t ldc, const float* acc, int64_t rows, int64_t cols, float alpha,
                float beta) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      float& out = c[r * ldc + j];
      const float v = alpha * acc[r * NR + j];
      out = beta == 0.0f ? v : v + beta * out;
    }
}

// One tile C[i0 : i0+m, j0 : j0+n] (m <= plan.mc, n <= plan.nc) for the whole K.
// micro(kb, a_panel, b_panel, c, ldc, rows, cols, alpha, beta) does one MR x NR
// sub-tile for one K block.
template <class Arch, int MR, int NR, class Micro>
void run_tile(const GemmArgs& g, const GemmPlan& plan, int64_t i0, int64_t m, int64_t j0,
              int64_t n, float* packed_a, float* packed_b, const Micro& micro) {
  NST_CHECK(plan.mr == MR && plan.nr == NR && m <= plan.mc && n <= plan.nc,
            "gemm: the tile ", m, " x ", n, " does not fit the plan (was the SIMD level changed "
            "while a gemm was running?)");
  for (int64_t k0 = 0; k0 < g.K; k0 += plan.kc) {
    const int64_t kb = std::min(plan.kc, g.K - k0);
    pack_a<Arch, MR>(packed_a, g, i0, m, k0, kb);
    pack_b<Arch, NR>(packed_b, g, k0, kb, j0, n);
    const float beta = k0 == 0 ? g.beta : 1.0f;  // later K blocks add to C
    // A micro-panel (kb x MR) stays in L1 while the B panels stream from L2.
    for (int64_t ir = 0; ir < m; ir += MR)
      for (int64_t jr = 0; jr < n; jr += NR)
        micro(kb, packed_a + ir * kb, packed_b + jr * kb, g.C + (i0 + ir) * g.ldc + j0 + jr,
              g.ldc, std::min<int64_t>(MR, m - ir), std::min<int64_t>(NR, n - jr), g.alpha, beta);
  }
}

}  // namespace nst::kernels::gemm_detail
