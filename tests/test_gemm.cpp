#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "nn/kernels/gemm.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using kernels::gemm;
using kernels::gemm_reference;
using kernels::GemmEpilogue;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kSentinel = 12345.0f;  // in C's padding columns: must survive

// One GEMM problem with leading dimensions larger than the minimum (by pad),
// C's padding columns set to kSentinel and its M x N part random, or NaN if nan_c.
struct Problem {
  bool ta, tb;
  int64_t M, N, K, lda, ldb, ldc;
  float alpha, beta;
  std::vector<float> A, B, C;

  Problem(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, int64_t pad, float a,
          float b, bool nan_c, uint64_t seed)
      : ta(trans_a),
        tb(trans_b),
        M(m),
        N(n),
        K(k),
        lda((trans_a ? m : k) + pad),
        ldb((trans_b ? k : n) + pad),
        ldc(n + pad),
        alpha(a),
        beta(b) {
    const Tensor ra = testing::random_tensor({(trans_a ? k : m) * lda + 1}, seed);
    const Tensor rb = testing::random_tensor({(trans_b ? n : k) * ldb + 1}, seed + 1);
    const Tensor rc = testing::random_tensor({m * ldc + 1}, seed + 2);
    A.assign(ra.data(), ra.data() + ra.numel());
    B.assign(rb.data(), rb.data() + rb.numel());
    C.assign(rc.data(), rc.data() + rc.numel());
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < ldc; ++j) {
        float& v = C[static_cast<size_t>(i * ldc + j)];
        if (j >= N)
          v = kSentinel;
        else if (nan_c)
          v = kNaN;
      }
  }

  // The fast gemm with the epilogue, or the reference and then the epilogue
  // as a plain loop.
  std::vector<float> run(bool fast, const GemmEpilogue& epilogue = {}) const {
    std::vector<float> out = C;
    if (fast) {
      gemm(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, out.data(), ldc, epilogue);
      return out;
    }
    gemm_reference(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, out.data(), ldc);
    apply(epilogue, out);
    return out;
  }

  // C = max(C + bias, 0) on the M x N part of out, as a separate loop (no
  // bias and no ReLU: nothing).
  void apply(const GemmEpilogue& epilogue, std::vector<float>& out) const {
    if (!epilogue.bias && !epilogue.relu) return;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        float& c = out[static_cast<size_t>(i * ldc + j)];
        const float v = c + (epilogue.bias ? epilogue.bias[i] : 0.0f);
        c = epilogue.relu ? std::max(v, 0.0f) : v;
      }
  }

  std::string name() const {
    return str(ta ? "T" : "N", tb ? "T" : "N", " M=", M, " N=", N, " K=", K, " lda=", lda,
               " ldb=", ldb, " ldc=", ldc, " alpha=", alpha, " beta=", beta);
  }
};

// Fast against reference (sums in another order: tolerance grows with K);
// the padding columns of C must be untouched.
void check_against_reference(const Problem& p, const std::vector<float>& want,
                             const GemmEpilogue& epilogue = {}) {
  const std::vector<float> got = p.run(true, epilogue);
  testing::check_close(got.data(), want.data(), static_cast<int64_t>(want.size()), 1e-5,
                       4e-6 * static_cast<double>(p.K + 1), p.name());
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = p.N; j < p.ldc; ++j) {
      INFO(p.name() << " padding C[" << i << "][" << j << "]");
      CHECK(got[static_cast<size_t>(i * p.ldc + j)] == kSentinel);
    }
}

}  // namespace

TEST_CASE("gemm_reference on a hand-computed product", "[gemm]") {
  // [1 2 3; 4 5 6] * [1 0; 0 1; 2 -1] = [7 -1; 16 -1], then 2 * that + 1 * C
  const float A[] = {1, 2, 3, 4, 5, 6};
  const float B[] = {1, 0, 0, 1, 2, -1};
  float C[] = {1, 1, 1, 1};
  gemm_reference(false, false, 2, 2, 3, 2.0f, A, 3, B, 2, 1.0f, C, 2);
  CHECK(C[0] == 15.0f);
  CHECK(C[1] == -1.0f);
  CHECK(C[2] == 33.0f);
  CHECK(C[3] == -1.0f);
  // Aᵀ Bᵀ with A stored 3 x 2 and B stored 2 x 3 gives the same product.
  const float At[] = {1, 4, 2, 5, 3, 6};
  const float Bt[] = {1, 0, 2, 0, 1, -1};
  float D[] = {kNaN, kNaN, kNaN, kNaN};
  gemm(true, true, 2, 2, 3, 1.0f, At, 2, Bt, 3, 0.0f, D, 2);
  CHECK(D[0] == 7.0f);
  CHECK(D[1] == -1.0f);
  CHECK(D[2] == 16.0f);
  CHECK(D[3] == -1.0f);
}

TEST_CASE("gemm matches the reference on odd shapes, all transposes, every SIMD level", "[gemm]") {
  const int64_t sizes[] = {1, 3, 7, 13, 31, 67, 130};
  const int64_t depths[] = {1, 5, 67, 400};  // 400: several K blocks
  uint64_t seed = 1;
  for (int t = 0; t < 4; ++t)
    for (int64_t M : sizes)
      for (int64_t N : sizes)
        for (int64_t K : depths) {
          ++seed;
          const bool beta_zero = seed % 2 == 0;  // then C holds NaN and must not be read
          const Problem p(t & 1, t & 2, M, N, K, static_cast<int64_t>(seed % 3), 0.75f,
                          beta_zero ? 0.0f : -1.25f, beta_zero, seed);
          const std::vector<float> want = p.run(false);
          testing::for_each_simd_level(
              [&](kernels::SimdLevel) { check_against_reference(p, want); });
        }
}

TEST_CASE("gemm with several tiles of C and several K blocks", "[gemm]") {
  for (int t = 0; t < 4; ++t) {
    const Problem p(t & 1, t & 2, 197, 613, 401, 5, 1.5f, 0.5f, false, 100 + t);
    const std::vector<float> want = p.run(false);
    testing::for_each_simd_level([&](kernels::SimdLevel) { check_against_reference(p, want); });
  }
}

TEST_CASE("gemm with K = 0 scales C, and beta = 0 ignores NaN in C", "[gemm]") {
  const Problem scale(false, false, 3, 5, 0, 2, 1.0f, 2.0f, false, 7);
  check_against_reference(scale, scale.run(false));
  const Problem zero(false, true, 3, 5, 0, 2, 1.0f, 0.0f, true, 8);
  const std::vector<float> got = zero.run(true);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j) CHECK(got[static_cast<size_t>(i * zero.ldc + j)] == 0.0f);
}

TEST_CASE("gemm without an epilogue keeps the sign of zeros", "[gemm][threads]") {
  // beta * C = -0.0 with K = 0; and alpha * (sums of zeros) = -0.0 with a long
  // K on 2 threads (split-K): an epilogue pass that added 0 would turn both
  // into +0.0.
  const Problem scale(false, false, 3, 5, 0, 2, 1.0f, -1.0f, false, 9);
  std::vector<float> c = scale.C;
  for (float& v : c) v = 0.0f;
  gemm(false, false, 3, 5, 0, 1.0f, scale.A.data(), scale.lda, scale.B.data(), scale.ldb, -1.0f,
       c.data(), scale.ldc);
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 5; ++j) CHECK(std::signbit(c[static_cast<size_t>(i * scale.ldc + j)]));
  const int64_t M = 37, N = 50, K = 5000;
  const std::vector<float> a(size_t(M * K), 0.0f), b(size_t(K * N), 1.0f);
  testing::with_threads(2, [&] {
    std::vector<float> out(size_t(M * N), 1.0f);
    gemm(false, false, M, N, K, -1.0f, a.data(), K, b.data(), N, 0.0f, out.data(), N);
    for (float v : out) REQUIRE(std::signbit(v));
  });
}

TEST_CASE("gemm gives the same bits on 1 and 2 threads", "[gemm][threads]") {
  // 101 x 619: many tiles of C; 37 x 50 with a long K: few tiles, so 2 threads
  // split K (partials added in block order) where 1 thread loops over it.
  struct Shape {
    int64_t M, N, K;
    float beta;
  };
  for (const Shape& s : {Shape{101, 619, 803, 0.5f}, Shape{37, 50, 5000, -2.0f}})
    testing::for_each_simd_level([&](kernels::SimdLevel) {
      for (int t = 0; t < 4; ++t) {
        const Problem p(t & 1, t & 2, s.M, s.N, s.K, 1, 1.0f, s.beta, false, 200 + t);
        std::vector<float> one, two;
        testing::with_threads(1, [&] { one = p.run(true); });
        testing::with_threads(2, [&] { two = p.run(true); });
        INFO(p.name());
        CHECK(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
        check_against_reference(p, p.run(false));
      }
    });
}

TEST_CASE("gemm's bias and ReLU epilogue equals a separate pass, bit for bit", "[gemm][threads]") {
  // Shapes: one tile; several tiles and K blocks; few tiles and a long K (two
  // threads split K, and the epilogue follows the sum of the partials); K = 0.
  struct Shape {
    int64_t M, N, K;
  };
  for (const Shape& s : {Shape{13, 67, 27}, Shape{101, 619, 803}, Shape{37, 50, 5000},
                         Shape{5, 9, 0}})
    testing::for_each_simd_level([&](kernels::SimdLevel) {
      for (int t = 0; t < 4; ++t) {
        const Problem p(t & 1, t & 2, s.M, s.N, s.K, 1, 1.0f, t == 3 ? 0.5f : 0.0f, false,
                        300 + t);
        const Tensor bias = testing::random_tensor({s.M}, 400 + t);
        for (const GemmEpilogue& e :
             {GemmEpilogue{bias.data(), true}, GemmEpilogue{bias.data(), false},
              GemmEpilogue{nullptr, true}}) {
          INFO(p.name() << (e.bias ? " bias" : "") << (e.relu ? " relu" : ""));
          // Against the fast gemm plus a separate loop: the same bits.
          std::vector<float> separate = p.run(true);
          p.apply(e, separate);
          for (int threads : {1, 2}) {
            std::vector<float> fused;
            testing::with_threads(threads, [&] { fused = p.run(true, e); });
            INFO(threads << " threads");
            CHECK(std::memcmp(fused.data(), separate.data(), fused.size() * sizeof(float)) == 0);
          }
          check_against_reference(p, p.run(false, e), e);
        }
      }
    });
}

TEST_CASE("gemm inside parallel_for and from several threads at once", "[gemm][threads]") {
  std::vector<Problem> problems;
  // Many tiles of C, and few tiles with a long K (split-K, whose partials
  // buffer an outer gemm on the same thread may be holding).
  for (int i = 0; i < 8; ++i)
    problems.emplace_back(i & 1, i & 2, i < 4 ? 64 : 40, i < 4 ? 300 : 60, i < 4 ? 200 : 3000, 3,
                          1.0f, 0.0f, true, 300 + i);
  std::vector<std::vector<float>> serial;
  testing::with_threads(1, [&] {
    for (const Problem& p : problems) serial.push_back(p.run(true));
  });
  testing::with_threads(2, [&] {
    std::vector<std::vector<float>> nested(problems.size());
    kernels::parallel_for(0, 8, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i)
        nested[static_cast<size_t>(i)] = problems[static_cast<size_t>(i)].run(true);
    });
    std::vector<std::vector<float>> concurrent(problems.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < problems.size(); ++i)
      threads.emplace_back([&, i] { concurrent[i] = problems[i].run(true); });
    for (auto& th : threads) th.join();
    for (size_t i = 0; i < problems.size(); ++i) {
      INFO(problems[i].name());
      CHECK(nested[i] == serial[i]);
      CHECK(concurrent[i] == serial[i]);
    }
  });
}

TEST_CASE("gemm rejects bad sizes with a clear message", "[gemm]") {
  std::vector<float> a(64, 1.0f), b(64, 1.0f), c(64, 0.0f);
  auto call = [&](bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t lda, int64_t ldb,
                  int64_t ldc) {
    gemm(ta, tb, M, N, K, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), ldc);
  };
  CHECK_THROWS_WITH(call(false, false, -1, 2, 2, 2, 2, 2), Catch::Contains("gemm: negative size"));
  CHECK_THROWS_WITH(call(false, false, 2, 3, 4, 3, 3, 3), Catch::Contains("gemm: lda=3"));
  CHECK_THROWS_WITH(call(true, false, 5, 3, 2, 4, 3, 3),
                    Catch::Contains("lda=4 is less than the 5 columns of A (2 x 5, transposed)"));
  CHECK_THROWS_WITH(call(false, true, 2, 3, 4, 4, 3, 3), Catch::Contains("gemm: ldb=3"));
  CHECK_THROWS_WITH(call(false, false, 2, 3, 4, 4, 3, 2), Catch::Contains("gemm: ldc=2"));
  CHECK_THROWS_WITH(gemm(false, false, 2, 2, 2, 1.0f, nullptr, 2, b.data(), 2, 0.0f, c.data(), 2),
                    Catch::Contains("A or B is null"));
  CHECK_THROWS_WITH(
      gemm_reference(false, false, 2, 3, 4, 1.0f, a.data(), 4, b.data(), 3, 0.0f, c.data(), 1),
      Catch::Contains("gemm_reference: ldc=1"));
  CHECK_NOTHROW(call(false, false, 0, 0, 0, 1, 1, 1));
}
