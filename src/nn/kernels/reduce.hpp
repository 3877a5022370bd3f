// Sums in double over flat float arrays, in a fixed order: element i goes to
// accumulator i % kReduceLanes, and the accumulators are added in lane order at
// the end. Independent accumulators keep the adds from waiting on each other
// (one chain of double adds is latency-bound at ~4 cycles per element); the
// order depends only on n, so the result is the same at every SIMD level and
// thread count. Single-threaded: callers split the work and combine partials.
#pragma once

#include <cstdint>

namespace nst::kernels {

inline constexpr int64_t kReduceLanes = 8;

// sum_i x[i]
double sum(const float* x, int64_t n);
// sum_i (x[i] - mean)^2
double sum_squared_deviation(const float* x, double mean, int64_t n);
// sum_i (a[i] - b[i])^2
double sum_squared_difference(const float* a, const float* b, int64_t n);
// sum_i w[i] * (x[i] - mean)
double sum_weighted_deviation(const float* w, const float* x, double mean, int64_t n);
// sum_i a[i] * b[i]
double dot(const float* a, const float* b, int64_t n);

}  // namespace nst::kernels
