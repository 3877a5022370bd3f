// The SIMD block of a Gram matrix, which gram_forward (gram.cpp) runs on its
// tiles (see dispatch.hpp for the pattern): the templated call operator lives
// in gram_kernel.simd.cpp, compiled once per instruction set; the ScalarArch
// overload (plain loops) in gram_kernel.cpp.
#pragma once

#include <cstdint>

#include "nn/kernels/dispatch.hpp"

namespace nst::kernels {

// Rows of F a block of the Gram matrix spans, and the columns (k) one pass of
// a block reads before it adds its sums into P (its rows stay in L2).
constexpr int64_t kGramBlockRows = 64;
constexpr int64_t kGramPassColumns = 2048;

// One block of P = F[:, k0:k1] F[:, k0:k1]ᵀ for the rows F is given from:
//   P[i*ldp + j] (+)= Σ_{k0 <= k < k1} F[i*ld + k] F[j*ld + k]
// for i in [i0, i1), j in [j0, j1) with j >= i at least (groups of rows wholly
// below the diagonal are skipped: the caller mirrors the upper triangle).
// `accumulate`: add to P instead of overwriting it. Each product sum runs in
// a fixed order (lanes of k, then the lanes added, then the scalar tail), so
// P[i][j] and P[j][i] get the same bits and no thread count changes them.
struct GramBlockKernel {
  template <class Arch>
  void operator()(Arch, const float* F, int64_t ld, int64_t k0, int64_t k1, int64_t i0,
                  int64_t i1, int64_t j0, int64_t j1, float* P, int64_t ldp,
                  bool accumulate) const;
  void operator()(ScalarArch, const float* F, int64_t ld, int64_t k0, int64_t k1, int64_t i0,
                  int64_t i1, int64_t j0, int64_t j1, float* P, int64_t ldp,
                  bool accumulate) const;
};

}  // namespace nst::kernels

NST_DECLARE_SIMD_KERNEL(nst::kernels::GramBlockKernel, void, const float*, int64_t, int64_t,
                        int64_t, int64_t, int64_t, int64_t, int64_t, float*, int64_t, bool)
