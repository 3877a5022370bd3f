#include "nn/gemm.hpp"

#include <algorithm>
#include <cstdlib>

#include "nn/kernels/gemm_kernel.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// Sizes, leading dimensions and pointers, for gemm and gemm_reference alike.
void check_gemm_args(const char* op, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                     const float* A, int64_t lda, const float* B, int64_t ldb, const float* C,
                     int64_t ldc) {
  NST_CHECK(M >= 0 && N >= 0 && K >= 0, op, ": negative size M=", M, " N=", N, " K=", K);
  // A is M x K (K x M when trans_a), B is K x N (N x K when trans_b), C is M x N.
  const int64_t a_rows = trans_a ? K : M, a_cols = trans_a ? M : K;
  const int64_t b_rows = trans_b ? N : K, b_cols = trans_b ? K : N;
  NST_CHECK(lda >= std::max<int64_t>(1, a_cols), op, ": lda=", lda, " is less than the ", a_cols,
            " columns of A (", a_rows, " x ", a_cols, trans_a ? ", transposed" : "", ")");
  NST_CHECK(ldb >= std::max<int64_t>(1, b_cols), op, ": ldb=", ldb, " is less than the ", b_cols,
            " columns of B (", b_rows, " x ", b_cols, trans_b ? ", transposed" : "", ")");
  NST_CHECK(ldc >= std::max<int64_t>(1, N), op, ": ldc=", ldc, " is less than the ", N,
            " columns of C (", M, " x ", N, ")");
  NST_CHECK(M * N == 0 || C != nullptr, op, ": C is null for a ", M, " x ", N, " result");
  NST_CHECK(M * N * K == 0 || (A != nullptr && B != nullptr), op, ": A or B is null (M=", M,
            " N=", N, " K=", K, ")");
}

// Packing space of the calling thread: grows once, then is reused, so steady
// state allocates nothing. A task holds it only while it runs (no nesting).
float* thread_workspace(int64_t floats) {
  struct Buffer {
    float* data = nullptr;
    int64_t size = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  if (buffer.size < floats) {
    std::free(buffer.data);
    const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
    buffer.data = static_cast<float*>(std::aligned_alloc(64, bytes));
    buffer.size = buffer.data ? floats : 0;
    NST_CHECK(buffer.data != nullptr, "gemm: cannot allocate ", bytes, " bytes of packing space");
  }
  return buffer.data;
}

// Splits `extent` into `parts` tiles of equal size rounded up to `unit`.
int64_t tile_size(int64_t extent, int64_t parts, int64_t unit) {
  const int64_t per_part = (extent + parts - 1) / parts;
  return (per_part + unit - 1) / unit * unit;
}

int64_t tiles_of(int64_t extent, int64_t tile) { return (extent + tile - 1) / tile; }

// Problems below this many multiply-adds run on the calling thread only.
constexpr int64_t kSerialMacs = int64_t{1} << 21;
// Tiles per thread a threaded problem is cut into at least (smaller tiles
// allowed), so that threads stay balanced when M x N is small and K large.
// The tiling never changes the results: each element's sum over K is the same.
constexpr int64_t kMinTilesPerThread = 4;

}  // namespace

void gemm_reference(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                    const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                    int64_t ldc) {
  check_gemm_args("gemm_reference", trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) {
        const float a = trans_a ? A[k * lda + i] : A[i * lda + k];
        const float b = trans_b ? B[j * ldb + k] : B[k * ldb + j];
        acc += a * b;
      }
      float& c = C[i * ldc + j];
      c = alpha * acc + (beta == 0.0f ? 0.0f : beta * c);
    }
}

// Tiles of C (at most mc x nc) run in parallel; each packs its own panels and
// sums over K in the fixed order of GemmTileKernel (nn/kernels/gemm_kernel.hpp).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  check_gemm_args("gemm", trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return;
  if (K == 0) {  // C = beta * C (beta == 0: C is not read)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float& c = C[i * ldc + j];
        c = beta == 0.0f ? 0.0f : beta * c;
      }
    return;
  }
  const kernels::GemmArgs args{trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc};
  const kernels::GemmPlan plan = kernels::dispatch(kernels::GemmPlanKernel{}, K);

  int64_t tile_m = tile_size(M, tiles_of(M, plan.mc), plan.mr);
  int64_t tile_n = tile_size(N, tiles_of(N, plan.nc), plan.nr);
  const bool threaded = M * N * K >= kSerialMacs && kernels::num_threads() > 1;
  const int64_t min_tiles = threaded ? kMinTilesPerThread * kernels::num_threads() : 1;
  // Cut N (then M) finer until there are enough tiles to share out.
  for (int64_t parts = tiles_of(N, tile_n) + 1;
       threaded && tiles_of(M, tile_m) * tiles_of(N, tile_n) < min_tiles && tile_n > plan.nr;
       ++parts)
    tile_n = tile_size(N, parts, plan.nr);
  for (int64_t parts = tiles_of(M, tile_m) + 1;
       threaded && tiles_of(M, tile_m) * tiles_of(N, tile_n) < min_tiles && tile_m > plan.mr;
       ++parts)
    tile_m = tile_size(M, parts, plan.mr);
  const int64_t tiles_m = tiles_of(M, tile_m);
  const int64_t tiles = tiles_m * tiles_of(N, tile_n);
  const int64_t workspace = kernels::gemm_pack_a_floats(plan) + kernels::gemm_pack_b_floats(plan);

  auto run_tiles = [&](int64_t lo, int64_t hi) {
    float* pack_a = thread_workspace(workspace);
    float* pack_b = pack_a + kernels::gemm_pack_a_floats(plan);
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t i0 = (t % tiles_m) * tile_m, j0 = (t / tiles_m) * tile_n;
      kernels::dispatch(kernels::GemmTileKernel{}, args, plan, i0, std::min(tile_m, M - i0), j0,
                        std::min(tile_n, N - j0), pack_a, pack_b);
    }
  };
  if (threaded)
    kernels::parallel_for(0, tiles, 1, run_tiles);
  else
    run_tiles(0, tiles);
}

}  // namespace nst
