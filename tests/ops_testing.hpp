// Helpers for the tests of the element-wise, normalisation and loss ops:
// the odd-shape sweep, conversions between Tensor and double vectors, and the
// scalar probe sum_i w_i y_i whose gradient is an op's backward with dout = w.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "testing.hpp"

namespace nst::testing {

// N in {1, 2}, C in {1, 3, 5, 13}, H and W in {1, 7, 9, 31}: every SIMD tail
// length, and planes of one pixel, one row and one column.
inline std::vector<Shape> odd_shapes() {
  std::vector<Shape> shapes;
  for (int64_t n : {1, 2})
    for (int64_t c : {1, 3, 5, 13})
      for (int64_t h : {1, 7, 9, 31})
        for (int64_t w : {1, 7, 9, 31}) shapes.push_back(Shape{n, c, h, w});
  return shapes;
}

inline std::vector<double> random_doubles(size_t n, uint64_t seed, double lo = -1.0,
                                          double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

inline Tensor tensor_from(const Shape& shape, const std::vector<double>& values) {
  REQUIRE(shape.numel() == static_cast<int64_t>(values.size()));
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = static_cast<float>(values[static_cast<size_t>(i)]);
  return t;
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
  REQUIRE(a.size() == b.size());
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// Rounds a double vector to float precision, so double references see exactly
// the inputs the float kernels see.
inline std::vector<double> rounded(const std::vector<double>& v) {
  std::vector<double> r(v.size());
  for (size_t i = 0; i < v.size(); ++i) r[i] = static_cast<float>(v[i]);
  return r;
}

// A region mask [1, 1, H, W] for the masked ops: soft values, whole zeros and
// whole ones, never zero everywhere.
inline Tensor random_mask(int64_t H, int64_t W, uint64_t seed) {
  Tensor m = random_tensor({1, 1, H, W}, seed, -0.5f, 1.5f);
  for (int64_t i = 0; i < m.numel(); ++i) m[i] = std::fmin(std::fmax(m[i], 0.0f), 1.0f);
  m[m.numel() - 1] = 0.75f;
  return m;
}

}  // namespace nst::testing
