#include "nn/kernels/gemm.hpp"

#include <algorithm>
#include <cstdlib>

#include "nn/kernels/gemm_kernel.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"
#include "tensor/tensor.hpp"

namespace nst::kernels {

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

// A 64-byte aligned buffer that only grows.
struct GrowingBuffer {
  float* data = nullptr;
  int64_t size = 0;
  bool busy = false;  // held by a split-K call on this thread
  ~GrowingBuffer() { std::free(data); }

  float* reserve(int64_t floats) {
    if (size < floats) {
      std::free(data);
      const size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
      data = static_cast<float*>(std::aligned_alloc(64, bytes));
      size = data ? floats : 0;
      NST_CHECK(data != nullptr, "gemm: cannot allocate ", bytes, " bytes of workspace");
    }
    return data;
  }
};

// Packing space of the calling thread: grows once, then is reused, so steady
// state allocates nothing. A task holds it only while it runs (no nesting).
float* thread_workspace(int64_t floats) {
  thread_local GrowingBuffer buffer;
  return buffer.reserve(floats);
}

// Split-K partial sums: the calling thread's buffer, held across parallel_for.
// While this thread waits there, TBB may run another task on it that calls
// gemm again; that inner call finds the buffer busy and uses a pooled tensor.
class PartialsBuffer {
 public:
  explicit PartialsBuffer(int64_t floats) {
    thread_local GrowingBuffer buffer;
    if (!buffer.busy) {
      owned_ = &buffer;
      buffer.busy = true;
      data_ = buffer.reserve(floats);
    } else {
      fallback_ = Tensor::empty({floats});
      data_ = fallback_.data();
    }
  }
  ~PartialsBuffer() {
    if (owned_) owned_->busy = false;
  }
  PartialsBuffer(const PartialsBuffer&) = delete;
  PartialsBuffer& operator=(const PartialsBuffer&) = delete;
  float* data() const { return data_; }

 private:
  GrowingBuffer* owned_ = nullptr;
  Tensor fallback_;
  float* data_ = nullptr;
};

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
// Most floats of partial products split-K may hold at once (16 MB).
constexpr int64_t kMaxPartialFloats = int64_t{1} << 22;

// C cut into tiles_m x (tiles / tiles_m) tiles of tile_m x tile_n (edges smaller).
struct Tiling {
  int64_t tile_m, tile_n, tiles_m, tiles;
};

Tiling make_tiling(int64_t M, int64_t N, int64_t tile_m, int64_t tile_n) {
  return {tile_m, tile_n, tiles_of(M, tile_m), tiles_of(M, tile_m) * tiles_of(N, tile_n)};
}

// Tiles [lo, hi) of `g`, one after the other on the calling thread.
void run_tiles(const GemmArgs& g, const GemmPlan& plan, const Tiling& t,
               int64_t lo, int64_t hi) {
  float* pack_a =
      thread_workspace(gemm_pack_a_floats(plan) + gemm_pack_b_floats(plan));
  float* pack_b = pack_a + gemm_pack_a_floats(plan);
  auto tile = [&](int64_t k) {
    const int64_t i0 = (k % t.tiles_m) * t.tile_m, j0 = (k / t.tiles_m) * t.tile_n;
    return GemmTile{i0, std::min(t.tile_m, g.M - i0), j0, std::min(t.tile_n, g.N - j0)};
  };
  for (int64_t k = lo; k < hi; ++k)
    dispatch(GemmTileKernel{}, g, plan, tile(k),
                      k + 1 < hi ? tile(k + 1) : GemmTile{}, pack_a, pack_b);
}

// Split-K, for few tiles of C and a long K: the K blocks of a group run in
// parallel, each into its own partial P_b = alpha * op(A)[:, block b] op(B)[block b, :],
// and C takes them in block order, C = P_b + beta_b * C (beta_0 = beta, then 1),
// exactly what the serial loop over K blocks computes: the same bits.
struct SplitK {
  const GemmArgs& g;
  const GemmPlan& plan;
  const Tiling& t;
  float* partials;    // count partials of M x N
  int64_t b0, count;  // the group: K blocks b0 .. b0+count-1

  // Task = (block of the group, tile of C).
  void compute(int64_t task) const {
    const int64_t b = b0 + task / t.tiles, k0 = b * plan.kc;
    GemmArgs part = g;  // block b only, into its partial (beta 0: not read)
    part.bias = nullptr, part.relu = false;  // the epilogue comes after the sum
    part.K = std::min(plan.kc, g.K - k0);
    part.A = g.trans_a ? g.A + k0 * g.lda : g.A + k0;
    part.B = g.trans_b ? g.B + k0 : g.B + k0 * g.ldb;
    part.beta = 0.0f;
    part.C = partials + (b - b0) * g.M * g.N;
    part.ldc = g.N;
    run_tiles(part, plan, t, task % t.tiles, task % t.tiles + 1);
  }

  void reduce_rows(int64_t lo, int64_t hi) const {
    for (int64_t i = lo; i < hi; ++i)
      for (int64_t j = 0; j < g.N; ++j) {
        float& out = g.C[i * g.ldc + j];
        for (int64_t b = b0; b < b0 + count; ++b) {
          const float v = partials[(b - b0) * g.M * g.N + i * g.N + j];
          const float beta = b == 0 ? g.beta : 1.0f;
          out = beta == 0.0f ? v : v + beta * out;
        }
      }
    if (b0 + count == tiles_of(g.K, plan.kc)) gemm_epilogue(g, lo, hi - lo, 0, g.N);
  }
};

void gemm_split_k(const GemmArgs& g, const GemmPlan& plan, const Tiling& t,
                  int64_t group) {
  const int64_t blocks = tiles_of(g.K, plan.kc);
  const PartialsBuffer partials(group * g.M * g.N);
  for (int64_t b0 = 0; b0 < blocks; b0 += group) {
    // The lambdas capture one reference, so std::function does not allocate.
    const SplitK job{g, plan, t, partials.data(), b0, std::min(group, blocks - b0)};
    parallel_for(0, job.count * t.tiles, 1, [&job](int64_t lo, int64_t hi) {
      for (int64_t task = lo; task < hi; ++task) job.compute(task);
    });
    parallel_for(0, g.M, std::max<int64_t>(1, 16384 / g.N),
                          [&job](int64_t lo, int64_t hi) { job.reduce_rows(lo, hi); });
  }
}

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
// sums over K in the fixed order of GemmTileKernel (gemm_kernel.hpp).
// With few tiles and a long K, the K blocks run in parallel instead (split-K).
void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, GemmEpilogue{});
}

void gemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc,
          const GemmEpilogue& epilogue) {
  check_gemm_args("gemm", trans_a, trans_b, M, N, K, A, lda, B, ldb, C, ldc);
  if (M == 0 || N == 0) return;
  const GemmArgs args{trans_a, trans_b, M,   N,   K,    alpha,        A,
                               lda,     B,       ldb, beta, C, ldc, epilogue.bias, epilogue.relu};
  if (K == 0) {  // C = beta * C (beta == 0: C is not read)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float& c = C[i * ldc + j];
        c = beta == 0.0f ? 0.0f : beta * c;
      }
    gemm_epilogue(args, 0, M, 0, N);
    return;
  }
  const GemmPlan plan = dispatch(GemmPlanKernel{}, K);
  int64_t tile_m = tile_size(M, tiles_of(M, plan.mc), plan.mr);
  int64_t tile_n = tile_size(N, tiles_of(N, plan.nc), plan.nr);
  const int threads = num_threads();
  if (M * N * K < kSerialMacs || threads == 1) {
    run_tiles(args, plan, make_tiling(M, N, tile_m, tile_n), 0,
              tiles_of(M, tile_m) * tiles_of(N, tile_n));
    return;
  }
  const int64_t min_tiles = kMinTilesPerThread * threads;
  const int64_t coarse = tiles_of(M, tile_m) * tiles_of(N, tile_n);
  if (coarse < min_tiles && K > plan.kc) {
    const int64_t group =
        std::clamp<int64_t>((min_tiles + coarse - 1) / coarse, 2, tiles_of(K, plan.kc));
    gemm_split_k(args, plan, make_tiling(M, N, tile_m, tile_n),
                 std::max<int64_t>(2, std::min(group, kMaxPartialFloats / (M * N))));
    return;
  }
  // Cut N (then M) finer until there are enough tiles, a multiple of the thread count.
  auto unbalanced = [&] {
    const int64_t tiles = tiles_of(M, tile_m) * tiles_of(N, tile_n);
    return tiles < min_tiles || tiles % threads != 0;
  };
  for (int64_t parts = tiles_of(N, tile_n) + 1; unbalanced() && tile_n > plan.nr; ++parts)
    tile_n = tile_size(N, parts, plan.nr);
  for (int64_t parts = tiles_of(M, tile_m) + 1; unbalanced() && tile_m > plan.mr; ++parts)
    tile_m = tile_size(M, parts, plan.mr);
  struct Job {
    const GemmArgs& args;
    const GemmPlan& plan;
    Tiling tiling;
  } job{args, plan, make_tiling(M, N, tile_m, tile_n)};
  parallel_for(0, job.tiling.tiles, 1, [&job](int64_t lo, int64_t hi) {
    run_tiles(job.args, job.plan, job.tiling, lo, hi);
  });
}

}  // namespace nst::kernels
