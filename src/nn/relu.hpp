// ReLU: out = max(inp, 0), element-wise on a tensor of any shape.
//
// relu_forward may run in place (out and inp the same tensor): its backward
// needs only where `out` is positive, never `inp`. The autograd nodes (relu
// here, conv2d_relu) keep exactly that: a ReluMask, one bit per element, 1/32
// of the activation it stands for.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

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

// Where a ReLU's output is positive, one bit per element. Cheap to copy (the
// bits are shared).
class ReluMask {
 public:
  ReluMask() = default;
  explicit ReluMask(const Tensor& out);  // bit i = out[i] > 0

  const Shape& shape() const { return shape_; }
  bool positive(int64_t i) const { return ((*bits_)[size_t(i / 64)] >> (i % 64)) & 1; }

  // g = g * (out > 0), in place: a ReLU's backward written over its dout.
  void apply(Tensor& g) const;
  // from `out = inp > 0 ? inp : 0`:  dinp += dout * (out > 0)
  void backward(Tensor& dinp, const Tensor& dout) const;

 private:
  void check(const char* what, const Tensor& t) const;
  Shape shape_;
  std::shared_ptr<std::vector<uint64_t>> bits_;
};

Var relu(Tape& tape, const Var& x);

}  // namespace nst
