// Gram matrices on the kernel layer: what nn/gram.cpp calls once it has checked
// the shapes. No xsimd or TBB in this header.
//
//   per sample n < N: F = the C x HW matrix at F + n*C*HW (rows HW apart),
//                     G = the C x C matrix at G + n*C*C
//
// The forward sums only the upper triangle, in blocks of kGramBlockRows rows
// (GramBlockKernel, gram_kernel.hpp, at the active SIMD level) over fixed spans
// of HW, and mirrors it; the backward is one gemm() per sample. Every sum runs
// in an order fixed by the shape, so the bits do not depend on the thread count.
#pragma once

#include <cstdint>

namespace nst::kernels {

// G = norm * F Fᵀ
void gram_forward(float* G, const float* F, int64_t N, int64_t C, int64_t HW, float norm);
// dF += norm * (dG + dGᵀ) F   (accumulate = false: dF = ..., its old contents not read)
void gram_backward(float* dF, const float* dG, const float* F, int64_t N, int64_t C, int64_t HW,
                   float norm, bool accumulate);

}  // namespace nst::kernels
