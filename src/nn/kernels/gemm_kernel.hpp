// GEMM kernels: packing, register-blocked micro-kernel, one tile of C.
//
// C = alpha * op(A) * op(B) + beta * C is computed tile by tile (gemm() in
// gemm.cpp splits C into tiles of at most mc x nc and runs them in parallel,
// or runs the K blocks in parallel when C has too few tiles). For one
// tile, for each block of kc steps of K (Goto & van de Geijn, "Anatomy of
// high-performance matrix multiplication", 2008):
//
//   pack op(A)[tile rows, k block] into panels of mr rows:   [k][mr] per panel
//   pack op(B)[k block, tile cols] into panels of nr columns: [k][nr] per panel
//   for each (mr x nr) sub-tile: acc = sum over k of a[k][r] * b[k][c]
//     first k block:  C = alpha * acc + beta * C   (beta == 0: C is not read)
//     later blocks:   C = alpha * acc + C
//
// Panels are zero-padded to full mr / nr, so edge tiles run the same
// micro-kernel and only the valid part is stored. Every element of C is summed
// over K in one fixed order (k blocks in order, k within a block in order),
// whatever the tiling or the thread count.
#pragma once

#include <algorithm>
#include <cstdint>

#include "nn/kernels/dispatch.hpp"

namespace nst::kernels {

// The arguments of gemm() (gemm.hpp), already checked.
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t M = 0, N = 0, K = 0;
  float alpha = 1.0f;
  const float* A = nullptr;
  int64_t lda = 0;
  const float* B = nullptr;
  int64_t ldb = 0;
  float beta = 0.0f;
  float* C = nullptr;
  int64_t ldc = 0;
  // The epilogue after the last K block (gemm.hpp's GemmEpilogue).
  const float* bias = nullptr;
  bool relu = false;
};

// C[i][j] = max(C[i][j] + bias[i], 0) (bias null: + 0; relu false: no max)
// for rows [i0, i0 + rows) and columns [j0, j0 + cols); nothing at all when
// there is neither bias nor ReLU (adding 0 would turn -0 into +0).
inline void gemm_epilogue(const GemmArgs& g, int64_t i0, int64_t rows, int64_t j0, int64_t cols) {
  if (!g.bias && !g.relu) return;
  for (int64_t i = i0; i < i0 + rows; ++i) {
    float* row = g.C + i * g.ldc + j0;
    const float b = g.bias ? g.bias[i] : 0.0f;
    for (int64_t j = 0; j < cols; ++j) {
      const float v = row[j] + b;
      row[j] = g.relu ? std::max(v, 0.0f) : v;
    }
  }
}

// Register tile (mr x nr) and cache blocks (kc, mc, nc) for one instruction set.
// mc is a multiple of mr, nc of nr; kc is the K block used for this K.
struct GemmPlan {
  int64_t mr, nr, kc, mc, nc;
};

// Floats of packing space a tile of m x n (m <= mc, n <= nc) needs; the A part
// is rounded up to 64 bytes so that the B part after it stays aligned.
inline int64_t gemm_pack_a_floats(const GemmPlan& p) { return (p.mc * p.kc + 15) / 16 * 16; }
inline int64_t gemm_pack_b_floats(const GemmPlan& p) { return p.kc * p.nc; }

// The plan for a problem with this K.
struct GemmPlanKernel {
  template <class Arch>
  GemmPlan operator()(Arch, int64_t K) const;
  GemmPlan operator()(ScalarArch, int64_t K) const;
};

// The block C[i0 : i0+m, j0 : j0+n] of C.
struct GemmTile {
  int64_t i0 = 0, m = 0, j0 = 0, n = 0;
};

// `tile` of C for the whole K, with m <= plan.mc, n <= plan.nc. `next` is the
// tile this thread does next, if any (m == 0: none): its first inputs are
// fetched into the cache while this one computes.
// pack_a / pack_b: 64-byte aligned, gemm_pack_a_floats / gemm_pack_b_floats long.
struct GemmTileKernel {
  template <class Arch>
  void operator()(Arch, const GemmArgs& g, const GemmPlan& plan, const GemmTile& tile,
                  const GemmTile& next, float* pack_a, float* pack_b) const;
  void operator()(ScalarArch, const GemmArgs& g, const GemmPlan& plan, const GemmTile& tile,
                  const GemmTile& next, float* pack_a, float* pack_b) const;
};

}  // namespace nst::kernels

NST_DECLARE_SIMD_KERNEL(nst::kernels::GemmPlanKernel, nst::kernels::GemmPlan, int64_t)
NST_DECLARE_SIMD_KERNEL(nst::kernels::GemmTileKernel, void, const nst::kernels::GemmArgs&,
                        const nst::kernels::GemmPlan&, const nst::kernels::GemmTile&,
                        const nst::kernels::GemmTile&, float*, float*)
