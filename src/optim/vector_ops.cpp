#include "optim/vector_ops.hpp"

#include <cmath>
#include <cstring>
#include <vector>

#include "nn/kernels/optim_vec.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// Per-chunk partials (each from one kernel call), added in chunk order.
template <class ChunkSum>
double fixed_order_sum(int64_t n, const ChunkSum& chunk_sum) {
  NST_CHECK(n >= 0, "vector: negative length ", n);
  const int64_t chunks = kernels::chunk_count(0, n, kVectorChunk);
  if (chunks <= 1) return chunk_sum(0, n);
  std::vector<double> partial(static_cast<size_t>(chunks));
  kernels::parallel_for(0, n, kVectorChunk, [&](int64_t lo, int64_t hi) {
    partial[static_cast<size_t>(lo / kVectorChunk)] = chunk_sum(lo, hi);
  });
  double sum = 0;
  for (double p : partial) sum += p;
  return sum;
}

template <class Update>
void elementwise(int64_t n, const Update& update) {
  NST_CHECK(n >= 0, "vector: negative length ", n);
  if (n <= kVectorChunk) {
    update(0, n);
    return;
  }
  kernels::parallel_for(0, n, kVectorChunk, update);
}

}  // namespace

double vec_dot(const float* a, const float* b, int64_t n) {
  return fixed_order_sum(
      n, [=](int64_t lo, int64_t hi) { return kernels::dot_chunk(a + lo, b + lo, hi - lo); });
}

double vec_sum_abs(const float* a, int64_t n) {
  return fixed_order_sum(
      n, [=](int64_t lo, int64_t hi) { return kernels::sum_abs_chunk(a + lo, hi - lo); });
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
  vec_add_scaled(y, y, alpha, x, n);
}

void vec_scale(float* y, double alpha, const float* x, int64_t n) {
  elementwise(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) y[i] = float(alpha * double(x[i]));
  });
}

void vec_add_scaled(float* y, const float* x0, double alpha, const float* d, int64_t n) {
  elementwise(n, [=](int64_t lo, int64_t hi) {
    kernels::add_scaled_chunk(y + lo, x0 + lo, alpha, d + lo, hi - lo);
  });
}

uint16_t bf16_from_float(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x40u);  // NaN stays quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);  // round to nearest, ties to even (overflow gives inf)
  return uint16_t(u >> 16);
}

float bf16_to_float(uint16_t h) { return kernels::bf16_value(h); }

void vec_to_bf16(uint16_t* out, const float* x, int64_t n) {
  elementwise(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = bf16_from_float(x[i]);
  });
}

void vec_round_bf16(float* x, int64_t n) {
  elementwise(n, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) x[i] = bf16_to_float(bf16_from_float(x[i]));
  });
}

double vec_dot_bf16(const uint16_t* a, const float* b, int64_t n) {
  return fixed_order_sum(
      n, [=](int64_t lo, int64_t hi) { return kernels::dot_bf16_chunk(a + lo, b + lo, hi - lo); });
}

void vec_axpy_bf16(float* y, double alpha, const uint16_t* x, int64_t n) {
  elementwise(n, [=](int64_t lo, int64_t hi) {
    kernels::add_scaled_bf16_chunk(y + lo, y + lo, alpha, x + lo, hi - lo);
  });
}

}  // namespace nst
