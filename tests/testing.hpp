// Helpers shared by the tests: random tensors, closeness checks, central
// finite differences in double, and running a body at every SIMD level and
// thread count.
#pragma once

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst::testing {

inline Tensor random_tensor(const Shape& shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(rng);
  return t;
}

inline std::vector<double> to_double(const Tensor& t) {
  return std::vector<double>(t.data(), t.data() + t.numel());
}

// |got - want| <= atol + rtol * |want| element-wise; reports the worst element.
inline void check_close(const float* got, const float* want, int64_t n, double rtol, double atol,
                        const std::string& what = "") {
  int64_t worst = -1;
  double worst_excess = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::abs(double(got[i]) - double(want[i]));
    const double tol = atol + rtol * std::abs(double(want[i]));
    const bool bad = !(err <= tol);  // NaN counts as bad
    if (bad && (worst < 0 || !(err - tol <= worst_excess))) {
      worst = i;
      worst_excess = err - tol;
    }
  }
  INFO(what << (worst >= 0 ? " worst element " + std::to_string(worst) + ": got " +
                                 std::to_string(got[worst]) + ", want " +
                                 std::to_string(want[worst])
                           : std::string()));
  CHECK(worst < 0);
}

inline void check_close(const Tensor& got, const Tensor& want, double rtol, double atol,
                        const std::string& what = "") {
  REQUIRE(got.shape() == want.shape());
  check_close(got.data(), want.data(), got.numel(), rtol, atol, what);
}

inline void check_close(const Tensor& got, const std::vector<double>& want, double rtol,
                        double atol, const std::string& what = "") {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  std::vector<float> w(want.begin(), want.end());
  check_close(got.data(), w.data(), got.numel(), rtol, atol, what);
}

inline bool bit_identical(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (std::memcmp(&a.data()[i], &b.data()[i], sizeof(float)) != 0) return false;
  return true;
}

// Equal values element by element (a zero's sign aside; a NaN equals nothing).
inline bool same_values(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!(a.data()[i] == b.data()[i])) return false;
  return true;
}

// ||a - b|| / ||b||, in double.
inline double relative_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double num = 0, den = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / den);
}

// A scalar tape node  loss = <y, r>: its backward seeds dy = r, so backward()
// of it runs an op's backward with dout = r.
inline Var dot_with(Tape& tape, const Var& y, const Tensor& r) {
  double s = 0.0;
  for (int64_t i = 0; i < r.numel(); ++i) s += double(y.value()[i]) * r[i];
  return tape.record("dot", Tensor::from({1}, {float(s)}), {y},
                     [yv = y, r](const Tensor& dout) mutable {
                       Tensor& dy = yv.grad_accumulator();
                       for (int64_t i = 0; i < r.numel(); ++i) dy[i] += dout[0] * r[i];
                     });
}

// Central differences of a scalar function computed in double:
// g_i = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
inline std::vector<double> numeric_gradient(
    const std::function<double(const std::vector<double>&)>& f, std::vector<double> x,
    double eps = 1e-5) {
  std::vector<double> g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double keep = x[i];
    x[i] = keep + eps;
    const double fp = f(x);
    x[i] = keep - eps;
    const double fm = f(x);
    x[i] = keep;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

// Runs body once per SIMD level this CPU supports (scalar included).
template <class F>
void for_each_simd_level(F&& body) {
  for (kernels::SimdLevel level : kernels::supported_simd_levels()) {
    kernels::ScopedSimdLevel scoped(level);
    INFO("SIMD level " << kernels::simd_level_name(level));
    body(level);
  }
}

// Runs body with the given number of threads, then restores the count.
template <class F>
void with_threads(int n, F&& body) {
  const int saved = kernels::num_threads();
  kernels::set_num_threads(n);
  try {
    body();
  } catch (...) {
    kernels::set_num_threads(saved);
    throw;
  }
  kernels::set_num_threads(saved);
}

// The shared data folder (NST_SHARED, default ../shared next to the repo).
inline std::string shared_dir() {
  if (const char* env = std::getenv("NST_SHARED"); env && *env) return env;
#ifdef NST_DEFAULT_SHARED
  return NST_DEFAULT_SHARED;
#else
  return "../shared";
#endif
}

inline bool shared_available(const std::string& relative) {
  return std::filesystem::exists(std::filesystem::path(shared_dir()) / relative);
}

}  // namespace nst::testing

// Skips the rest of a test, loudly, when shared data is missing.
#define NST_REQUIRE_SHARED(relative)                                                   \
  do {                                                                                 \
    if (!::nst::testing::shared_available(relative)) {                                 \
      WARN("SKIPPED: shared data '" << ::nst::testing::shared_dir() << "/" << relative \
                                    << "' is missing (set NST_SHARED)");               \
      return;                                                                          \
    }                                                                                  \
  } while (0)
