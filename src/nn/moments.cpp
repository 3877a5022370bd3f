#include "nn/moments.hpp"

#include <cmath>
#include <vector>

#include "nn/kernels/gram.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/pixel_weights.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// μ for every sample and channel, summed in double in pixel order.
std::vector<float> means(const Tensor& x, const std::vector<float>& w, double W) {
  const int64_t M = x.h() * x.w();
  std::vector<float> mu(static_cast<size_t>(x.n() * x.c()));
  const float* px = x.data();
  kernels::parallel_for(0, x.n() * x.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      double acc = 0.0;
      for (int64_t k = 0; k < M; ++k) acc += double(px[plane * M + k]) * double(w[size_t(k)]);
      mu[size_t(plane)] = float(acc / W);
    }
  });
  return mu;
}

// (F - μ1ᵀ) times `scale_w` per pixel (√w for the forward's Gram, 1 for the backward's).
Tensor centred(const Tensor& x, const std::vector<float>& mu, const std::vector<float>& scale_w) {
  const int64_t M = x.h() * x.w();
  Tensor out = Tensor::empty(x.shape());
  const float* px = x.data();
  float* po = out.data();
  kernels::parallel_for(0, x.n() * x.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane)
      for (int64_t k = 0; k < M; ++k)
        po[plane * M + k] = (px[plane * M + k] - mu[size_t(plane)]) * scale_w[size_t(k)];
  });
  return out;
}

}  // namespace

void channel_mean_forward(Tensor& out, const Tensor& x, const Tensor& mask) {
  double W = 0.0;
  const std::vector<float> w = pixel_weights("channel_mean", x, mask, W);
  NST_CHECK(out.shape() == (Shape{x.n(), x.c()}), "channel_mean: out ", out.shape().to_string(), " must be [",
            x.n(), ", ", x.c(), "]");
  const std::vector<float> mu = means(x, w, W);
  std::copy(mu.begin(), mu.end(), out.data());
}

void channel_mean_backward(Tensor& dx, const Tensor& dout, const Tensor& x, const Tensor& mask) {
  double W = 0.0;
  const std::vector<float> w = pixel_weights("channel_mean_backward", x, mask, W);
  NST_CHECK(dout.shape() == (Shape{x.n(), x.c()}) && dx.shape() == x.shape(),
            "channel_mean_backward: dout ", dout.shape().to_string(), " or dx ", dx.shape().to_string(),
            " does not match x ", x.shape().to_string());
  const int64_t M = x.h() * x.w();
  float* pd = dx.data();
  const float* pg = dout.data();
  kernels::parallel_for(0, x.n() * x.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane) {
      const float g = float(double(pg[plane]) / W);
      for (int64_t k = 0; k < M; ++k) pd[plane * M + k] += g * w[size_t(k)];
    }
  });
}

void covariance_forward(Tensor& out, const Tensor& x, const Tensor& mask) {
  double W = 0.0;
  std::vector<float> w = pixel_weights("covariance", x, mask, W);
  const int64_t N = x.n(), C = x.c(), M = x.h() * x.w();
  NST_CHECK(out.shape() == (Shape{N, C, C}), "covariance: out ", out.shape().to_string(), " must be ",
            Shape{N, C, C}.to_string());
  const std::vector<float> mu = means(x, w, W);
  for (float& v : w) v = std::sqrt(v);
  const Tensor xc = centred(x, mu, w);
  kernels::gram_forward(out.data(), xc.data(), N, C, M, static_cast<float>(1.0 / W));
}

void covariance_backward(Tensor& dx, const Tensor& dout, const Tensor& x, const Tensor& mask) {
  double W = 0.0;
  const std::vector<float> w = pixel_weights("covariance_backward", x, mask, W);
  const int64_t N = x.n(), C = x.c(), M = x.h() * x.w();
  NST_CHECK(dout.shape() == (Shape{N, C, C}) && dx.shape() == x.shape(), "covariance_backward: dout ",
            dout.shape().to_string(), " or dx ", dx.shape().to_string(), " does not match x ",
            x.shape().to_string());
  const std::vector<float> mu = means(x, w, W);
  const Tensor xc = centred(x, mu, std::vector<float>(size_t(M), 1.0f));
  Tensor t = Tensor::empty(x.shape());
  kernels::gram_backward(t.data(), dout.data(), xc.data(), N, C, M, static_cast<float>(1.0 / W), false);
  float* pd = dx.data();
  const float* pt = t.data();
  kernels::parallel_for(0, N * C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t plane = lo; plane < hi; ++plane)
      for (int64_t k = 0; k < M; ++k) pd[plane * M + k] += pt[plane * M + k] * w[size_t(k)];
  });
}

Var channel_mean(Tape& tape, const Var& x, const Tensor& mask) {
  NST_CHECK(x.defined(), "channel_mean: undefined input");
  Tensor out = Tensor::empty(Shape{x.shape()[0], x.shape()[1]});
  channel_mean_forward(out, x.value(), mask);
  return tape.record("channel_mean", out, {x}, [x = x, mask](const Tensor& dout) mutable {
    channel_mean_backward(x.grad_accumulator(), dout, x.value(), mask);
  });
}

Var covariance(Tape& tape, const Var& x, const Tensor& mask) {
  NST_CHECK(x.defined(), "covariance: undefined input");
  Tensor out = Tensor::empty(Shape{x.shape()[0], x.shape()[1], x.shape()[1]});
  covariance_forward(out, x.value(), mask);
  return tape.record("covariance", out, {x}, [x = x, mask](const Tensor& dout) mutable {
    covariance_backward(x.grad_accumulator(), dout, x.value(), mask);
  });
}

}  // namespace nst
