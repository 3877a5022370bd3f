// ReLU: out = max(inp, 0), element-wise on a tensor of any shape.
//
// relu_forward may run in place (out and inp the same tensor): its backward
// needs only `out`, never `inp`.
#pragma once

#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

// out = inp > 0 ? inp : 0          out, inp: same shape (may be one tensor)
void relu_forward(Tensor& out, const Tensor& inp);
// from `out = inp > 0 ? inp : 0`:  dinp += dout * (out > 0)
void relu_backward(Tensor& dinp, const Tensor& dout, const Tensor& out);

// Reference: plain loops over n elements, any scalar type.
template <class T>
void relu_reference_forward(T* out, const T* inp, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = inp[i] > T(0) ? inp[i] : T(0);
}
template <class T>
void relu_reference_backward(T* dinp, const T* dout, const T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dinp[i] += out[i] > T(0) ? dout[i] : T(0);
}

Var relu(Tape& tape, const Var& x);

}  // namespace nst
