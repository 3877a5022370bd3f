#include <cmath>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "optim/lbfgs.hpp"
#include "optim/vector_ops.hpp"
#include "optim_problems.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::max_error_to;
using nst::testing::Quadratic;
using nst::testing::same_bits;

namespace {

std::vector<float> random_floats(size_t n, uint64_t seed, float lo, float hi) {
  const Tensor t = nst::testing::random_tensor({int64_t(n)}, seed, lo, hi);
  return std::vector<float>(t.data(), t.data() + n);
}

LbfgsOptions wolfe_options() {
  LbfgsOptions o;
  o.line_search = LineSearch::strong_wolfe;
  o.max_iterations = 500;
  o.grad_tolerance = 1e-5;
  o.change_tolerance = 0;
  o.step_tolerance = 0;
  return o;
}

}  // namespace

TEST_CASE("optimiser test problems: gradients match finite differences", "[lbfgs]") {
  const int64_t n = 5;
  const std::vector<double> x0 = {-1.2, 1.0, 0.3, -0.7, 2.0};
  std::vector<double> g(n);
  nst::testing::rosenbrock(x0.data(), g.data(), n);
  const auto numeric = nst::testing::numeric_gradient(
      [&](const std::vector<double>& x) {
        std::vector<double> unused(n);
        return nst::testing::rosenbrock(x.data(), unused.data(), n);
      },
      x0);
  for (int64_t i = 0; i < n; ++i) CHECK(g[i] == Approx(numeric[i]).epsilon(1e-7).margin(1e-6));

  const Quadratic q(n, 7);
  q.value(x0.data(), g.data());
  const auto numeric_q = nst::testing::numeric_gradient(
      [&](const std::vector<double>& x) {
        std::vector<double> unused(n);
        return q.value(x.data(), unused.data());
      },
      x0);
  for (int64_t i = 0; i < n; ++i) CHECK(g[i] == Approx(numeric_q[i]).epsilon(1e-7).margin(1e-7));
}

TEST_CASE("lbfgs: strong Wolfe reaches the 2-D Rosenbrock minimum (1, 1)", "[lbfgs]") {
  nst::testing::for_each_simd_level([](kernels::SimdLevel) {
    std::vector<float> x = {-1.2f, 1.0f};
    LbfgsState state(2, wolfe_options());
    const double f = lbfgs_run(state, x.data(), nst::testing::rosenbrock_objective(2));
    INFO("stopped: " << lbfgs_stop_name(state.stop) << " after " << state.iteration);
    CHECK(state.stop == LbfgsStop::gradient_tolerance);
    CHECK(state.iteration < 60);
    CHECK(f < 1e-9);
    CHECK(max_error_to(x, {1.0, 1.0}) < 1e-4);
  });
}

TEST_CASE("lbfgs: strong Wolfe reaches the 10-D Rosenbrock chain minimum (1, ..., 1)", "[lbfgs]") {
  const int64_t n = 10;
  std::vector<float> x(n);
  for (int64_t i = 0; i < n; ++i) x[i] = i % 2 == 0 ? 0.5f : 1.5f;
  LbfgsOptions o = wolfe_options();
  o.grad_tolerance = 1e-4;  // x in float: ∇f is only resolved to about 1e-5 here
  LbfgsState state(n, o);
  lbfgs_run(state, x.data(), nst::testing::rosenbrock_objective(n));
  INFO("stopped: " << lbfgs_stop_name(state.stop) << " after " << state.iteration);
  CHECK(state.stop == LbfgsStop::gradient_tolerance);
  CHECK(max_error_to(x, std::vector<double>(n, 1.0)) < 1e-4);
}

TEST_CASE("lbfgs: with line search the loss decreases at every iteration", "[lbfgs]") {
  std::vector<float> x = {-1.2f, 1.0f};
  LbfgsOptions o = wolfe_options();
  o.history = 5;
  LbfgsState state(2, o);
  const Objective f = nst::testing::rosenbrock_objective(2);
  double previous = lbfgs_step(state, x.data(), f);
  CHECK(state.iteration == 1);
  int steps = 1;
  while (!state.stopped()) {
    const double now = lbfgs_step(state, x.data(), f);
    CHECK(now < previous);
    CHECK(same_bits(state.f_prev, previous));  // the loss before this step
    previous = now;
    ++steps;
  }
  CHECK(steps > 10);
}

TEST_CASE("lbfgs: a convex quadratic converges in few iterations", "[lbfgs]") {
  const int64_t n = 12;
  const Quadratic q(n, 3);
  std::vector<float> x(n, 0.0f);
  LbfgsState state(n, wolfe_options());
  lbfgs_run(state, x.data(), q.objective());
  INFO("stopped: " << lbfgs_stop_name(state.stop) << " after " << state.iteration);
  CHECK(state.stop == LbfgsStop::gradient_tolerance);
  CHECK(state.iteration <= 2 * n);
  CHECK(max_error_to(x, q.c) < 1e-4);
}

TEST_CASE("lbfgs: without line search the fixed-step rule converges on a quadratic", "[lbfgs]") {
  const int64_t n = 12;
  const Quadratic q(n, 5);
  std::vector<float> x(n, 0.0f);
  LbfgsOptions o;  // defaults: lr = 1, no line search
  o.grad_tolerance = 1e-5;
  o.max_iterations = 200;
  LbfgsState state(n, o);
  const Objective f = q.objective();
  lbfgs_step(state, x.data(), f);
  // First step: t = min(1, 1/‖g0‖₁) lr along -g0, one evaluation before and one after.
  CHECK(state.evaluations == 2);
  std::vector<double> g0(n);
  std::vector<double> zero(n, 0.0);
  q.value(zero.data(), g0.data());
  double g1 = 0;
  for (double v : g0) g1 += std::fabs(v);
  CHECK(state.t == Approx(std::min(1.0, 1.0 / g1)).epsilon(1e-6));
  lbfgs_run(state, x.data(), f);
  INFO("stopped: " << lbfgs_stop_name(state.stop) << " after " << state.iteration);
  CHECK(state.stop == LbfgsStop::gradient_tolerance);
  CHECK(max_error_to(x, q.c) < 1e-4);
}

TEST_CASE("lbfgs: two-loop recursion equals the explicit BFGS inverse-Hessian update", "[lbfgs]") {
  // H0 = γ I, H_{i+1} = (I - ρ s yᵀ) H_i (I - ρ y sᵀ) + ρ s sᵀ (N&W eq. 7.19); d = -H g.
  const int64_t n = 7;
  LbfgsOptions o;
  o.history = 3;
  LbfgsState state(n, o);
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int p = 0; p < 3; ++p) {
    std::vector<float> s(n), y(n);
    for (int64_t i = 0; i < n; ++i) {
      s[i] = dist(rng);
      y[i] = s[i] * (1.5f + 0.25f * float(i)) + 0.1f * dist(rng);  // yᵀs > 0
    }
    double ys = 0;
    for (int64_t i = 0; i < n; ++i) ys += double(y[i]) * s[i];
    state.s.push_back(s);
    state.y.push_back(y);
    state.rho.push_back(1.0 / ys);
  }
  state.h_diag = 0.6;
  std::vector<float> g(n), d(n);
  for (float& v : g) v = dist(rng);
  lbfgs_direction(d.data(), g.data(), state);

  std::vector<double> h(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i) h[i * n + i] = state.h_diag;
  for (size_t p = 0; p < 3; ++p) {
    const auto& s = state.s[p];
    const auto& y = state.y[p];
    const double rho = state.rho[p];
    std::vector<double> left(n * n), next(n * n);  // left = (I - ρ s yᵀ) H
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t k = 0; k < n; ++k) sum += ((i == k) - rho * s[i] * y[k]) * h[k * n + j];
        left[i * n + j] = sum;
      }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t k = 0; k < n; ++k) sum += left[i * n + k] * ((k == j) - rho * y[k] * s[j]);
        next[i * n + j] = sum + rho * s[i] * s[j];
      }
    h = next;
  }
  for (int64_t i = 0; i < n; ++i) {
    double want = 0;
    for (int64_t j = 0; j < n; ++j) want -= h[i * n + j] * g[j];
    CHECK(d[i] == Approx(want).epsilon(1e-5).margin(1e-6));
  }
}

TEST_CASE("lbfgs: stop reasons are reported", "[lbfgs]") {
  const int64_t n = 12;
  const Quadratic q(n, 3);
  SECTION("max iterations") {
    LbfgsOptions o = wolfe_options();
    o.max_iterations = 3;
    o.max_evaluations = 100;
    std::vector<float> x(n, 0.0f);
    LbfgsState state(n, o);
    lbfgs_run(state, x.data(), q.objective());
    CHECK(state.stop == LbfgsStop::max_iterations);
    CHECK(state.iteration == 3);
    // Stopped: further calls do nothing.
    const int64_t evaluations = state.evaluations;
    lbfgs_step(state, x.data(), q.objective());
    CHECK(state.evaluations == evaluations);
  }
  SECTION("max evaluations") {
    LbfgsOptions o = wolfe_options();
    o.max_evaluations = 5;
    std::vector<float> x(n, 0.0f);
    LbfgsState state(n, o);
    lbfgs_run(state, x.data(), q.objective());
    CHECK(state.stop == LbfgsStop::max_evaluations);
    CHECK(state.evaluations <= 6);
  }
  SECTION("gradient tolerance at the start") {
    std::vector<float> x(q.c.begin(), q.c.end());
    LbfgsOptions o;
    o.grad_tolerance = 1e-3;
    LbfgsState state(n, o);
    lbfgs_step(state, x.data(), q.objective());
    CHECK(state.stop == LbfgsStop::gradient_tolerance);
    CHECK(state.iteration == 0);
    CHECK(state.evaluations == 1);
  }
  SECTION("relative change of the loss") {
    LbfgsOptions o;
    o.lr = 0.01;  // fixed short steps: slow linear convergence
    o.grad_tolerance = 0;
    o.change_tolerance = 0.05;
    std::vector<float> x(n, 0.0f);
    LbfgsState state(n, o);
    lbfgs_run(state, x.data(), q.objective());
    CHECK(state.stop == LbfgsStop::change_tolerance);
    CHECK(std::fabs(state.f - state.f_prev) <= 0.05 * std::fabs(state.f_prev));
    CHECK(state.iteration >= 2);
  }
  SECTION("non-finite loss") {
    LbfgsState state(n, LbfgsOptions{});
    std::vector<float> x(n, 0.0f);
    lbfgs_step(state, x.data(), [](const float*, float* g) {
      g[0] = 1;
      return std::nan("");
    });
    CHECK(state.stop == LbfgsStop::non_finite);
  }
  CHECK(std::string(lbfgs_stop_name(LbfgsStop::line_search_failed)).find("line search") !=
        std::string::npos);
}

TEST_CASE("lbfgs: history is bounded by m and stored in float", "[lbfgs]") {
  const int64_t n = 12;
  const Quadratic q(n, 9);
  LbfgsOptions o = wolfe_options();
  o.history = 3;
  o.max_iterations = 8;
  o.grad_tolerance = 0;
  std::vector<float> x(n, 0.0f);
  LbfgsState state(n, o);
  lbfgs_run(state, x.data(), q.objective());
  CHECK(state.iteration == 8);
  CHECK(state.s.size() == 3);
  CHECK(state.history_floats() == 2 * 3 * n);
  CHECK(lbfgs_memory_bytes(n, o) == (2 * 3 + 4) * n * 4);
  LbfgsOptions classic;  // m = 100 at 512x512x3: 629 MB of history
  CHECK(lbfgs_memory_bytes(786432, classic) == (200 + 3) * int64_t(786432) * 4);
  // Restart: pairs and f, g forgotten; the next step re-evaluates at the changed x.
  std::vector<float> x_moved = x;
  x_moved[0] += 0.5f;
  LbfgsState restarted = state;
  lbfgs_restart(restarted);
  CHECK(restarted.s.empty());
  CHECK(!restarted.stopped());
  const int64_t evaluations = restarted.evaluations;
  restarted.options.max_iterations = 9;
  lbfgs_step(restarted, x_moved.data(), q.objective());
  CHECK(restarted.evaluations >= evaluations + 2);
  CHECK(restarted.s.size() == 1);
  // Lowering m drops the oldest pairs at the next step.
  state.options.history = 2;
  state.options.max_iterations = 9;
  state.stop = LbfgsStop::running;
  lbfgs_step(state, x.data(), q.objective());
  CHECK(state.s.size() == 2);
}

TEST_CASE("lbfgs: bad options and inputs throw", "[lbfgs]") {
  auto with = [](auto change) {
    LbfgsOptions o;
    change(o);
    return o;
  };
  CHECK_THROWS_WITH(LbfgsState(4, with([](LbfgsOptions& o) { o.history = 0; })),
                    Catch::Contains("history (m) must be >= 1"));
  CHECK_THROWS_WITH(LbfgsState(4, with([](LbfgsOptions& o) { o.lr = -1; })),
                    Catch::Contains("lr must be > 0"));
  CHECK_THROWS_AS(LbfgsState(4, with([](LbfgsOptions& o) { o.lr = std::nan(""); })), Error);
  CHECK_THROWS_WITH(LbfgsState(4, with([](LbfgsOptions& o) { o.c1 = 0.95; })),
                    Catch::Contains("0 < c1 < c2 < 1"));
  CHECK_THROWS_AS(LbfgsState(4, with([](LbfgsOptions& o) { o.max_iterations = 0; })), Error);
  CHECK_THROWS_AS(LbfgsState(4, with([](LbfgsOptions& o) { o.grad_tolerance = -1; })), Error);
  CHECK_THROWS_WITH(LbfgsState(0, LbfgsOptions{}), Catch::Contains("n > 0"));
  LbfgsState state(4, LbfgsOptions{});
  std::vector<float> x(4, 0.0f);
  CHECK_THROWS_WITH(lbfgs_step(state, x.data(), Objective{}), Catch::Contains("objective"));
  state.options.history = -3;  // options are plain data: checked again at each step
  CHECK_THROWS_AS(lbfgs_step(state, x.data(), Quadratic(4, 1).objective()), Error);
}

TEST_CASE("lbfgs: 1 and 2 threads give bit-identical iterates", "[lbfgs]") {
  const int64_t n = 3 * kVectorChunk + 17;  // several chunks and a tail
  const Objective f = nst::testing::diagonal_quadratic(n);
  for (LineSearch ls : {LineSearch::none, LineSearch::strong_wolfe}) {
    LbfgsOptions o;
    o.line_search = ls;
    o.history = 4;
    o.max_iterations = 8;
    o.grad_tolerance = 0;
    std::vector<std::vector<float>> results;
    for (int threads : {1, 2}) {
      nst::testing::with_threads(threads, [&] {
        std::vector<float> x(n, 0.25f);
        LbfgsState state(n, o);
        lbfgs_run(state, x.data(), f);
        INFO("stopped: " << lbfgs_stop_name(state.stop));
        CHECK(state.iteration >= 4);
        results.push_back(x);
      });
    }
    CHECK(same_bits(results[0], results[1]));
  }
}

TEST_CASE("bf16: rounding to nearest even, NaN and infinities kept", "[lbfgs][bf16]") {
  CHECK(bf16_from_float(1.0f) == 0x3f80);
  CHECK(bf16_to_float(0x3f80) == 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1); just above rounds up.
  CHECK(bf16_to_float(bf16_from_float(1.0f + 0x1p-8f)) == 1.0f);
  CHECK(bf16_to_float(bf16_from_float(1.0f + 0x1p-8f + 0x1p-20f)) == 1.0f + 0x1p-7f);
  CHECK(bf16_to_float(bf16_from_float(1.0f + 3 * 0x1p-8f)) == 1.0f + 0x1p-6f);  // tie, up to even
  CHECK(bf16_to_float(bf16_from_float(-2.5f)) == -2.5f);
  CHECK(std::isnan(bf16_to_float(bf16_from_float(std::nanf("")))));
  CHECK(bf16_to_float(bf16_from_float(INFINITY)) == INFINITY);
  CHECK(bf16_to_float(bf16_from_float(3.4e38f)) == INFINITY);  // beyond bf16's largest finite
  // Relative error at most 2^-8 (half a unit in the 8th significant bit) on normal numbers.
  std::vector<float> v = random_floats(4097, 5, -1000.0f, 1000.0f);
  std::vector<float> r = v;
  vec_round_bf16(r.data(), int64_t(r.size()));
  for (size_t i = 0; i < v.size(); ++i)
    REQUIRE(std::fabs(r[i] - v[i]) <= std::fabs(v[i]) * 0x1p-8f);
}

TEST_CASE("bf16: dot and axpy give the bits of their float twins on the decoded vector",
          "[lbfgs][bf16]") {
  nst::testing::for_each_simd_level([](kernels::SimdLevel) {
    for (int64_t n : {1, 31, 16384, 16384 * 3 + 5}) {
      INFO("n = " << n);
      const std::vector<float> a = random_floats(size_t(n), 7, -3.0f, 3.0f);
      const std::vector<float> b = random_floats(size_t(n), 8, -3.0f, 3.0f);
      std::vector<uint16_t> h(static_cast<size_t>(n));
      vec_to_bf16(h.data(), a.data(), n);
      std::vector<float> decoded(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) decoded[size_t(i)] = bf16_to_float(h[size_t(i)]);
      CHECK(same_bits(vec_dot_bf16(h.data(), b.data(), n), vec_dot(decoded.data(), b.data(), n)));
      std::vector<float> y1 = b, y2 = b;
      vec_axpy_bf16(y1.data(), -0.7, h.data(), n);
      vec_axpy(y2.data(), -0.7, decoded.data(), n);
      CHECK(y1 == y2);
    }
  });
}

TEST_CASE("lbfgs: a bf16 history converges as the float one does, in half the memory",
          "[lbfgs][bf16]") {
  const int64_t n = 12;
  const Quadratic q(n, 3);
  LbfgsOptions o = wolfe_options();
  o.bf16_history = true;
  std::vector<float> x(n, 0.0f);
  LbfgsState state(n, o);
  lbfgs_run(state, x.data(), q.objective());
  INFO("stopped: " << lbfgs_stop_name(state.stop) << " after " << state.iteration);
  CHECK(state.stop == LbfgsStop::gradient_tolerance);
  CHECK(state.iteration <= 3 * n);
  CHECK(max_error_to(x, q.c) < 1e-4);
  REQUIRE(!state.s.empty());
  CHECK(state.s[0].bf16());
  CHECK(state.history_bytes() == state.history_floats() * 2);
  // Rosenbrock (ill-conditioned): still reaches the minimum.
  std::vector<float> r = {-1.2f, 1.0f};
  LbfgsState rs(2, o);
  lbfgs_run(rs, r.data(), nst::testing::rosenbrock_objective(2));
  CHECK(rs.stop == LbfgsStop::gradient_tolerance);
  CHECK(max_error_to(r, {1.0, 1.0}) < 1e-3);
  LbfgsOptions classic;  // m = 100 at 512x512x3: 315 MB of bf16 history
  classic.bf16_history = true;
  CHECK(lbfgs_memory_bytes(786432, classic) == 200 * int64_t(786432) * 2 + 3 * int64_t(786432) * 4);
}
