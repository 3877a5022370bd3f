#include "nn/kernels/reduce.hpp"

namespace nst::kernels {

namespace {

// sum_i term(i) with kReduceLanes interleaved double accumulators.
template <class Term>
double lane_sum(int64_t n, Term term) {
  double acc[kReduceLanes] = {};
  int64_t i = 0;
  for (; i + kReduceLanes <= n; i += kReduceLanes)
    for (int64_t j = 0; j < kReduceLanes; ++j) acc[j] += term(i + j);
  for (int64_t j = 0; i + j < n; ++j) acc[j] += term(i + j);
  double total = 0.0;
  for (double a : acc) total += a;
  return total;
}

}  // namespace

double sum(const float* x, int64_t n) {
  return lane_sum(n, [x](int64_t i) { return double(x[i]); });
}

double sum_squared_deviation(const float* x, double mean, int64_t n) {
  return lane_sum(n, [x, mean](int64_t i) {
    const double d = double(x[i]) - mean;
    return d * d;
  });
}

double sum_squared_difference(const float* a, const float* b, int64_t n) {
  return lane_sum(n, [a, b](int64_t i) {
    const double d = double(a[i]) - double(b[i]);
    return d * d;
  });
}

double sum_weighted_deviation(const float* w, const float* x, double mean, int64_t n) {
  return lane_sum(n, [w, x, mean](int64_t i) { return double(w[i]) * (double(x[i]) - mean); });
}

double dot(const float* a, const float* b, int64_t n) {
  return lane_sum(n, [a, b](int64_t i) { return double(a[i]) * double(b[i]); });
}

}  // namespace nst::kernels
