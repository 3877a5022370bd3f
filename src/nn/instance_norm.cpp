#include "nn/instance_norm.hpp"

#include <vector>

#include "nn/kernels/eltwise.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/reduce.hpp"
#include "nn/relu.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_inputs(const char* op, const Tensor& x, const Tensor& scale, const Tensor& rstd) {
  NST_CHECK(x.rank() == 4, op, ": x must be [N, C, H, W], got ", x.shape().to_string());
  NST_CHECK(x.h() * x.w() > 0, op, ": x ", x.shape().to_string(), " has empty planes");
  NST_CHECK(scale.shape() == Shape{x.c()} || scale.shape() == (Shape{x.n(), x.c()}), op,
            ": scale ", scale.shape().to_string(), " must be [C] = [", x.c(), "] or [N, C] = ",
            Shape{x.n(), x.c()}.to_string(), " for x ", x.shape().to_string());
  NST_CHECK(rstd.shape() == (Shape{x.n(), x.c()}), op, ": rstd ", rstd.shape().to_string(),
            " must be [N, C] = ", Shape{x.n(), x.c()}.to_string(), " for x ",
            x.shape().to_string());
}

double plane_mean(const float* xp, int64_t M) { return kernels::sum(xp, M) / double(M); }

// Where plane p = n * C + c finds its scale and shift: [C] or [N, C].
int64_t affine_index(const Tensor& scale, int64_t p, int64_t C) {
  return scale.rank() == 2 ? p : p % C;
}

// A double mean as two floats, hi + lo, so that (x - hi) - lo loses nothing near the mean.
struct SplitMean {
  float hi, lo;
};
SplitMean split(double mean) {
  const float hi = static_cast<float>(mean);
  return {hi, static_cast<float>(mean - double(hi))};
}

// The gradients of the inputs that want one, from dout.
void instance_norm_backward_into(Var& x, Var& scale, Var& shift, const Tensor& dout,
                                 const Tensor& rstd) {
  Tensor dx = x.requires_grad() ? x.grad_accumulator() : Tensor();
  Tensor dscale = scale.requires_grad() ? scale.grad_accumulator() : Tensor();
  Tensor dshift = shift.requires_grad() ? shift.grad_accumulator() : Tensor();
  instance_norm_backward(dx, dscale, dshift, dout, x.value(), rstd, scale.value());
}

}  // namespace

void instance_norm_forward(Tensor& out, Tensor& rstd, const Tensor& x, const Tensor& scale,
                           const Tensor& shift, float eps, bool relu) {
  check_inputs("instance_norm", x, scale, rstd);
  NST_CHECK(shift.shape() == scale.shape(), "instance_norm: shift ", shift.shape().to_string(),
            " must match scale ", scale.shape().to_string());
  NST_CHECK(out.shape() == x.shape(), "instance_norm: out ", out.shape().to_string(),
            " must match x ", x.shape().to_string());
  NST_CHECK(eps > 0.0f && std::isfinite(eps), "instance_norm: eps must be positive, got ", eps);
  const int64_t C = x.c(), M = x.h() * x.w();
  kernels::parallel_for(0, x.n() * C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const float* xp = x.data() + p * M;
      const double mu = plane_mean(xp, M);
      // Second pass: no cancellation between E[x^2] and E[x]^2.
      const double sq = kernels::sum_squared_deviation(xp, mu, M);
      const double r = 1.0 / std::sqrt(sq / double(M) + double(eps));
      rstd[p] = static_cast<float>(r);
      // y = (x - mean) * (scale * rstd) + shift
      const SplitMean m = split(mu);
      const int64_t k = affine_index(scale, p, C);
      kernels::normalize(out.data() + p * M, xp, m.hi, m.lo, static_cast<float>(scale[k] * r),
                         shift[k], relu, M);
    }
  });
}

void instance_norm_backward(Tensor& dx, Tensor& dscale, Tensor& dshift, const Tensor& dout,
                            const Tensor& x, const Tensor& rstd, const Tensor& scale) {
  const char* op = "instance_norm_backward";
  check_inputs(op, x, scale, rstd);
  NST_CHECK(dout.shape() == x.shape(), op, ": dout ", dout.shape().to_string(), " must match x ",
            x.shape().to_string());
  NST_CHECK(!dx.defined() || dx.shape() == x.shape(), op, ": dx ", dx.shape().to_string(),
            " must match x ", x.shape().to_string());
  NST_CHECK(!dscale.defined() || dscale.shape() == scale.shape(), op, ": dscale ",
            dscale.shape().to_string(), " must match scale ", scale.shape().to_string());
  NST_CHECK(!dshift.defined() || dshift.shape() == scale.shape(), op, ": dshift ",
            dshift.shape().to_string(), " must match scale ", scale.shape().to_string());
  const int64_t N = x.n(), C = x.c(), M = x.h() * x.w();
  // Per plane: sum dy and sum dy * xhat, kept for dshift / dscale.
  std::vector<double> sum_dy(static_cast<size_t>(N * C)), sum_dy_xhat(static_cast<size_t>(N * C));
  kernels::parallel_for(0, N * C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const float* xp = x.data() + p * M;
      const float* dy = dout.data() + p * M;
      const double mu = plane_mean(xp, M), r = rstd[p];
      const double s1 = kernels::sum(dy, M);
      const double s2 = kernels::sum_weighted_deviation(dy, xp, mu, M) * r;
      sum_dy[static_cast<size_t>(p)] = s1;
      sum_dy_xhat[static_cast<size_t>(p)] = s2;
      if (!dx.defined()) continue;
      // dx += scale * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)), as
      // dx += k * dy + c * (x - mean) + b with k = scale * rstd, c = -k * rstd * mean(dy * xhat),
      // b = -k * mean(dy)
      const double k = scale[affine_index(scale, p, C)] * r;
      const SplitMean m = split(mu);
      kernels::normalize_backward(dx.data() + p * M, dy, xp, m.hi, m.lo, static_cast<float>(k),
                                  static_cast<float>(-k * r * s2 / double(M)),
                                  static_cast<float>(-k * s1 / double(M)), M);
    }
  });
  if (scale.rank() == 2) {  // one row per sample: each plane's sums are its own
    for (int64_t p = 0; p < N * C; ++p) {
      if (dscale.defined()) dscale[p] += static_cast<float>(sum_dy_xhat[static_cast<size_t>(p)]);
      if (dshift.defined()) dshift[p] += static_cast<float>(sum_dy[static_cast<size_t>(p)]);
    }
    return;
  }
  for (int64_t c = 0; c < C; ++c) {
    double ds = 0.0, dt = 0.0;
    for (int64_t n = 0; n < N; ++n) {
      ds += sum_dy_xhat[static_cast<size_t>(n * C + c)];
      dt += sum_dy[static_cast<size_t>(n * C + c)];
    }
    if (dscale.defined()) dscale[c] += static_cast<float>(ds);
    if (dshift.defined()) dshift[c] += static_cast<float>(dt);
  }
}

void instance_norm_spatial_forward(Tensor& out, const Tensor& x, const Tensor& scale,
                                   const Tensor& shift, const Tensor& weights, float eps,
                                   bool relu) {
  const char* op = "instance_norm_spatial";
  NST_CHECK(x.rank() == 4 && x.n() == 1 && x.h() * x.w() > 0, op,
            ": x must be one non-empty image [1, C, H, W], got ", x.shape().to_string());
  const int64_t C = x.c(), M = x.h() * x.w();
  const int64_t S = scale.rank() == 2 ? scale.dim(0) : 1;
  NST_CHECK((scale.rank() == 2 && scale.dim(1) == C) || scale.shape() == Shape{C}, op, ": scale ",
            scale.shape().to_string(), " must be [S, C] or [C] with C = ", C);
  NST_CHECK(shift.shape() == scale.shape(), op, ": shift ", shift.shape().to_string(),
            " must match scale ", scale.shape().to_string());
  NST_CHECK(weights.shape() == (Shape{S, M}), op, ": weights ", weights.shape().to_string(),
            " must be [S, H * W] = ", Shape{S, M}.to_string());
  NST_CHECK(out.shape() == x.shape(), op, ": out ", out.shape().to_string(), " must match x ",
            x.shape().to_string());
  NST_CHECK(eps > 0.0f && std::isfinite(eps), op, ": eps must be positive, got ", eps);
  kernels::parallel_for(0, C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      const float* xp = x.data() + c * M;
      const double mu = plane_mean(xp, M);
      const double r = 1.0 / std::sqrt(kernels::sum_squared_deviation(xp, mu, M) / double(M) +
                                       double(eps));
      float* yp = out.data() + c * M;
      for (int64_t i = 0; i < M; ++i) {
        double a = 0.0, b = 0.0;
        for (int64_t k = 0; k < S; ++k) {
          a += double(weights[k * M + i]) * double(scale[k * C + c]);
          b += double(weights[k * M + i]) * double(shift[k * C + c]);
        }
        const float y = static_cast<float>(a * ((double(xp[i]) - mu) * r) + b);
        yp[i] = relu && y < 0.0f ? 0.0f : y;
      }
    }
  });
}

Var instance_norm(Tape& tape, const Var& x, const Var& scale, const Var& shift, float eps,
                  bool relu) {
  NST_CHECK(x.defined() && scale.defined() && shift.defined(), "instance_norm: undefined input");
  NST_CHECK(x.shape().rank() == 4, "instance_norm: x must be [N, C, H, W], got ",
            x.shape().to_string());
  Tensor out = Tensor::empty(x.shape());
  Tensor rstd = Tensor::empty(Shape{x.shape()[0], x.shape()[1]});
  instance_norm_forward(out, rstd, x.value(), scale.value(), shift.value(), eps, relu);
  if (!relu)
    return tape.record("instance_norm", out, {x, scale, shift},
                       [x = x, scale = scale, shift = shift, rstd](const Tensor& dout) mutable {
                         instance_norm_backward_into(x, scale, shift, dout, rstd);
                       });
  // y = relu(z), z = instance_norm(x): dz = dy where y > 0 (the output's sign
  // is the mask, kept as bits), then the instance norm's backward.
  const bool recorded = x.requires_grad() || scale.requires_grad() || shift.requires_grad();
  return tape.record("instance_norm_relu", out, {x, scale, shift},
                     [x = x, scale = scale, shift = shift, rstd,
                      mask = recorded ? ReluMask(out) : ReluMask()](const Tensor& dout) mutable {
                       Tensor dz = dout;  // the tape lets a backward overwrite its dout
                       mask.apply(dz);
                       instance_norm_backward_into(x, scale, shift, dz, rstd);
                     });
}

}  // namespace nst
