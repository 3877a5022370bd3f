// Vector operations of the optimisers on float vectors of length n.
//
// Reductions accumulate in double and are deterministic: [0, n) is cut into
// fixed chunks of kVectorChunk elements (never by thread count); each chunk is
// summed by one SIMD kernel call in a fixed order (src/nn/kernels/optim_vec.hpp),
// and the chunk partials are added in chunk order. Element-wise updates round
// once per element. So any thread count gives the same bits at a given SIMD
// level; element-wise results are the same at every level.
#pragma once

#include <cstdint>

namespace nst {

inline constexpr int64_t kVectorChunk = 16384;

// Σ a[i] b[i] in double.
double vec_dot(const float* a, const float* b, int64_t n);
// Σ |a[i]| in double.
double vec_sum_abs(const float* a, int64_t n);
// max |a[i]| (0 for n = 0; NaN if any element is NaN).
double vec_max_abs(const float* a, int64_t n);
// y[i] = float(y[i] + alpha x[i]), computed in double.
void vec_axpy(float* y, double alpha, const float* x, int64_t n);
// y[i] = float(alpha x[i]), computed in double.
void vec_scale(float* y, double alpha, const float* x, int64_t n);
// y[i] = float(x0[i] + alpha d[i]), computed in double.
void vec_add_scaled(float* y, const float* x0, double alpha, const float* d, int64_t n);

// bfloat16: the top 16 bits of a float (sign, 8 exponent bits, 7 fraction
// bits), rounded to nearest even; NaN stays NaN. Half the memory of a float,
// float's range, a relative rounding error of at most 2^-8. The L-BFGS history can be kept so.
uint16_t bf16_from_float(float x);
float bf16_to_float(uint16_t h);
// out[i] = bf16(x[i])
void vec_to_bf16(uint16_t* out, const float* x, int64_t n);
// x[i] = float(bf16(x[i])), in place
void vec_round_bf16(float* x, int64_t n);
// Σ a[i] b[i] in double, a in bf16: the same bits as vec_dot on a decoded.
double vec_dot_bf16(const uint16_t* a, const float* b, int64_t n);
// y[i] = float(y[i] + alpha x[i]), x in bf16: the same bits as vec_axpy on x decoded.
void vec_axpy_bf16(float* y, double alpha, const uint16_t* x, int64_t n);

// Plain sequential references, in the accumulation type T (tests use double
// and long double).
template <class T, class S>
T vec_dot_reference(const S* a, const S* b, int64_t n) {
  T sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += T(a[i]) * T(b[i]);
  return sum;
}

template <class T, class S>
T vec_sum_abs_reference(const S* a, int64_t n) {
  T sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += a[i] < 0 ? -T(a[i]) : T(a[i]);
  return sum;
}

}  // namespace nst
