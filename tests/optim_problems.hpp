// Test problems for the optimisers, templated on the scalar type so their
// gradients can be checked by finite differences in double.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "optim/objective.hpp"

namespace nst::testing {

// Chained Rosenbrock: f = Σ_{i<n-1} 100 (x_{i+1} - x_i²)² + (1 - x_i)², minimum 0 at (1, ..., 1).
template <class T>
T rosenbrock(const T* x, T* grad, int64_t n) {
  T f = 0;
  for (int64_t i = 0; i < n; ++i) grad[i] = 0;
  for (int64_t i = 0; i + 1 < n; ++i) {
    const T a = x[i + 1] - x[i] * x[i];
    const T b = 1 - x[i];
    f += 100 * a * a + b * b;
    grad[i] += -400 * x[i] * a - 2 * b;
    grad[i + 1] += 200 * a;
  }
  return f;
}

inline Objective rosenbrock_objective(int64_t n) {
  return [n](const float* x, float* grad) {
    std::vector<double> xd(x, x + n), gd(static_cast<size_t>(n));
    const double f = rosenbrock(xd.data(), gd.data(), n);
    for (int64_t i = 0; i < n; ++i) grad[i] = float(gd[static_cast<size_t>(i)]);
    return f;
  };
}

// f = ½ (x - c)ᵀ A (x - c) with A = MᵀM / n + I (symmetric positive definite), minimiser c.
struct Quadratic {
  int64_t n;
  std::vector<double> a, c;  // a: [n][n] row-major

  Quadratic(int64_t n_, uint64_t seed) : n(n_), a(size_t(n_ * n_)), c(size_t(n_)) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> dist(-1.0, 1.0);
    std::vector<double> m(size_t(n * n));
    for (double& v : m) v = dist(rng);
    for (double& v : c) v = 2 * dist(rng);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = i == j ? 1.0 : 0.0;
        for (int64_t k = 0; k < n; ++k)
          sum += m[size_t(k * n + i)] * m[size_t(k * n + j)] / double(n);
        a[size_t(i * n + j)] = sum;
      }
  }

  template <class T>
  T value(const T* x, T* grad) const {
    T f = 0;
    for (int64_t i = 0; i < n; ++i) {
      T ax = 0;
      for (int64_t j = 0; j < n; ++j) ax += T(a[size_t(i * n + j)]) * (x[j] - T(c[size_t(j)]));
      grad[i] = ax;
      f += T(0.5) * (x[i] - T(c[size_t(i)])) * ax;
    }
    return f;
  }

  Objective objective() const {
    return [this](const float* x, float* grad) {
      std::vector<double> xd(x, x + n), gd(static_cast<size_t>(n));
      const double f = value(xd.data(), gd.data());
      for (int64_t i = 0; i < n; ++i) grad[i] = float(gd[size_t(i)]);
      return f;
    };
  }
};

// Separable f = ½ Σ a_i (x_i - c_i)², a_i = 1 + (i mod 7), c_i = sin(i): large and cheap.
inline double diagonal_quadratic_center(int64_t i) { return std::sin(double(i)); }

inline Objective diagonal_quadratic(int64_t n) {
  return [n](const float* x, float* grad) {
    double f = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double a = 1.0 + double(i % 7);
      const double r = double(x[i]) - diagonal_quadratic_center(i);
      grad[i] = float(a * r);
      f += 0.5 * a * r * r;
    }
    return f;
  };
}

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

inline double max_error_to(const std::vector<float>& x, const std::vector<double>& want) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - want[i]));
  return worst;
}

}  // namespace nst::testing
