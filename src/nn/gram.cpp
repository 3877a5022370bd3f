#include "nn/gram.hpp"

#include <cmath>
#include <vector>

#include "nn/kernels/gram.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/pixel_weights.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_features(const char* op, const Tensor& x) {
  NST_CHECK(x.rank() == 4, op, ": x must be [N, C, H, W], got ", x.shape().to_string());
  NST_CHECK(x.numel() > 0, op, ": x ", x.shape().to_string(), " is empty");
}

// √w per pixel of a mask's weights.
std::vector<float> square_roots(std::vector<float> w) {
  for (float& v : w) v = std::sqrt(v);
  return w;
}

// out = x · √w, every sample and channel (out may be x).
void scale_pixels(Tensor& out, const Tensor& x, const std::vector<float>& r) {
  const int64_t HW = x.h() * x.w();
  const float* px = x.data();
  float* po = out.data();
  kernels::parallel_for(0, x.n() * x.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane)
      for (int64_t p = 0; p < HW; ++p) po[plane * HW + p] = px[plane * HW + p] * r[static_cast<size_t>(p)];
  });
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

// G = (F√w)(F√w)ᵀ / (C Σw) per sample.
void masked_gram_forward(Tensor& out, const Tensor& x, const Tensor& mask) {
  check_features("masked_gram", x);
  NST_CHECK(mask.defined(), "masked_gram: no mask");
  double weight = 0.0;
  const std::vector<float> r = square_roots(pixel_weights("masked_gram", x, mask, weight));
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(out.shape() == (Shape{N, C, C}), "masked_gram: out ", out.shape().to_string(),
            " must be [N, C, C] = ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  Tensor xs = Tensor::empty(x.shape());
  scale_pixels(xs, x, r);
  kernels::gram_forward(out.data(), xs.data(), N, C, HW, static_cast<float>(1.0 / (double(C) * weight)));
}

// dF (+)= (dG + dGᵀ) F / (C Σw), times w per pixel: (F√w)√w = F w, so the
// plain kernel on F itself, and no F√w is made.
void masked_gram_backward(Tensor& dx, const Tensor& dout, const Tensor& x, const Tensor& mask,
                          bool accumulate) {
  check_features("masked_gram_backward", x);
  NST_CHECK(mask.defined(), "masked_gram_backward: no mask");
  double weight = 0.0;
  const std::vector<float> w = pixel_weights("masked_gram_backward", x, mask, weight);
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(dout.shape() == (Shape{N, C, C}), "masked_gram_backward: dout ", dout.shape().to_string(),
            " must be ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  NST_CHECK(dx.shape() == x.shape(), "masked_gram_backward: dx ", dx.shape().to_string(),
            " must match x ", x.shape().to_string());
  const float norm = static_cast<float>(1.0 / (double(C) * weight));
  if (!accumulate) {
    kernels::gram_backward(dx.data(), dout.data(), x.data(), N, C, HW, norm, false);
    scale_pixels(dx, dx, w);
    return;
  }
  Tensor t = Tensor::empty(x.shape());
  kernels::gram_backward(t.data(), dout.data(), x.data(), N, C, HW, norm, false);
  float* pd = dx.data();
  const float* pt = t.data();
  kernels::parallel_for(0, N * C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane)
      for (int64_t p = 0; p < HW; ++p) pd[plane * HW + p] += pt[plane * HW + p] * w[static_cast<size_t>(p)];
  });
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

Var masked_gram(Tape& tape, const Var& x, const Tensor& mask) {
  NST_CHECK(x.defined(), "masked_gram: undefined input");
  check_features("masked_gram", x.value());
  Tensor out = Tensor::empty(Shape{x.shape()[0], x.shape()[1], x.shape()[1]});
  masked_gram_forward(out, x.value(), mask);
  return tape.record("masked_gram", out, {x}, [x = x, mask](const Tensor& dout) mutable {
    bool accumulate = false;
    Tensor& dx = x.grad_buffer(accumulate);
    masked_gram_backward(dx, dout, x.value(), mask, accumulate);
  });
}

}  // namespace nst
