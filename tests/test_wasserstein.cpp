// The Wasserstein covariance term behind --style-loss w2 (nn/wasserstein.hpp):
// the painting's factor SᵀS = Σs, the Newton–Schulz polar factor against its
// double reference, the term's value and gradient against the double
// reference (finite differences), the closed form for diagonal covariances,
// singular cases, a 512-channel distribution against itself, and the same
// bits at 1 and 2 threads.
#include <bit>
#include <cmath>
#include <random>

#include "nn/moments.hpp"
#include "nn/wasserstein.hpp"
#include "ops_testing.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// Features [1, C, H, W] whose channels span `decades` of scale (channel i times
// 10^(-decades i / C)), the last `dead` channels zero: an ill-conditioned,
// rank-deficient Σ like a deep VGG layer's.
Tensor spread_features(int64_t C, int64_t H, int64_t W, uint64_t seed, double decades,
                       int64_t dead) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Tensor x = Tensor::empty({1, C, H, W});
  const int64_t M = H * W;
  for (int64_t i = 0; i < C; ++i) {
    const double scale = i >= C - dead ? 0.0 : std::pow(10.0, -decades * double(i) / double(C));
    for (int64_t k = 0; k < M; ++k) x[i * M + k] = float(std::max(0.0, normal(rng) + 0.3) * scale);
  }
  return x;
}

W2Target target_of(const Tensor& features, const Tensor& mask = Tensor()) {
  Tensor cov = Tensor::empty({1, features.c(), features.c()});
  covariance_forward(cov, features, mask);
  return w2_target(cov);
}

// The term in double through the reference: x [1, C, H, W] as double, w per pixel.
double reference_term(const std::vector<double>& x, const std::vector<double>& w, const W2Target& t,
                      int64_t C, int64_t M, int iterations = 80) {
  const std::vector<double> S = to_double(t.factor);
  return w2_covariance_reference(x.data(), w.data(), S.data(), t.trace, C, M, iterations);
}

}  // namespace

TEST_CASE("w2: the pivoted Cholesky factor gives S^T S = Sigma_s for full and singular ones",
          "[wasserstein]") {
  for (int64_t rank_wanted : {13, 4, 0}) {
    INFO("rank " << rank_wanted);
    const int64_t C = 13;
    const std::vector<double> b = random_doubles(size_t(C * C), 1800 + uint64_t(rank_wanted));
    std::vector<double> cov(size_t(C * C), 0.0), S(size_t(C * C));
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < C; ++j)
        for (int64_t k = 0; k < rank_wanted; ++k)
          cov[size_t(i * C + j)] += b[size_t(i * C + k)] * b[size_t(j * C + k)];
    CHECK(psd_factor(S.data(), cov.data(), C) == rank_wanted);
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < C; ++j) {
        double acc = 0.0;
        for (int64_t k = 0; k < C; ++k) acc += S[size_t(k * C + i)] * S[size_t(k * C + j)];
        REQUIRE(acc == Approx(cov[size_t(i * C + j)]).margin(1e-12));
      }
  }
}

TEST_CASE("w2: the polar iteration matches its double reference and is a partial isometry",
          "[wasserstein]") {
  uint64_t seed = 1810;
  for (auto [C, M] : {std::pair<int64_t, int64_t>{1, 7}, {3, 9}, {5, 3}, {13, 31}, {64, 200}}) {
    INFO("C " << C << ", M " << M);
    // Rows scaled over two decades: cond(A) ~ 100.
    Tensor a = random_tensor({C, M}, seed++);
    for (int64_t i = 0; i < C; ++i)
      for (int64_t k = 0; k < M; ++k)
        a[i * M + k] *= float(std::pow(10.0, -2.0 * double(i) / double(C)));
    Tensor u = Tensor::empty({C, M});
    const PolarStats stats = polar_newton_schulz(u.data(), a.data(), C, M);
    INFO("iterations " << stats.iterations << ", last change " << stats.change);
    CHECK(stats.iterations < 60);
    const std::vector<double> ad = to_double(a);
    std::vector<double> want(size_t(C * M));
    polar_newton_schulz_reference(want.data(), ad.data(), C, M, 100);
    check_close(u, want, 1e-3, 1e-4, "polar factor");
    // U Uᵀ U = U (singular values 0 or 1), in double from the reference.
    const int64_t R = std::min(C, M);
    std::vector<double> uut(size_t(C * C), 0.0);
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < C; ++j)
        for (int64_t k = 0; k < M; ++k)
          uut[size_t(i * C + j)] += want[size_t(i * M + k)] * want[size_t(j * M + k)];
    double trace = 0.0;
    for (int64_t i = 0; i < C; ++i) trace += uut[size_t(i * C + i)];
    CHECK(trace == Approx(double(R)).margin(1e-9));  // random A has full rank min(C, M)
  }
}

TEST_CASE("w2: the term and its gradient match the double reference and finite differences",
          "[wasserstein]") {
  const int64_t C = 5, H = 4, W = 6, M = H * W;
  for (bool masked : {false, true}) {
    INFO((masked ? "masked" : "whole picture"));
    const Tensor mask = masked ? random_mask(H, W, 1820) : Tensor();
    const Tensor x = random_tensor({1, C, H, W}, 1821, 0.0f, 2.0f);
    const W2Target target = target_of(random_tensor({1, C, H, W}, 1822, -1.0f, 3.0f), mask);
    const std::vector<double> xd = to_double(x);
    const std::vector<double> w = masked ? to_double(mask) : std::vector<double>(size_t(M), 1.0);
    Tape tape;
    Var xv = tape.variable(x);
    Var term = w2_covariance_term(tape, xv, mask, target);
    const double want = reference_term(xd, w, target, C, M);
    CHECK(term.value()[0] == Approx(want).epsilon(1e-4));
    tape.backward(term);
    const std::vector<double> numeric = numeric_gradient(
        [&](const std::vector<double>& xs) { return reference_term(xs, w, target, C, M); }, xd);
    check_close(xv.grad(), numeric, 2e-3, 2e-4, "dx");
  }
}

TEST_CASE("w2: diagonal covariances give the closed form sum of (sqrt a - sqrt b) squared",
          "[wasserstein]") {
  // Rows 1..4 of the 8 x 8 Sylvester-Hadamard matrix: centred, orthogonal, ||h||² = 8.
  const int64_t C = 4, M = 8;
  const double a[C] = {0.5, 2.0, 1.0, 4.0}, b[C] = {1.0, 1.0, 3.0, 0.25};
  Tensor x = Tensor::empty({1, C, 1, M});
  for (int64_t i = 0; i < C; ++i)
    for (int64_t k = 0; k < M; ++k) {
      const bool odd = std::popcount(uint64_t((i + 1) & k)) % 2 == 1;  // h_{i+1}[k] = ±1
      x[i * M + k] = float(odd ? -std::sqrt(a[i]) : std::sqrt(a[i]));
    }
  Tensor sb = Tensor::zeros({1, C, C});
  double want = 0.0;
  for (int64_t i = 0; i < C; ++i) {
    sb[i * C + i] = float(b[i]);
    want += (std::sqrt(a[i]) - std::sqrt(b[i])) * (std::sqrt(a[i]) - std::sqrt(b[i]));
  }
  Tensor polar = Tensor::empty(x.shape());
  CHECK(w2_covariance_forward(polar, x, Tensor(), w2_target(sb)) == Approx(want).epsilon(1e-5));
  CHECK(w2_covariance_forward(polar, x, Tensor(), target_of(x)) == Approx(0.0).margin(1e-5));
}

TEST_CASE("w2: dead channels and fewer pixels than channels give finite values and gradients",
          "[wasserstein]") {
  for (auto [C, H, W, dead] :
       {std::tuple<int64_t, int64_t, int64_t, int64_t>{13, 1, 5, 0}, {13, 3, 7, 4}}) {
    INFO("C " << C << ", M " << H * W << ", dead " << dead);
    const Tensor x = spread_features(C, H, W, 1830, 1.0, dead);
    const W2Target target = target_of(spread_features(C, H, W, 1831, 1.0, 0));
    Tape tape;
    Var xv = tape.variable(x);
    Var term = w2_covariance_term(tape, xv, Tensor(), target);
    const std::vector<double> xd = to_double(x), w(size_t(H * W), 1.0);
    CHECK(term.value()[0] == Approx(reference_term(xd, w, target, C, H * W)).epsilon(1e-4));
    tape.backward(term);
    // |dFc| <= 2 (|Fc| + ||S|| |U|): bounded by the data, never an inverse.
    for (int64_t i = 0; i < x.numel(); ++i) REQUIRE(std::abs(xv.grad()[i]) < 10.0f);
  }
}

TEST_CASE("w2: a 512-channel ill-conditioned distribution is at distance ~0 from itself",
          "[wasserstein]") {
  // relu4_1's size at 512 px; channels over three decades (Σ over six), 40 dead.
  const Tensor x = spread_features(512, 64, 48, 1840, 3.0, 40);
  const W2Target target = target_of(x);
  INFO("rank of the painting's covariance " << target.rank);
  CHECK(target.rank == 512 - 40);
  Tensor polar = Tensor::empty(x.shape());
  const double self = w2_covariance_forward(polar, x, Tensor(), target);
  INFO("W2 covariance term against itself " << self << ", tr Σ " << target.trace);
  CHECK(std::abs(self) < 1e-4 * target.trace);
  // And clearly more for a different sample of the same law shifted in scale.
  Tensor y = spread_features(512, 64, 48, 1841, 3.0, 40);
  for (int64_t i = 0; i < y.numel(); ++i) y[i] *= 1.1f;
  const double other = w2_covariance_forward(polar, y, Tensor(), target);
  INFO("against a 1.1x scaled other sample " << other);
  CHECK(other > 100 * std::abs(self));
}

TEST_CASE("w2: 1 and 2 threads give the same bits", "[wasserstein]") {
  const Tensor x = spread_features(96, 13, 61, 1850, 2.0, 5);
  const Tensor mask = random_mask(13, 61, 1851);
  const W2Target target = target_of(spread_features(96, 13, 61, 1852, 2.0, 0), mask);
  Tensor p1 = Tensor::empty(x.shape()), p2 = Tensor::empty(x.shape());
  Tensor d1 = Tensor::zeros(x.shape()), d2 = Tensor::zeros(x.shape());
  double v1 = 0, v2 = 0;
  with_threads(1, [&] {
    v1 = w2_covariance_forward(p1, x, mask, target);
    w2_covariance_backward(d1, 0.75f, p1, x, mask, target);
  });
  with_threads(2, [&] {
    v2 = w2_covariance_forward(p2, x, mask, target);
    w2_covariance_backward(d2, 0.75f, p2, x, mask, target);
  });
  CHECK(v1 == v2);
  CHECK(bit_identical(p1, p2));
  CHECK(bit_identical(d1, d2));
}
