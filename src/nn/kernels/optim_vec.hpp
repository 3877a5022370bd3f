// One chunk of the optimisers' vector operations (src/optim/vector_ops.hpp), at the
// active SIMD level, single-threaded. No xsimd in this header.
//
// Sums accumulate float products in double; the order within a chunk is fixed
// for a given SIMD level (lanes of the double batches, added lane by lane at the
// end). The element-wise update is the same arithmetic at every level: one
// double multiply, one double add, one rounding to float.
#pragma once

#include <cstdint>
#include <cstring>

namespace nst::kernels {

// The float a bfloat16 value stands for (its 16 bits are the top half of the
// float's): the one decoder of the optimisers' bf16 vectors.
inline float bf16_value(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

// Σ a[i] b[i] over [0, n), in double.
double dot_chunk(const float* a, const float* b, int64_t n);
// Σ |a[i]| over [0, n), in double.
double sum_abs_chunk(const float* a, int64_t n);
// y[i] = float(double(x0[i]) + alpha * double(d[i])); y may alias x0 or d.
void add_scaled_chunk(float* y, const float* x0, double alpha, const float* d, int64_t n);

// The same two with a and d in bfloat16: the bits of the float versions on the
// decoded values.
double dot_bf16_chunk(const uint16_t* a, const float* b, int64_t n);
void add_scaled_bf16_chunk(float* y, const float* x0, double alpha, const uint16_t* d, int64_t n);

}  // namespace nst::kernels
