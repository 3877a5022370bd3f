#include <cmath>
#include <cstring>
#include <vector>

#include "optim/line_search.hpp"
#include "optim/vector_ops.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;

namespace {

struct Curve {
  const char* name;
  double (*f)(double);
  double (*df)(double);
};

// 1-D test functions with φ'(0) < 0 (the second and third are N&W's and Moré-Thuente's).
const Curve kCurves[] = {
    {"(t - 3)^2", [](double t) { return (t - 3) * (t - 3); }, [](double t) { return 2 * (t - 3); }},
    {"-t / (t^2 + 2)", [](double t) { return -t / (t * t + 2); },
     [](double t) { return (t * t - 2) / ((t * t + 2) * (t * t + 2)); }},
    {"(t + 0.004)^5 - 2 (t + 0.004)^4",
     [](double t) { return std::pow(t + 0.004, 5) - 2 * std::pow(t + 0.004, 4); },
     [](double t) { return 5 * std::pow(t + 0.004, 4) - 8 * std::pow(t + 0.004, 3); }},
    {"t^4 - 4 t", [](double t) { return t * t * t * t - 4 * t; },
     [](double t) { return 4 * t * t * t - 4; }},
};

}  // namespace

TEST_CASE("line search: the test curves' derivatives match finite differences", "[line-search]") {
  for (const Curve& c : kCurves) {
    INFO(c.name);
    for (double t : {0.0, 0.3, 1.7, 4.0}) {
      const auto numeric = nst::testing::numeric_gradient(
          [&](const std::vector<double>& x) { return c.f(x[0]); }, {t});
      CHECK(c.df(t) == Approx(numeric[0]).epsilon(1e-6).margin(1e-8));
    }
  }
}

TEST_CASE("line search: cubic interpolation is exact on cubics and quadratics", "[line-search]") {
  // p(t) = t³ - 3t has its local minimum at t = 1.
  CHECK(cubic_minimizer(0, 0, -3, 2, 2, 9, -10, 10) == Approx(1.0).epsilon(1e-12));
  CHECK(cubic_minimizer(2, 2, 9, 0, 0, -3, -10, 10) == Approx(1.0).epsilon(1e-12));
  // q(t) = (t - 0.7)²
  auto q = [](double t) { return (t - 0.7) * (t - 0.7); };
  auto dq = [](double t) { return 2 * (t - 0.7); };
  CHECK(cubic_minimizer(0, q(0), dq(0), 3, q(3), dq(3), -10, 10) == Approx(0.7).epsilon(1e-12));
  // Clamped to the bounds, midpoint when there is no minimum (p''' > 0 with no real root).
  CHECK(cubic_minimizer(0, 0, -3, 2, 2, 9, 1.5, 4) == 1.5);
  CHECK(cubic_minimizer(0, 0, 1, 1, 2, 5, 0, 1) == 0.5);
}

TEST_CASE("line search: the returned step meets the strong Wolfe conditions", "[line-search]") {
  const LineSearchOptions o;  // c1 = 1e-4, c2 = 0.9
  for (const Curve& c : kCurves) {
    for (double t_init : {1e-3, 0.1, 1.0, 10.0, 100.0}) {
      INFO(c.name << ", t_init = " << t_init);
      int calls = 0;
      const LineFunction phi = [&](double t, double* dphi) {
        ++calls;
        *dphi = c.df(t);
        return c.f(t);
      };
      const double f0 = c.f(0), d0 = c.df(0);
      const LineSearchResult r = strong_wolfe_line_search(phi, f0, d0, t_init, o);
      CHECK(r.wolfe);
      CHECK(r.last_evaluated);
      CHECK(r.evaluations == calls);
      CHECK(r.evaluations <= o.max_evaluations);
      CHECK(r.t > 0);
      CHECK(r.f <= f0 + o.c1 * r.t * d0);
      CHECK(std::fabs(r.dphi) <= o.c2 * std::fabs(d0));
      CHECK(r.f == c.f(r.t));
    }
  }
}

TEST_CASE("line search: NaN regions, tight budgets and bad inputs", "[line-search]") {
  LineSearchOptions o;
  // φ is NaN beyond t = 2: the search backs off into the finite region.
  const LineFunction nan_beyond = [](double t, double* dphi) {
    *dphi = t > 2 ? std::nan("") : 2 * (t - 1.5);
    return t > 2 ? std::nan("") : (t - 1.5) * (t - 1.5);
  };
  LineSearchResult r = strong_wolfe_line_search(nan_beyond, 2.25, -3, 50, o);
  CHECK(r.t > 0);
  CHECK(r.t <= 2);
  CHECK(r.f < 2.25);
  // One evaluation that fails sufficient decrease: no step (t = 0).
  o.max_evaluations = 1;
  const LineFunction up = [](double t, double* dphi) {
    *dphi = 1;
    return t;
  };
  r = strong_wolfe_line_search(up, 0, -1, 1, o);
  CHECK(r.t == 0);
  CHECK(r.evaluations == 1);
  CHECK(!r.last_evaluated);
  // Budget used up while still descending: the last point, not Wolfe.
  o.max_evaluations = 2;
  const LineFunction down = [](double t, double* dphi) {
    *dphi = -1;
    return -t;
  };
  r = strong_wolfe_line_search(down, 0, -1, 1, o);
  CHECK(r.evaluations == 2);
  CHECK(!r.wolfe);
  CHECK(r.last_evaluated);
  CHECK(r.t > 1);
  CHECK_THROWS_WITH(strong_wolfe_line_search(down, 0, 1, 1, o), Catch::Contains("descent"));
  CHECK_THROWS_WITH(strong_wolfe_line_search(down, 0, -1, 0, o), Catch::Contains("initial step"));
  o.c1 = 0.95;
  CHECK_THROWS_WITH(strong_wolfe_line_search(down, 0, -1, 1, o), Catch::Contains("c1 < c2"));
}

TEST_CASE("vector ops: SIMD kernels match the references on odd sizes at every level",
          "[line-search][vector-ops]") {
  const std::vector<int64_t> sizes = {
      1, 3, 5, 7, 9, 13, 31, 33, kVectorChunk + 1, 3 * kVectorChunk + 17};
  for (int64_t n : sizes) {
    INFO("n = " << n);
    const Tensor a = nst::testing::random_tensor({n}, 1, -2, 2);
    const Tensor b = nst::testing::random_tensor({n}, 2, -2, 2);
    const auto want_dot = vec_dot_reference<long double>(a.data(), b.data(), n);
    const auto want_abs = vec_sum_abs_reference<long double>(a.data(), n);
    const auto scale = vec_sum_abs_reference<long double>(b.data(), n) * 2;  // ≥ Σ|a b|
    int64_t wrong = 0;
    nst::testing::for_each_simd_level([&](kernels::SimdLevel) {
      std::vector<double> dots, abs_sums;
      for (int threads : {1, 2}) {
        nst::testing::with_threads(threads, [&] {
          dots.push_back(vec_dot(a.data(), b.data(), n));
          abs_sums.push_back(vec_sum_abs(a.data(), n));
        });
      }
      CHECK(double(std::fabs(dots[0] - want_dot)) <= 1e-14 * double(scale));
      CHECK(double(std::fabs(abs_sums[0] - want_abs)) <= 1e-14 * double(want_abs));
      CHECK(std::memcmp(&dots[0], &dots[1], sizeof(double)) == 0);
      CHECK(std::memcmp(&abs_sums[0], &abs_sums[1], sizeof(double)) == 0);
      // Element-wise updates: y = x0 + α d rounded once, the same bits at every level.
      Tensor y = Tensor::empty({n});
      vec_add_scaled(y.data(), a.data(), 0.1, b.data(), n);
      Tensor z = a.clone();
      vec_axpy(z.data(), -1.25, b.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        wrong += y[i] != float(double(a[i]) + 0.1 * double(b[i]));
        wrong += z[i] != float(double(a[i]) + -1.25 * double(b[i]));
      }
    });
    CHECK(wrong == 0);
    double max_abs = 0;
    for (int64_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(double(a[i])));
    CHECK(vec_max_abs(a.data(), n) == max_abs);
  }
  CHECK_THROWS_WITH(vec_dot(nullptr, nullptr, -1), Catch::Contains("negative length"));
}
