// SIMD body of the Gram block (compiled once per instruction set, NST_ARCH
// names it). A group of R rows i and C rows j keeps R x C batch accumulators:
// per batch of k it loads R + C batches for R C fused multiply-adds.
#include "nn/kernels/gram_kernel.hpp"
#include "nn/kernels/fma.hpp"

#include <algorithm>

namespace nst::kernels {

template <class Arch>
void GramBlockKernel::operator()(Arch, const float* F, int64_t ld, int64_t k0, int64_t k1,
                                 int64_t i0, int64_t i1, int64_t j0, int64_t j1, float* P,
                                 int64_t ldp, bool accumulate) const {
  using B = xsimd::batch<float, Arch>;
  constexpr int64_t W = B::size;
  // 4 x 4 accumulators where there are 32 vector registers (AVX-512, NEON:
  // 16 + 4 + 1 live), 2 x 6 where there are 16 (12 + 2 + 1 live: 8 loads per
  // 12 FMAs, where 2 x 4 had 8 accumulators, which only just cover the FMA
  // latency, and 6 loads per 8 FMAs).
  constexpr bool many_registers = W >= 16 || std::is_same_v<Arch, xsimd::neon64>;
  constexpr int R = many_registers ? 4 : 2;
  constexpr int C = many_registers ? 4 : 6;
  const int64_t k_batches = k0 + (k1 - k0) / W * W;
  for (int64_t i = i0; i < i1; i += R) {
    const float* a[R];  // rows past i1 repeat the last one; their sums are dropped
    for (int r = 0; r < R; ++r) a[r] = F + std::min(i + r, i1 - 1) * ld;
    for (int64_t j = j0; j < j1; j += C) {
      if (std::min(j + C, j1) - 1 < i) continue;  // wholly below the diagonal
      const float* b[C];
      for (int c = 0; c < C; ++c) b[c] = F + std::min(j + c, j1 - 1) * ld;
      B acc[R][C];
      for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c) acc[r][c] = B(0.0f);
      for (int64_t k = k0; k < k_batches; k += W) {
        B av[R];
        for (int r = 0; r < R; ++r) av[r] = B::load_unaligned(a[r] + k);
        for (int c = 0; c < C; ++c) {
          const B bv = B::load_unaligned(b[c] + k);
          for (int r = 0; r < R; ++r) acc[r][c] = kernels::fma(av[r], bv, acc[r][c]);
        }
      }
      for (int r = 0; r < R && i + r < i1; ++r)
        for (int c = 0; c < C && j + c < j1; ++c) {
          float s = xsimd::hadd(acc[r][c]);
          for (int64_t k = k_batches; k < k1; ++k) s += a[r][k] * b[c][k];
          float& p = P[(i + r) * ldp + j + c];
          p = accumulate ? p + s : s;
        }
    }
  }
}

NST_INSTANTIATE_SIMD_KERNEL(GramBlockKernel, void, const float*, int64_t, int64_t, int64_t, int64_t,
                            int64_t, int64_t, int64_t, float*, int64_t, bool)

}  // namespace nst::kernels
