#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "optim/adam.hpp"
#include "optim/vector_ops.hpp"
#include "optim_problems.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::Quadratic;
using nst::testing::same_bits;

TEST_CASE("adam: the first step moves every coordinate by lr against the gradient sign", "[adam]") {
  // t = 1: m̂ = g, v̂ = g², so Δx = -lr g / (|g| + ε).
  const int64_t n = 12;
  const Quadratic q(n, 2);
  AdamOptions o;  // lr = 10
  AdamState state(n, o);
  std::vector<float> x(n, 0.0f);
  const double f0 = adam_step(state, x.data(), q.objective());
  std::vector<double> g(n), zero(n, 0.0);
  CHECK(f0 == Approx(q.value(zero.data(), g.data())));
  for (int64_t i = 0; i < n; ++i)
    CHECK(x[i] == Approx(-10.0 * g[i] / (std::fabs(g[i]) + 1e-8)).epsilon(1e-6));
  CHECK(state.iteration == 1);
  CHECK(adam_memory_bytes(n) == 3 * n * 4);
}

TEST_CASE("adam: the update matches the double reference on odd sizes", "[adam]") {
  for (int64_t n : {1, 3, 5, 7, 9, 13, 31}) {
    INFO("n = " << n);
    AdamOptions o;
    o.lr = 0.5;
    Tensor x = nst::testing::random_tensor({n}, 3);
    Tensor m = Tensor::zeros({n}), v = Tensor::zeros({n});
    std::vector<double> xd = nst::testing::to_double(x), md(n, 0.0), vd(n, 0.0);
    for (int64_t t = 1; t <= 5; ++t) {
      const Tensor g = nst::testing::random_tensor({n}, 10 + uint64_t(t), -3, 3);
      const std::vector<double> gd = nst::testing::to_double(g);
      adam_update(x.data(), m.data(), v.data(), g.data(), n, t, o);
      adam_update_reference(xd.data(), md.data(), vd.data(), gd.data(), n, t, o);
    }
    nst::testing::check_close(x, xd, 1e-5, 1e-6, "x");
    nst::testing::check_close(m, md, 1e-5, 1e-7, "m");
    nst::testing::check_close(v, vd, 1e-5, 1e-7, "v");
  }
}

TEST_CASE("adam: gets close to the minimiser of a convex quadratic", "[adam]") {
  const int64_t n = 12;
  const Quadratic q(n, 3);
  AdamOptions o;
  o.lr = 0.05;
  o.max_iterations = 3000;
  AdamState state(n, o);
  std::vector<float> x(n, 0.0f);
  const Objective f = q.objective();
  const double f0 = adam_step(state, x.data(), f);
  double f_last = f0;
  while (!state.stopped()) f_last = adam_step(state, x.data(), f);
  CHECK(state.stop == AdamStop::max_iterations);
  CHECK(state.iteration == 3000);
  CHECK(f_last < 1e-4 * f0);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) worst = std::max(worst, std::fabs(x[i] - q.c[i]));
  CHECK(worst < 0.05);
}

TEST_CASE("adam: save, load and continue gives bit-identical iterates", "[adam]") {
  const int64_t n = 10;
  const Objective f = nst::testing::rosenbrock_objective(n);
  AdamOptions o;
  o.lr = 0.01;
  AdamState state(n, o);
  std::vector<float> x(n, 0.5f);
  for (int i = 0; i < 7; ++i) adam_step(state, x.data(), f);
  std::stringstream saved;
  state.save_state(saved);
  std::vector<float> x_saved = x;
  std::vector<double> losses;
  for (int i = 0; i < 9; ++i) losses.push_back(adam_step(state, x.data(), f));

  AdamState resumed(n, AdamOptions{});  // the file's options replace the defaults
  resumed.load_state(saved);
  CHECK(resumed.options.lr == 0.01);
  CHECK(resumed.iteration == 7);
  for (int i = 0; i < 9; ++i) {
    const double loss = adam_step(resumed, x_saved.data(), f);
    CHECK(std::memcmp(&loss, &losses[i], sizeof(double)) == 0);
  }
  CHECK(same_bits(x, x_saved));
  CHECK(same_bits(resumed.m, state.m));
  CHECK(same_bits(resumed.v, state.v));
}

TEST_CASE("adam: a corrupt or mismatched state is rejected", "[adam]") {
  const int64_t n = 5;
  AdamState state(n, AdamOptions{});
  std::vector<float> x(n, 0.0f);
  for (int i = 0; i < 3; ++i) adam_step(state, x.data(), Quadratic(n, 1).objective());
  std::stringstream out;
  state.save_state(out);
  const std::string good = out.str();
  auto load = [&](const std::string& bytes) {
    std::stringstream in(bytes);
    AdamState target(n, AdamOptions{});
    target.load_state(in);
  };
  CHECK_NOTHROW(load(good));
  CHECK_THROWS_WITH(load(""), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(load(good.substr(0, good.size() - 3)), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(load("NSTLBFGS" + good.substr(8)), Catch::Contains("not a state file"));
  for (size_t at : {size_t(8), size_t(14), good.size() / 2, good.size() - 12, good.size() - 1}) {
    std::string flipped = good;
    flipped[at] = char(flipped[at] ^ 0x04);
    INFO("byte " << at);
    CHECK_THROWS_AS(load(flipped), Error);
  }
  std::stringstream in(good);
  AdamState other_n(n + 2, AdamOptions{});
  CHECK_THROWS_WITH(other_n.load_state(in), Catch::Contains("n = 5"));
}

TEST_CASE("adam: bad options, inputs and non-finite losses", "[adam]") {
  auto with = [](auto change) {
    AdamOptions o;
    change(o);
    return o;
  };
  CHECK_THROWS_WITH(AdamState(3, with([](AdamOptions& o) { o.lr = -1; })),
                    Catch::Contains("lr must be > 0"));
  CHECK_THROWS_WITH(AdamState(3, with([](AdamOptions& o) { o.beta1 = 1; })),
                    Catch::Contains("beta1"));
  CHECK_THROWS_WITH(AdamState(3, with([](AdamOptions& o) { o.beta2 = -0.1; })),
                    Catch::Contains("beta2"));
  CHECK_THROWS_WITH(AdamState(3, with([](AdamOptions& o) { o.eps = 0; })), Catch::Contains("eps"));
  CHECK_THROWS_AS(AdamState(3, with([](AdamOptions& o) { o.max_iterations = 0; })), Error);
  CHECK_THROWS_WITH(AdamState(-1, AdamOptions{}), Catch::Contains("n > 0"));
  AdamState state(3, AdamOptions{});
  std::vector<float> x = {1, 2, 3};
  CHECK_THROWS_WITH(adam_step(state, nullptr, Quadratic(3, 1).objective()),
                    Catch::Contains("x is null"));
  adam_step(state, x.data(), [](const float*, float* g) {
    g[0] = g[1] = g[2] = 0;
    g[1] = std::numeric_limits<float>::infinity();
    return 1.0;
  });
  CHECK(state.stop == AdamStop::non_finite);
  CHECK(x == std::vector<float>{1, 2, 3});  // not moved
  CHECK(std::string(adam_stop_name(state.stop)).find("not finite") != std::string::npos);
}

TEST_CASE("adam: 1 and 2 threads give bit-identical iterates", "[adam]") {
  const int64_t n = 3 * kVectorChunk + 17;
  const Objective f = nst::testing::diagonal_quadratic(n);
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    nst::testing::with_threads(threads, [&] {
      AdamOptions o;
      o.lr = 0.1;
      AdamState state(n, o);
      std::vector<float> x(n, 0.25f);
      for (int i = 0; i < 5; ++i) adam_step(state, x.data(), f);
      results.push_back(x);
    });
  }
  CHECK(same_bits(results[0], results[1]));
}
