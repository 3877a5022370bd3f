// GEMM: C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or Xᵀ.
//
//   op(A) is M x K: A is M x K (lda >= K), or K x M when trans_a (lda >= M).
//   op(B) is K x N: B is K x N (ldb >= N), or N x K when trans_b (ldb >= K).
//   C is M x N (ldc >= N). beta == 0 means C is only written, never read.
//
// gemm() is the fast kernel (packed, blocked, SIMD, threaded); gemm_reference()
// is the plain triple loop it is tested against. Each element of C is summed
// over K in a fixed order, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace nst {


void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta,
                    float* C, int64_t ldc);

}  // namespace nst
