// Element-wise arithmetic on tensors of one shape (no broadcasting), and the
// weighted sum that combines scalar loss terms:
//
//   add:          out = a + b
//   sub:          out = a - b
//   scale:        out = s * x
//   affine:       out = s * x + t
//   tanh:         out = tanh(x)
//   weighted_sum: out[0] = sum_i w_i * scalars_i[0]     (every scalar has shape [1])
//
// Forward outputs may alias an input (in-place use). Backwards accumulate (+=)
// into gradients the caller has zeroed; an undefined gradient tensor is skipped.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

void add_forward(Tensor& out, const Tensor& a, const Tensor& b);
// from `out = a + b`:  da += dout,  db += dout
void add_backward(Tensor& da, Tensor& db, const Tensor& dout);

void sub_forward(Tensor& out, const Tensor& a, const Tensor& b);
// from `out = a - b`:  da += dout,  db -= dout
void sub_backward(Tensor& da, Tensor& db, const Tensor& dout);

void scale_forward(Tensor& out, const Tensor& x, float s);
// from `out = s * x`:  dx += s * dout
void scale_backward(Tensor& dx, const Tensor& dout, float s);

void affine_forward(Tensor& out, const Tensor& x, float s, float t);
// from `out = s * x + t`:  dx += s * dout
void affine_backward(Tensor& dx, const Tensor& dout, float s);

void tanh_forward(Tensor& out, const Tensor& x);
// from `out = tanh(x)`:  dx += dout * (1 - out^2)
void tanh_backward(Tensor& dx, const Tensor& dout, const Tensor& out);

// Sums in double, in order, then rounds once.
void weighted_sum_forward(Tensor& out, const std::vector<Tensor>& scalars,
                          const std::vector<float>& weights);
// from `out = sum_i w_i * s_i`:  ds_i += w_i * dout   (dscalars[i] may be null)
void weighted_sum_backward(const std::vector<Tensor*>& dscalars, const Tensor& dout,
                           const std::vector<float>& weights);

// References: plain loops over n elements, any scalar type.
template <class T>
void affine_reference_forward(T* out, const T* x, T s, T t, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = s * x[i] + t;
}
template <class T>
void affine_reference_backward(T* dx, const T* dout, T s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += s * dout[i];
}
template <class T>
void add_reference_forward(T* out, const T* a, T sign_b, const T* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = a[i] + sign_b * b[i];  // sign_b: +1 add, -1 sub
}
template <class T>
void tanh_reference_forward(T* out, const T* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(x[i]);
}
template <class T>
void tanh_reference_backward(T* dx, const T* dout, const T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] += dout[i] * (T(1) - out[i] * out[i]);
}

Var add(Tape& tape, const Var& a, const Var& b);
Var sub(Tape& tape, const Var& a, const Var& b);
Var scale(Tape& tape, const Var& x, float s);
Var affine(Tape& tape, const Var& x, float s, float t);
Var tanh(Tape& tape, const Var& x);
Var weighted_sum(Tape& tape, const std::vector<Var>& scalars, const std::vector<float>& weights);

}  // namespace nst
