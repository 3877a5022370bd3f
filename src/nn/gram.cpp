#include "nn/gram.hpp"

#include <vector>

#include "nn/gemm.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_features(const char* op, const Tensor& x) {
  NST_CHECK(x.rank() == 4, op, ": x must be [N, C, H, W], got ", x.shape().to_string());
  NST_CHECK(x.numel() > 0, op, ": x ", x.shape().to_string(), " is empty");
}

}  // namespace

void gram_forward(Tensor& out, const Tensor& x) {
  check_features("gram", x);
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(out.shape() == (Shape{N, C, C}), "gram: out ", out.shape().to_string(),
            " must be [N, C, C] = ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  const float norm = 1.0f / static_cast<float>(C * HW);
  for (int64_t n = 0; n < N; ++n) {
    const float* F = x.data() + n * C * HW;
    // G = norm * F Fᵀ   (C x HW times HW x C)
    gemm(false, true, C, C, HW, norm, F, HW, F, HW, 0.0f, out.data() + n * C * C, C);
  }
}

void gram_backward(Tensor& dx, const Tensor& dout, const Tensor& x) {
  check_features("gram_backward", x);
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(dout.shape() == (Shape{N, C, C}), "gram_backward: dout ", dout.shape().to_string(),
            " must be ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  NST_CHECK(dx.shape() == x.shape(), "gram_backward: dx ", dx.shape().to_string(), " must match x ",
            x.shape().to_string());
  const float norm = 1.0f / static_cast<float>(C * HW);
  std::vector<float> sym(static_cast<size_t>(C * C));
  for (int64_t n = 0; n < N; ++n) {
    const float* dG = dout.data() + n * C * C;
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < C; ++j)
        sym[static_cast<size_t>(i * C + j)] = dG[i * C + j] + dG[j * C + i];
    // dF += norm * (dG + dGᵀ) F   (C x C times C x HW), beta = 1 accumulates
    gemm(false, false, C, HW, C, norm, sym.data(), C, x.data() + n * C * HW, HW, 1.0f,
         dx.data() + n * C * HW, HW);
  }
}

Var gram(Tape& tape, const Var& x) {
  NST_CHECK(x.defined(), "gram: undefined input");
  check_features("gram", x.value());
  Tensor out = Tensor::empty(Shape{x.shape()[0], x.shape()[1], x.shape()[1]});
  gram_forward(out, x.value());
  return tape.record("gram", out, {x}, [x = x](const Tensor& dout) mutable {
    gram_backward(x.grad_accumulator(), dout, x.value());
  });
}

}  // namespace nst
