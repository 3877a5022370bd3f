// Box constraints: projected L-BFGS and clamped Adam keep x in [lower, upper]
// and find the box-constrained minimum; the stylize driver keeps pixels in
// 0..255 so that the picture written scores what the optimiser reached.
#include <catch2/catch.hpp>

#include <sstream>

#include "optim/box.hpp"
#include "optim/optimizer.hpp"
#include "optim_problems.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

Box uniform_box(int64_t n, float lo, float hi) {
  return Box{std::vector<float>(size_t(n), lo), std::vector<float>(size_t(n), hi)};
}

// Wraps an objective to record whether it was ever called outside the box.
Objective watching(const Objective& f, const Box& box, int64_t n, bool* left) {
  return [f, &box, n, left](const float* x, float* g) {
    for (int64_t i = 0; i < n; ++i)
      if (x[i] < box.lower[size_t(i)] || x[i] > box.upper[size_t(i)]) *left = true;
    return f(x, g);
  };
}

// The box-constrained minimiser of a strictly convex quadratic, by projected
// gradient descent in double (step 1 / (largest eigenvalue bound)), run long.
std::vector<double> reference_minimiser(const Quadratic& q, double lo, double hi) {
  std::vector<double> x(size_t(q.n), 0.0), g(size_t(q.n));
  double bound = 0;  // Gershgorin bound on the largest eigenvalue
  for (int64_t i = 0; i < q.n; ++i) {
    double row = 0;
    for (int64_t j = 0; j < q.n; ++j) row += std::fabs(q.a[size_t(i * q.n + j)]);
    bound = std::max(bound, row);
  }
  for (int it = 0; it < 20000; ++it) {
    q.value(x.data(), g.data());
    for (int64_t i = 0; i < q.n; ++i)
      x[size_t(i)] = std::clamp(x[size_t(i)] - g[size_t(i)] / bound, lo, hi);
  }
  return x;
}

}  // namespace

TEST_CASE("box: projection, blocked components and checks", "[box]") {
  const Box box{{0.0f, 0.0f, -1.0f}, {1.0f, 1.0f, 1.0f}};
  float x[3] = {-0.5f, 0.5f, 3.0f};
  box_project(x, box, 3);
  CHECK(x[0] == 0.0f);
  CHECK(x[1] == 0.5f);
  CHECK(x[2] == 1.0f);
  // At the lower bound a positive gradient is blocked (descent would go below),
  // a negative one is free; inside, nothing is blocked.
  const float g[3] = {2.0f, -3.0f, -4.0f};
  float free_g[3];
  box_free_gradient(free_g, g, x, box, 3);
  CHECK(free_g[0] == 0.0f);
  CHECK(free_g[1] == -3.0f);
  CHECK(free_g[2] == 0.0f);  // at the upper bound, g < 0 pushes up
  CHECK_NOTHROW(check_box(Box{}, 5));
  CHECK_THROWS_WITH(check_box(uniform_box(2, 0, 1), 3), Catch::Contains("box"));
  CHECK_THROWS_WITH(check_box(Box{{1.0f}, {0.0f}}, 1), Catch::Contains("lower <= upper"));
}

TEST_CASE("box: projected L-BFGS reaches the box-constrained minimum and never leaves the box",
          "[box][lbfgs]") {
  const Quadratic q(24, 77);  // its unconstrained minimiser c has entries in -2..2
  const std::vector<double> want = reference_minimiser(q, -0.5, 0.5);
  int at_bound = 0;
  for (double v : want) at_bound += std::fabs(std::fabs(v) - 0.5) < 1e-9;
  REQUIRE(at_bound >= 4);  // the constraint matters
  for (bool line_search : {false, true})
    for (bool bf16 : {false, true}) {
      INFO("line search " << line_search << ", bf16 history " << bf16);
      LbfgsOptions o;
      o.history = 10;
      o.bf16_history = bf16;
      o.line_search = line_search ? LineSearch::strong_wolfe : LineSearch::none;
      o.max_iterations = 300;
      o.grad_tolerance = 1e-6;
      const Box box = uniform_box(q.n, -0.5f, 0.5f);
      std::unique_ptr<Optimizer> opt = make_lbfgs(q.n, o);
      opt->set_box(box);
      std::vector<float> x(size_t(q.n), 0.9f);  // starts outside: projected on the first step
      bool left = false;
      const Objective f = watching(q.objective(), box, q.n, &left);
      bool first = true;
      while (!opt->stopped()) {
        opt->step(x.data(), f);
        if (first) left = false;  // only the starting point was outside
        first = false;
      }
      CHECK_FALSE(left);
      CHECK_FALSE(opt->diverged());
      for (int64_t i = 0; i < q.n; ++i) CHECK(x[size_t(i)] == Approx(want[size_t(i)]).margin(2e-4));
    }
}

TEST_CASE("box: a projected fixed step that would raise f is replaced by the line search",
          "[box][lbfgs]") {
  // With lr = 3 each quasi-Newton step on a quadratic overshoots threefold and
  // raises f; taken back and searched (strong Wolfe from the same point),
  // every iteration lowers it.
  const Quadratic q(24, 77);
  const std::vector<double> want = reference_minimiser(q, -0.5, 0.5);
  LbfgsOptions o;
  o.history = 10;
  o.lr = 3;
  o.max_iterations = 2000;
  o.grad_tolerance = 1e-6;
  const Box box = uniform_box(q.n, -0.5f, 0.5f);
  std::unique_ptr<Optimizer> opt = make_lbfgs(q.n, o);
  opt->set_box(box);
  std::vector<float> x(size_t(q.n), 0.0f);
  std::vector<float> g(size_t(q.n));
  double before = q.objective()(x.data(), g.data());
  int iterations = 0;
  while (!opt->stopped()) {
    const double f = opt->step(x.data(), q.objective());
    if (opt->stopped()) break;
    INFO("iteration " << iterations);
    REQUIRE(f < before);
    before = f;
    ++iterations;
  }
  CHECK(iterations > 2);
  CHECK(opt->evaluations() > iterations + 1);  // some steps needed the search
  for (int64_t i = 0; i < q.n; ++i) CHECK(x[size_t(i)] == Approx(want[size_t(i)]).margin(2e-4));
}

TEST_CASE("lbfgs: a first step below float resolution is searched from one grey level", "[box][lbfgs]") {
  // f = K + a Σ (x - c)², summed in float with K = 1e11 (float spacing 8192 there),
  // as a large picture's loss is. The first step min(1, 1/‖g‖₁) moves 30 000
  // values by 1 in all and changes f by ~200: nothing in float. Searched from
  // there the step only shrank and the run stopped at once ("line search found
  // no decrease", what happened at the start of the 1024 px scale); searched
  // from the step that moves the fastest value by 1/255 of the box (f changes
  // by ~5e4), it goes on and converges. Without a box the same with a step that
  // moves the fastest value by 1/256 of max(1, max |x|); the fixed unconstrained
  // step (torch's recipe, kept bit for bit) recovers at its second step anyway.
  const int64_t n = 30000;
  std::vector<float> c(static_cast<size_t>(n));
  uint32_t seed = 12345;
  for (float& v : c) {
    seed = seed * 1664525u + 1013904223u;
    v = -1.5f + 3.0f * float(seed >> 8) / float(1u << 24);
  }
  const float a = 100.0f;
  const Objective f = [&](const float* x, float* g) {
    float q = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float e = x[i] - c[size_t(i)];
      q += a * e * e;
      g[i] = 2 * a * e;
    }
    return double(1e11f + q);
  };
  const auto distance = [&](const std::vector<float>& x) {
    double d = 0;
    for (int64_t i = 0; i < n; ++i) d += (double(x[size_t(i)]) - c[size_t(i)]) * (x[size_t(i)] - c[size_t(i)]);
    return d;
  };
  for (int variant = 0; variant < 4; ++variant) {
    const bool line_search = variant % 2 == 1, boxed = variant < 2;
    INFO("line search " << line_search << ", box " << boxed);
    LbfgsOptions o;
    o.history = 10;
    o.line_search = line_search ? LineSearch::strong_wolfe : LineSearch::none;
    o.max_iterations = 40;
    std::unique_ptr<Optimizer> opt = make_lbfgs(n, o);
    if (boxed) opt->set_box(uniform_box(n, -2.0f, 2.0f));
    std::vector<float> x(size_t(n), 0.0f);
    const double start = distance(x);
    int iterations = 0;
    while (!opt->stopped()) {
      opt->step(x.data(), f);
      ++iterations;
    }
    INFO("stop: " << opt->early_stop_reason() << " after " << iterations << " steps");
    CHECK(iterations > 2);
    CHECK(opt->early_stop_reason().find("line search") == std::string::npos);
    CHECK(distance(x) < 1e-2 * start);
  }
}

TEST_CASE("box: clamped Adam stays inside and approaches the constrained minimum", "[box][adam]") {
  const int64_t n = 50;
  AdamOptions o;
  o.lr = 0.05;
  o.max_iterations = 2000;
  const Box box = uniform_box(n, -0.25f, 0.25f);
  std::unique_ptr<Optimizer> opt = make_adam(n, o);
  opt->set_box(box);
  std::vector<float> x(size_t(n), 0.0f);
  bool left = false;
  const Objective f = watching(diagonal_quadratic(n), box, n, &left);
  while (!opt->stopped()) opt->step(x.data(), f);
  CHECK_FALSE(left);
  for (int64_t i = 0; i < n; ++i)
    CHECK(x[size_t(i)] ==
          Approx(std::clamp(diagonal_quadratic_center(i), -0.25, 0.25)).margin(5e-3));
}

TEST_CASE("box: a resumed projected run continues bit for bit", "[box][lbfgs]") {
  const int64_t n = 16;
  LbfgsOptions o;
  o.history = 5;
  o.max_iterations = 40;
  const Box box = uniform_box(n, 0.0f, 0.8f);
  const Objective f = rosenbrock_objective(n);
  std::vector<float> straight(size_t(n), 0.1f);
  {
    std::unique_ptr<Optimizer> opt = make_lbfgs(n, o);
    opt->set_box(box);
    while (!opt->stopped()) opt->step(straight.data(), f);
  }
  std::vector<float> resumed(size_t(n), 0.1f);
  std::stringstream saved;
  {
    std::unique_ptr<Optimizer> opt = make_lbfgs(n, o);
    opt->set_box(box);
    for (int k = 0; k < 15; ++k) opt->step(resumed.data(), f);
    opt->save_state(saved);
  }
  std::unique_ptr<Optimizer> opt = make_lbfgs(n, o);
  opt->load_state(saved);
  opt->set_box(box);  // not part of the state: the driver sets it again
  while (!opt->stopped()) opt->step(resumed.data(), f);
  CHECK(same_bits(straight, resumed));
  for (float v : straight) {
    CHECK(v >= 0.0f);
    CHECK(v <= 0.8f);
  }
}
