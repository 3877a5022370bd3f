#include "nn/gram.hpp"

#include "nn/kernels/gram.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_features(const char* op, const Tensor& x) {
  NST_CHECK(x.rank() == 4, op, ": x must be [N, C, H, W], got ", x.shape().to_string());
  NST_CHECK(x.numel() > 0, op, ": x ", x.shape().to_string(), " is empty");
}

}  // namespace

// G = F Fᵀ / (C*H*W) per sample, F = x[n] as C x (H*W).
void gram_forward(Tensor& out, const Tensor& x) {
  check_features("gram", x);
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(out.shape() == (Shape{N, C, C}), "gram: out ", out.shape().to_string(),
            " must be [N, C, C] = ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  const float norm = 1.0f / static_cast<float>(C * HW);
  kernels::gram_forward(out.data(), x.data(), N, C, HW, norm);
}

// Differentiates  G = F Fᵀ / (C*H*W):  dF += (dG + dGᵀ) F / (C*H*W).
void gram_backward(Tensor& dx, const Tensor& dout, const Tensor& x, bool accumulate) {
  check_features("gram_backward", x);
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(dout.shape() == (Shape{N, C, C}), "gram_backward: dout ", dout.shape().to_string(),
            " must be ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  NST_CHECK(dx.shape() == x.shape(), "gram_backward: dx ", dx.shape().to_string(), " must match x ",
            x.shape().to_string());
  const float norm = 1.0f / static_cast<float>(C * HW);
  kernels::gram_backward(dx.data(), dout.data(), x.data(), N, C, HW, norm, accumulate);
}

Var gram(Tape& tape, const Var& x) {
  NST_CHECK(x.defined(), "gram: undefined input");
  check_features("gram", x.value());
  Tensor out = Tensor::empty(Shape{x.shape()[0], x.shape()[1], x.shape()[1]});
  gram_forward(out, x.value());
  return tape.record("gram", out, {x}, [x = x](const Tensor& dout) mutable {
    bool accumulate = false;
    Tensor& dx = x.grad_buffer(accumulate);
    gram_backward(dx, dout, x.value(), accumulate);
  });
}

}  // namespace nst
