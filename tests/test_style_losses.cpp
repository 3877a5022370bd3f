// The statistics behind --style-loss mean-cov and w2: channel means and
// covariances (nn/moments.hpp, with and without a region mask) against their
// plain references and finite differences in double; then the whole objective
// with each style loss (the Wasserstein term itself: test_wasserstein.cpp).
#include <cmath>

#include "fixture.hpp"
#include "objective_fd.hpp"
#include "nn/elementwise.hpp"
#include "nn/moments.hpp"
#include "nn/mse.hpp"
#include "nst/style_objective.hpp"
#include "ops_testing.hpp"
#include "vgg_util.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("moments: channel mean and covariance match the reference, with and without a mask", "[style-loss]") {
  uint64_t seed = 1700;
  for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{1, 3, 7, 9}, Shape{2, 13, 9, 31}, Shape{1, 5, 31, 7}})
    for (bool masked : {false, true}) {
      INFO("shape " << shape.to_string() << (masked ? " masked" : ""));
      const int64_t N = shape[0], C = shape[1], M = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++, 0.0f, 2.0f);
      const Tensor mask = masked ? random_mask(shape[2], shape[3], seed++) : Tensor();
      const std::vector<double> xd = to_double(x);
      const std::vector<double> w = masked ? to_double(mask) : std::vector<double>(size_t(M), 1.0);
      Tensor mu = Tensor::empty({N, C}), cov = Tensor::empty({N, C, C});
      channel_mean_forward(mu, x, mask);
      covariance_forward(cov, x, mask);
      std::vector<double> want_mu(size_t(N * C)), want_cov(size_t(N * C * C));
      for (int64_t n = 0; n < N; ++n) {
        channel_mean_reference_forward(want_mu.data() + n * C, xd.data() + n * C * M, w.data(), C, M);
        covariance_reference_forward(want_cov.data() + n * C * C, xd.data() + n * C * M, w.data(), C, M);
      }
      check_close(mu, want_mu, 1e-5, 1e-6, "mean");
      check_close(cov, want_cov, 1e-4, 1e-5, "covariance");
      const Tensor dcov = random_tensor({N, C, C}, seed++);
      Tensor dx = random_tensor(shape, seed++);
      std::vector<double> want_dx = to_double(dx);
      covariance_backward(dx, dcov, x, mask);
      const std::vector<double> dd = to_double(dcov);
      for (int64_t n = 0; n < N; ++n)
        covariance_reference_backward(want_dx.data() + n * C * M, dd.data() + n * C * C, xd.data() + n * C * M,
                                      w.data(), C, M);
      check_close(dx, want_dx, 1e-4, 1e-5, "covariance dx");
    }
}

TEST_CASE("moments: gradients match finite differences in double", "[style-loss]") {
  const Shape shape{1, 3, 4, 5};
  const int64_t C = 3, M = 20;
  const std::vector<double> x = rounded(random_doubles(shape.numel(), 1711));
  const std::vector<double> gmu = rounded(random_doubles(size_t(C), 1712)),
                            gcov = rounded(random_doubles(size_t(C * C), 1713));
  const Tensor mask = random_mask(4, 5, 1714);
  const std::vector<double> w = to_double(mask);
  const auto probe = [&](const std::vector<double>& xs) {
    std::vector<double> mu(static_cast<size_t>(C)), cov(static_cast<size_t>(C * C));
    channel_mean_reference_forward(mu.data(), xs.data(), w.data(), C, M);
    covariance_reference_forward(cov.data(), xs.data(), w.data(), C, M);
    return dot(gmu, mu) + dot(gcov, cov);
  };
  const std::vector<double> numeric = numeric_gradient(probe, x);
  // The same gradient from the reference backward (covariance) plus dμ wᵀ / W.
  std::vector<double> analytic(x.size(), 0.0);
  covariance_reference_backward(analytic.data(), gcov.data(), x.data(), w.data(), C, M);
  double W = 0;
  for (double v : w) W += v;
  for (int64_t i = 0; i < C; ++i)
    for (int64_t k = 0; k < M; ++k) analytic[size_t(i * M + k)] += gmu[size_t(i)] * w[size_t(k)] / W;
  for (size_t i = 0; i < x.size(); ++i) CHECK(analytic[i] == Approx(numeric[i]).margin(1e-8));
  // And through the tape, in floats.
  Tape tape;
  Var xv = tape.variable(tensor_from(shape, x));
  Var loss = add(tape, mse(tape, channel_mean(tape, xv, mask), tape.constant(Tensor::zeros({1, C}))),
                 mse(tape, covariance(tape, xv, mask), tape.constant(Tensor::zeros({1, C, C}))));
  tape.backward(loss);
  const auto probe2 = [&](const std::vector<double>& xs) {
    std::vector<double> mu(static_cast<size_t>(C)), cov(static_cast<size_t>(C * C));
    channel_mean_reference_forward(mu.data(), xs.data(), w.data(), C, M);
    covariance_reference_forward(cov.data(), xs.data(), w.data(), C, M);
    return dot(mu, mu) / double(C) + dot(cov, cov) / double(C * C);
  };
  check_close(xv.grad(), numeric_gradient(probe2, x), 1e-4, 1e-6, "tape gradient");
}

TEST_CASE("style losses: the objective's gradient agrees with finite differences for mean-cov and w2",
          "[style-loss][objective]") {
  NST_REQUIRE_VGG19(net, false);
  auto fx = testing::read_fixture("style_objective.bin");
  for (const char* kind : {"mean-cov", "w2"})
    for (bool masked : {false, true}) {
      INFO(kind << (masked ? " with regions" : ""));
      ObjectiveConfig cfg;
      cfg.content_layers = {"relu1_2"};
      cfg.style_layers = {"relu1_1", "relu2_1"};
      cfg.pooling = "avg";
      cfg.style_loss = kind;
      StyleObjective objective(*net, cfg);
      const Tensor x = fx.at("image");
      objective.set_content(fx.at("content"));
      objective.set_styles({fx.at("style"), fx.at("content")}, {0.6, 0.4});
      if (masked) {
        Tensor left = Tensor::zeros({1, 1, x.dim(2), x.dim(3)});
        for (int64_t i = 0; i < left.numel(); ++i) left[i] = (i % x.dim(3)) < x.dim(3) / 2 ? 1.0f : 0.2f;
        objective.set_regions({left, Tensor::full(left.shape(), 1.0f)});
      }
      Tensor grad;
      const LossTerms l0 = objective.evaluate(x, &grad);
      CHECK(std::isfinite(l0.total));
      // Directions half along the gradient: a directional derivative well above
      // the float rounding of f (a random direction's can be tiny).
      int trial = 0;
      for (const auto& d : testing::directional_derivatives(objective, x, grad, 31, 2, true)) {
        INFO("trial " << trial++ << ": finite difference " << d.finite_difference << ", analytic " << d.analytic);
        CHECK(std::abs(d.analytic - d.finite_difference) <= 2.5e-2 * std::abs(d.finite_difference));
      }
    }
}
