#include "nst/vector_ops.hpp"

#include <cmath>
#include <vector>

#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

constexpr int kLanes = 8;

// Σ term(i) over [lo, hi) in 8 interleaved lanes, lanes added in order.
template <class Term>
double chunk_sum(int64_t lo, int64_t hi, const Term& term) {
  double lane[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = lo;
  for (; i + kLanes <= hi; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lane[j] += term(i + j);
  for (int j = 0; i < hi; ++i, ++j) lane[j] += term(i);
  double sum = 0;
  for (int j = 0; j < kLanes; ++j) sum += lane[j];
  return sum;
}

// Per-chunk partials, then added in chunk order.
template <class Term>
double fixed_order_sum(int64_t n, const Term& term) {
  NST_CHECK(n >= 0, "vector: negative length ", n);
  const int64_t chunks = kernels::chunk_count(0, n, kVectorChunk);
  if (chunks <= 1) return chunk_sum(0, n, term);
  std::vector<double> partial(static_cast<size_t>(chunks));
  kernels::parallel_for(0, n, kVectorChunk, [&](int64_t lo, int64_t hi) {
    partial[static_cast<size_t>(lo / kVectorChunk)] = chunk_sum(lo, hi, term);
  });
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

template <class Update>
void elementwise(int64_t n, const Update& update) {
  NST_CHECK(n >= 0, "vector: negative length ", n);
  if (n <= kVectorChunk) {
    for (int64_t i = 0; i < n; ++i) update(i);
    return;
  }
  kernels::parallel_for(0, n, kVectorChunk, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) update(i);
  });
}

}  // namespace

double vec_dot(const float* a, const float* b, int64_t n) {
  return fixed_order_sum(n, [=](int64_t i) { return double(a[i]) * double(b[i]); });
}

double vec_sum_abs(const float* a, int64_t n) {
  return fixed_order_sum(n, [=](int64_t i) { return std::fabs(double(a[i])); });
}

double vec_max_abs(const float* a, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double v = std::fabs(double(a[i]));
    if (std::isnan(v)) return v;
    if (v > m) m = v;
  }
  return m;
}

void vec_axpy(float* y, double alpha, const float* x, int64_t n) {
  elementwise(n, [=](int64_t i) { y[i] = float(double(y[i]) + alpha * double(x[i])); });
}

void vec_scale(float* y, double alpha, const float* x, int64_t n) {
  elementwise(n, [=](int64_t i) { y[i] = float(alpha * double(x[i])); });
}

void vec_add_scaled(float* y, const float* x0, double alpha, const float* d, int64_t n) {
  elementwise(n, [=](int64_t i) { y[i] = float(double(x0[i]) + alpha * double(d[i])); });
}

}  // namespace nst
