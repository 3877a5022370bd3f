// The first two moments of feature maps, per channel, over the pixels (or over
// a region: pixel weights w >= 0, [1, 1, H, W], the same for every sample):
// the statistics the mean-cov and Wasserstein style losses compare (a Gram
// matrix is their uncentred mix, G = (Σ + μμᵀ)/C).
//
//   per sample: F = x[n] viewed as C x M (M = H*W), weights w (1 when none), W = Σw
//   channel_mean:  μ = F w / W                          x: [N, C, H, W] -> [N, C]
//                  dF += dμ wᵀ / W
//   covariance:    Σ = (F - μ1ᵀ) diag(w) (F - μ1ᵀ)ᵀ / W   -> [N, C, C]
//                  dF += (dΣ + dΣᵀ)(F - μ1ᵀ) diag(w) / W
//                  (μ's own dependence on F drops out: Σ_k w_k (F - μ1ᵀ)_ik = 0)
//
// The covariance runs on the Gram kernels (nn/kernels/gram.hpp) with the
// centred features as a temporary copy.
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

// mask: undefined = every pixel weighs 1.
void channel_mean_forward(Tensor& out, const Tensor& x, const Tensor& mask = Tensor());
void channel_mean_backward(Tensor& dx, const Tensor& dout, const Tensor& x, const Tensor& mask = Tensor());
void covariance_forward(Tensor& out, const Tensor& x, const Tensor& mask = Tensor());
void covariance_backward(Tensor& dx, const Tensor& dout, const Tensor& x, const Tensor& mask = Tensor());

// References: one sample, F: C x M, w: M (all ones for no mask), any scalar type.
template <class T>
void channel_mean_reference_forward(T* mu, const T* F, const T* w, int64_t C, int64_t M) {
  T W = 0;
  for (int64_t k = 0; k < M; ++k) W += w[k];
  for (int64_t i = 0; i < C; ++i) {
    T acc = 0;
    for (int64_t k = 0; k < M; ++k) acc += F[i * M + k] * w[k];
    mu[i] = acc / W;
  }
}
template <class T>
void covariance_reference_forward(T* S, const T* F, const T* w, int64_t C, int64_t M) {
  T W = 0;
  for (int64_t k = 0; k < M; ++k) W += w[k];
  std::vector<T> mu(static_cast<size_t>(C));
  channel_mean_reference_forward(mu.data(), F, w, C, M);
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = 0; j < C; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < M; ++k) acc += (F[i * M + k] - mu[size_t(i)]) * w[k] * (F[j * M + k] - mu[size_t(j)]);
      S[i * C + j] = acc / W;
    }
}
template <class T>
void covariance_reference_backward(T* dF, const T* dS, const T* F, const T* w, int64_t C, int64_t M) {
  T W = 0;
  for (int64_t k = 0; k < M; ++k) W += w[k];
  std::vector<T> mu(static_cast<size_t>(C));
  channel_mean_reference_forward(mu.data(), F, w, C, M);
  for (int64_t i = 0; i < C; ++i)
    for (int64_t k = 0; k < M; ++k) {
      T acc = 0;
      for (int64_t j = 0; j < C; ++j) acc += (dS[i * C + j] + dS[j * C + i]) * (F[j * M + k] - mu[size_t(j)]);
      dF[i * M + k] += acc * w[k] / W;
    }
}

Var channel_mean(Tape& tape, const Var& x, const Tensor& mask = Tensor());
Var covariance(Tape& tape, const Var& x, const Tensor& mask = Tensor());

}  // namespace nst
