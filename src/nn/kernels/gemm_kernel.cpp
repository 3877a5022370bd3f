// GEMM kernel for ScalarArch: the same packing and blocking as the SIMD
// kernels, with a micro-kernel of plain loops.
#include "nn/kernels/gemm_kernel.hpp"

#include "nn/kernels/gemm_pack.hpp"

namespace nst::kernels {

namespace {

constexpr int kScalarMr = 4;
constexpr int kScalarNr = 4;

// acc[r][j] = sum over k of a[k*MR + r] * b[k*NR + j], then stored into C.
struct ScalarMicroKernel {
  void operator()(int64_t kb, const float* a, const float* b, float* c, int64_t ldc, int64_t rows,
                  int64_t cols, float alpha, float beta) const {
    float acc[kScalarMr * kScalarNr] = {};
    for (int64_t k = 0; k < kb; ++k, a += kScalarMr, b += kScalarNr)
      for (int r = 0; r < kScalarMr; ++r)
        for (int j = 0; j < kScalarNr; ++j) acc[r * kScalarNr + j] += a[r] * b[j];
    gemm_detail::store_edge<ScalarArch, kScalarMr, kScalarNr>(c, ldc, acc, rows, cols, alpha, beta);
  }
};

}  // namespace

GemmPlan GemmPlanKernel::operator()(ScalarArch, int64_t K) const {
  return gemm_detail::make_plan<ScalarArch>(kScalarMr, kScalarNr, K, 256, 64, 256);
}

void GemmTileKernel::operator()(ScalarArch, const GemmArgs& g, const GemmPlan& plan,
                                const GemmTile& tile, const GemmTile& next, float* pack_a,
                                float* pack_b) const {
  gemm_detail::run_tile<ScalarArch, kScalarMr, kScalarNr>(g, plan, tile, next, pack_a, pack_b,
                                                          ScalarMicroKernel{});
}

}  // namespace nst::kernels
