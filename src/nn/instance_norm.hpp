// Instance normalisation (Ulyanov et al. 2016), as in the fast style-transfer
// networks: each (sample, channel) plane is normalised over H, W with its own
// mean and population variance, then scaled and shifted per channel:
//
//   y = scale[c] * (x - mean) / sqrt(var + eps) + shift[c]
//
//   x, out: [N, C, H, W]   scale, shift: [C]   rstd = 1 / sqrt(var + eps): [N, C]
//
// Conditional instance norm (Dumoulin et al. 2017) gives each sample its own
// scale and shift, chosen or mixed from a table of styles (nn/style_mix.hpp):
// scale and shift may then be [N, C], y[n, c] = scale[n, c] * xhat + shift[n, c].
//
// The fast path gives each plane to one task; means, variances (two passes) and
// gradient sums are taken in double, and x - mean is formed without rounding the
// mean to float first, so planes whose mean dwarfs their spread stay accurate.
// The per-channel gradients of scale and shift keep one partial per plane,
// added in sample order. Backward recomputes the plane means (one pass over x).
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

// scale, shift: [C], or [N, C] (one row per sample).
// rstd: [N, C], written (saved for backward). eps > 0. With relu, out = max(y, 0)
// (the fused instance norm + ReLU of the feed-forward networks). out may be x
// itself (in place: each plane's statistics are taken before it is written).
void instance_norm_forward(Tensor& out, Tensor& rstd, const Tensor& x, const Tensor& scale,
                           const Tensor& shift, float eps, bool relu = false);
// from `y = scale * xhat + shift`, xhat = (x - mean) * rstd, per plane of M = H*W:
//   dshift += sum dy,   dscale += sum dy * xhat,
//   dx += scale * rstd * (dy - mean(dy) - xhat * mean(dy * xhat))
// Any of dx, dscale, dshift may be undefined (skipped); they have the shapes of
// x, scale and shift ([N, C] scales get one gradient row per sample).
void instance_norm_backward(Tensor& dx, Tensor& dscale, Tensor& dshift, const Tensor& dout,
                            const Tensor& x, const Tensor& rstd, const Tensor& scale);

// Reference plane statistics: the mean and 1 / sqrt(population variance + eps),
// in two passes.
template <class T>
void instance_norm_reference_stats(const T* xp, int64_t M, T eps, T& mean, T& rstd) {
  mean = 0;
  T var = 0;
  for (int64_t i = 0; i < M; ++i) mean += xp[i];
  mean /= T(M);
  for (int64_t i = 0; i < M; ++i) var += (xp[i] - mean) * (xp[i] - mean);
  var /= T(M);
  rstd = T(1) / std::sqrt(var + eps);
}

// Reference: plain loops, two passes per plane, any scalar type. x: N*C planes of M.
// per_sample: scale and shift hold N x C values (else C).
template <class T>
void instance_norm_reference_forward(T* out, const T* x, const T* scale, const T* shift, int64_t N,
                                     int64_t C, int64_t M, T eps, bool per_sample = false) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const T* xp = x + (n * C + c) * M;
      T* yp = out + (n * C + c) * M;
      T mean, rstd;
      instance_norm_reference_stats(xp, M, eps, mean, rstd);
      const int64_t k = per_sample ? n * C + c : c;
      for (int64_t i = 0; i < M; ++i) yp[i] = scale[k] * (xp[i] - mean) * rstd + shift[k];
    }
}
// dx, dscale, dshift may be null.
template <class T>
void instance_norm_reference_backward(T* dx, T* dscale, T* dshift, const T* dout, const T* x,
                                      const T* scale, int64_t N, int64_t C, int64_t M, T eps,
                                      bool per_sample = false) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      const T* xp = x + (n * C + c) * M;
      const T* dy = dout + (n * C + c) * M;
      T mean, rstd;
      instance_norm_reference_stats(xp, M, eps, mean, rstd);
      T sum_dy = 0, sum_dy_xhat = 0;
      for (int64_t i = 0; i < M; ++i) {
        sum_dy += dy[i];
        sum_dy_xhat += dy[i] * (xp[i] - mean) * rstd;
      }
      const int64_t k = per_sample ? n * C + c : c;
      if (dshift) dshift[k] += sum_dy;
      if (dscale) dscale[k] += sum_dy_xhat;
      if (dx)
        for (int64_t i = 0; i < M; ++i) {
          const T xhat = (xp[i] - mean) * rstd;
          dx[(n * C + c) * M + i] +=
              scale[k] * rstd * (dy[i] - sum_dy / T(M) - xhat * sum_dy_xhat / T(M));
        }
    }
}

// Spatially mixed conditional instance norm, for painting regions of one photo
// in different styles in one pass (inference only: no backward, nothing on a
// tape; training mixes per sample, above):
//
//   y[c, p] = xhat[c, p] * sum_s w[s, p] scale[s, c] + sum_s w[s, p] shift[s, c]
//
//   x, out: [1, C, H, W]   scale, shift: [S, C] (or [C], one style)
//   weights: [S, H * W], each pixel's style weights (the caller normalises them)
// out may be x itself. The plane statistics are those of instance_norm_forward.
void instance_norm_spatial_forward(Tensor& out, const Tensor& x, const Tensor& scale,
                                   const Tensor& shift, const Tensor& weights, float eps,
                                   bool relu = false);
template <class T>
void instance_norm_spatial_reference_forward(T* out, const T* x, const T* scale, const T* shift,
                                             const T* weights, int64_t S, int64_t C, int64_t M,
                                             T eps, bool relu) {
  for (int64_t c = 0; c < C; ++c) {
    const T* xp = x + c * M;
    T mean, rstd;
    instance_norm_reference_stats(xp, M, eps, mean, rstd);
    for (int64_t i = 0; i < M; ++i) {
      T a = 0, b = 0;
      for (int64_t s = 0; s < S; ++s) {
        a += weights[s * M + i] * scale[s * C + c];
        b += weights[s * M + i] * shift[s * C + c];
      }
      const T y = a * (xp[i] - mean) * rstd + b;
      out[c * M + i] = relu && y < T(0) ? T(0) : y;
    }
  }
}

// With relu: relu(instance_norm(x)) as one node (one pass over each plane; the
// tape keeps the ReLU mask as bits).
Var instance_norm(Tape& tape, const Var& x, const Var& scale, const Var& shift, float eps,
                  bool relu = false);

}  // namespace nst
