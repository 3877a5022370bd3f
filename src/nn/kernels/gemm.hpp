// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or Xᵀ.
//
//   op(A) is M x K: A is M x K (lda >= K), or K x M when trans_a (lda >= M).
//   op(B) is K x N: B is K x N (ldb >= N), or N x K when trans_b (ldb >= K).
//   C is M x N (ldc >= N). beta == 0 means C is only written, never read.
//
// gemm() is the fast kernel: this layer's driver (gemm.cpp) cuts C into tiles
// and runs them on the threads, or splits K; each tile is packed and multiplied
// at the active SIMD level (gemm_kernel.hpp). gemm_reference() is the plain
// triple loop it is tested against. Each element of C is summed over K in a
// fixed order, so results do not depend on the thread count.
//
// No xsimd or TBB in this header: the Gram and convolution kernels, and
// VGG-19's classifier, call gemm() as a plain function.
#pragma once

#include <cstdint>

namespace nst::kernels {

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// After the product: C[i][j] += bias[i] (bias may be null), then, with relu,
// C[i][j] = max(C[i][j], 0) (a NaN stays NaN, as with std::max(v, 0.0f)).
struct GemmEpilogue {
  const float* bias = nullptr;
  bool relu = false;
};

// gemm() followed by the epilogue, applied to each register tile of C right
// after its last K block, while it is in L1 (a layer's output written once,
// not written, read and written again). Same bits as gemm() and then the
// epilogue as a separate loop.
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          const GemmEpilogue& epilogue);

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc);

}  // namespace nst::kernels
