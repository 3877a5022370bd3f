// Packing and the blocked loop over one tile of C (plain loops), shared by the
// SIMD kernels (gemm_kernel.simd.cpp) and the scalar one (gemm_kernel.cpp).
//
// Everything here is a template on the Arch tag, so each translation unit built
// with its own -m flags instantiates its own copies: no symbol compiled for
// AVX-512 can be picked by the linker for the scalar path.
#pragma once

#include <algorithm>
#include <cstddef>
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

// One panel from `lines` rows of src (ld apart), each contiguous over kb:
// dst[k*W + r] = src[r*ld + k], rows past `lines` zero. Goes 16 k (one cache
// line) at a time across all rows, so many rows' misses are in flight at once,
// and asks for the rows' next lines ahead (rows a large power of two apart are
// followed poorly by the hardware prefetchers).
template <class Arch, int W>
void pack_transposed(float* dst, const float* src, int64_t ld, int64_t lines, int64_t kb) {
  constexpr int64_t kChunk = 16, kAhead = 64;
  for (int64_t k0 = 0; k0 < kb; k0 += kChunk) {
    const int64_t k1 = std::min(kb, k0 + kChunk);
    for (int64_t r = 0; r < W; ++r) {
      if (r < lines) {
        const float* s = src + r * ld;
        if (k0 + kAhead < kb) __builtin_prefetch(s + k0 + kAhead);
        for (int64_t k = k0; k < k1; ++k) dst[k * W + r] = s[k];
      } else {
        for (int64_t k = k0; k < k1; ++k) dst[k * W + r] = 0.0f;
      }
    }
  }
}

// Packs op(A)[i0 : i0+m, k0 : k0+kb] into panels of MR rows, panel p holding
// dst[p*kb*MR + k*MR + r] = op(A)(i0 + p*MR + r, k0 + k); rows past m are zero.
template <class Arch, int MR>
void pack_a(float* dst, const GemmArgs& g, int64_t i0, int64_t m, int64_t k0, int64_t kb) {
  if (g.trans_a) {  // op(A)(i, k) = A[k*lda + i]: read A row by row (contiguous in i)
    for (int64_t k = 0; k < kb; ++k) {
      const float* s = g.A + (k0 + k) * g.lda + i0;
      for (int64_t p = 0; p < m; p += MR) {
        float* d = dst + p * kb + k * MR;
        if (m - p >= MR) {
          for (int r = 0; r < MR; ++r) d[r] = s[p + r];
        } else {
          for (int r = 0; r < MR; ++r) d[r] = p + r < m ? s[p + r] : 0.0f;
        }
      }
    }
    return;
  }
  // op(A)(i, k) = A[i*lda + k]: each row contiguous in k
  for (int64_t p = 0; p < m; p += MR, dst += kb * MR)
    pack_transposed<Arch, MR>(dst, g.A + (i0 + p) * g.lda + k0, g.lda, std::min<int64_t>(MR, m - p),
                              kb);
}

// Packs op(B)[k0 : k0+kb, j0 : j0+n] into panels of NR columns, panel q holding
// dst[q*kb*NR + k*NR + c] = op(B)(k0 + k, j0 + q*NR + c); columns past n are zero.
template <class Arch, int NR>
void pack_b(float* dst, const GemmArgs& g, int64_t k0, int64_t kb, int64_t j0, int64_t n) {
  if (!g.trans_b) {  // op(B)(k, j) = B[k*ldb + j]: read B row by row (contiguous in j)
    for (int64_t k = 0; k < kb; ++k) {
      const float* s = g.B + (k0 + k) * g.ldb + j0;
      for (int64_t q = 0; q < n; q += NR) {
        float* d = dst + q * kb + k * NR;
        if (n - q >= NR) {
          for (int c = 0; c < NR; ++c) d[c] = s[q + c];
        } else {
          for (int c = 0; c < NR; ++c) d[c] = q + c < n ? s[q + c] : 0.0f;
        }
      }
    }
    return;
  }
  // op(B)(k, j) = B[j*ldb + k]: each column of op(B) contiguous in k
  for (int64_t q = 0; q < n; q += NR, dst += kb * NR)
    pack_transposed<Arch, NR>(dst, g.B + (j0 + q) * g.ldb + k0, g.ldb, std::min<int64_t>(NR, n - q),
                              kb);
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

// Requests the cache lines of a rows x cols region (rows ld floats apart) in
// `steps` equal portions, so that reading the next block from memory overlaps
// the arithmetic on the current one instead of stalling its packing.
template <class Arch>
class RegionPrefetcher {
 public:
  RegionPrefetcher() = default;
  RegionPrefetcher(const float* base, int64_t ld, int64_t rows, int64_t cols, int64_t steps)
      : base_(base),
        ld_(ld),
        row_lines_((cols + 15) / 16),
        total_(rows * row_lines_),
        per_step_((total_ + steps - 1) / std::max<int64_t>(1, steps)) {}

  void step() {
    for (const int64_t end = std::min(total_, done_ + per_step_); done_ < end; ++done_)
      __builtin_prefetch(base_ + (done_ / row_lines_) * ld_ + (done_ % row_lines_) * 16, 0, 1);
  }

 private:
  const float* base_ = nullptr;
  int64_t ld_ = 0, row_lines_ = 1, total_ = 0, per_step_ = 0, done_ = 0;
};

// Prefetchers for the K block k1 of `tile` (op(A) rows, op(B) columns), spread
// over `steps` calls.
template <class Arch>
void prefetch_block(RegionPrefetcher<Arch>& a, RegionPrefetcher<Arch>& b, const GemmArgs& g,
                    const GemmPlan& plan, const GemmTile& tile, int64_t k1, int64_t steps) {
  const int64_t kn = std::min(plan.kc, g.K - k1);
  const int64_t i0 = tile.i0, m = tile.m, j0 = tile.j0, n = tile.n;
  a = g.trans_a ? RegionPrefetcher<Arch>(g.A + k1 * g.lda + i0, g.lda, kn, m, steps)
                : RegionPrefetcher<Arch>(g.A + i0 * g.lda + k1, g.lda, m, kn, steps);
  b = g.trans_b ? RegionPrefetcher<Arch>(g.B + j0 * g.ldb + k1, g.ldb, n, kn, steps)
                : RegionPrefetcher<Arch>(g.B + k1 * g.ldb + j0, g.ldb, kn, n, steps);
}

// One tile of C (m <= plan.mc, n <= plan.nc) for the whole K.
// micro(kb, a_panel, b_panel, c, ldc, rows, cols, alpha, beta) does one MR x NR
// sub-tile for one K block.
template <class Arch, int MR, int NR, class Micro>
void run_tile(const GemmArgs& g, const GemmPlan& plan, const GemmTile& tile, const GemmTile& next,
              float* packed_a, float* packed_b, const Micro& micro) {
  const int64_t i0 = tile.i0, m = tile.m, j0 = tile.j0, n = tile.n;
  NST_CHECK(plan.mr == MR && plan.nr == NR && m <= plan.mc && n <= plan.nc, "gemm: tile ", m, " x ",
            n, " does not fit the plan (SIMD level changed during a gemm?)");
  NST_CHECK(reinterpret_cast<uintptr_t>(packed_a) % 64 == 0 &&
                reinterpret_cast<uintptr_t>(packed_b) % 64 == 0,
            "gemm: packing buffers must be 64-byte aligned");
  const int64_t calls = ((m + MR - 1) / MR) * ((n + NR - 1) / NR);
  for (int64_t k0 = 0; k0 < g.K; k0 += plan.kc) {
    const int64_t kb = std::min(plan.kc, g.K - k0);
    pack_a<Arch, MR>(packed_a, g, i0, m, k0, kb);
    pack_b<Arch, NR>(packed_b, g, k0, kb, j0, n);
    // The inputs of the next K block (or of the next tile's first one) are
    // fetched a little after each micro-kernel.
    RegionPrefetcher<Arch> next_a, next_b;
    if (k0 + kb < g.K)
      prefetch_block(next_a, next_b, g, plan, tile, k0 + kb, calls);
    else if (next.m > 0)
      prefetch_block(next_a, next_b, g, plan, next, 0, calls);
    const float beta = k0 == 0 ? g.beta : 1.0f;  // later K blocks add to C
    const bool last = k0 + kb == g.K;
    // A micro-panel (kb x MR) stays in L1 while the B panels stream from L2/L3.
    for (int64_t ir = 0; ir < m; ir += MR)
      for (int64_t jr = 0; jr < n; jr += NR) {
        const int64_t rows = std::min<int64_t>(MR, m - ir), cols = std::min<int64_t>(NR, n - jr);
        micro(kb, packed_a + ir * kb, packed_b + jr * kb, g.C + (i0 + ir) * g.ldc + j0 + jr, g.ldc,
              rows, cols, g.alpha, beta);
        if (last) gemm_epilogue(g, i0 + ir, rows, j0 + jr, cols);
        next_a.step();
        next_b.step();
      }
  }
}

}  // namespace nst::kernels::gemm_detail
