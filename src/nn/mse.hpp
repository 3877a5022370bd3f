// Mean squared error of two tensors of one shape (Gatys et al. 2016, eq. 1 and
// 4 use it between feature maps and between Gram matrices):
//
//   out[0] = mean((a - b)^2) = (1/n) sum_i (a_i - b_i)^2     a, b: any shape, n elements
//
// The sum is taken in double: fixed chunks of the flat index range each make a
// partial sum, added in chunk order, so the result does not depend on threads.
#pragma once

#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

// out: [1]
void mse_forward(Tensor& out, const Tensor& a, const Tensor& b);
// from `out = (1/n) sum (a - b)^2`:  da += (2/n) (a - b) dout,  db -= (2/n) (a - b) dout
// da or db may be undefined (skipped).
void mse_backward(Tensor& da, Tensor& db, const Tensor& dout, const Tensor& a, const Tensor& b);

// Reference: plain loops, any scalar type; returns the loss.
template <class T>
T mse_reference_forward(const T* a, const T* b, int64_t n) {
  T sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum / T(n);
}
template <class T>
void mse_reference_backward(T* da, T* db, T dout, const T* a, const T* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T g = T(2) / T(n) * (a[i] - b[i]) * dout;
    if (da) da[i] += g;
    if (db) db[i] -= g;
  }
}

Var mse(Tape& tape, const Var& a, const Var& b);

// The pixel-weighted mean squared error (the content loss under a content
// mask): a, b [N, C, H, W], weights w [1, 1, H, W] (>= 0, the same for every
// sample and channel), n = N*C*H*W:
//
//   out[0] = (1/n) sum_i w_p(i) (a_i - b_i)^2           (w = 1: mse)
//   da += (2/n) w (a - b) dout,  db -= (2/n) w (a - b) dout
//
// Each (sample, channel) plane sums in double; the planes add in order.
void weighted_mse_forward(Tensor& out, const Tensor& a, const Tensor& b, const Tensor& w);
void weighted_mse_backward(Tensor& da, Tensor& db, const Tensor& dout, const Tensor& a, const Tensor& b,
                           const Tensor& w);

template <class T>
T weighted_mse_reference_forward(const T* a, const T* b, const T* w, int64_t planes, int64_t HW) {
  T sum = 0;
  for (int64_t c = 0; c < planes; ++c)
    for (int64_t p = 0; p < HW; ++p) {
      const T d = a[c * HW + p] - b[c * HW + p];
      sum += w[p] * d * d;
    }
  return sum / T(planes * HW);
}
template <class T>
void weighted_mse_reference_backward(T* da, T* db, T dout, const T* a, const T* b, const T* w, int64_t planes,
                                     int64_t HW) {
  for (int64_t c = 0; c < planes; ++c)
    for (int64_t p = 0; p < HW; ++p) {
      const T g = T(2) / T(planes * HW) * w[p] * (a[c * HW + p] - b[c * HW + p]) * dout;
      if (da) da[c * HW + p] += g;
      if (db) db[c * HW + p] -= g;
    }
}

Var weighted_mse(Tape& tape, const Var& a, const Var& b, const Tensor& w);

}  // namespace nst
