// Gram matrix of feature maps (Gatys et al. 2016, eq. 3), normalised by the
// number of feature values:
//
//   per sample: F = x[n] viewed as C x (H*W),   G = F Fᵀ / (C*H*W)
//
//   x: [N, C, H, W]  ->  out: [N, C, C]
//
// gram_forward / gram_backward check the shapes and call the kernel layer
// (nn/kernels/gram.hpp: the upper triangle in SIMD blocks over fixed spans of
// H*W, threaded; the backward one gemm per sample). The reference below is
// what the tests hold them to.
#pragma once

#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

void gram_forward(Tensor& out, const Tensor& x);
// from `G = F Fᵀ / (C*H*W)`:  dF += (dG + dGᵀ) F / (C*H*W)
// (accumulate = false: dF = ..., dx's old contents are not read)
void gram_backward(Tensor& dx, const Tensor& dout, const Tensor& x, bool accumulate = true);

// Reference: plain loops over one sample, F: C x HW, G: C x C, any scalar type.
template <class T>
void gram_reference_forward(T* G, const T* F, int64_t C, int64_t HW) {
  const T norm = T(C * HW);
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = 0; j < C; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < HW; ++k) acc += F[i * HW + k] * F[j * HW + k];
      G[i * C + j] = acc / norm;
    }
}
template <class T>
void gram_reference_backward(T* dF, const T* dG, const T* F, int64_t C, int64_t HW) {
  const T norm = T(C * HW);
  for (int64_t i = 0; i < C; ++i)
    for (int64_t k = 0; k < HW; ++k) {
      T acc = 0;
      for (int64_t j = 0; j < C; ++j) acc += (dG[i * C + j] + dG[j * C + i]) * F[j * HW + k];
      dF[i * HW + k] += acc / norm;
    }
}

Var gram(Tape& tape, const Var& x);

// The masked Gram matrix (Gatys et al. 2017, "Controlling perceptual factors":
// spatial control): each pixel weighted by a mask w >= 0 ([1, 1, H, W], the
// same for every sample), normalised by the region's weight instead of the
// pixel count, so a region's Gram compares with a whole painting's:
//
//   G = F diag(w) Fᵀ / (C * Σw)                  (w = 1 everywhere: gram)
//   dF += (dG + dGᵀ) F diag(w) / (C * Σw)
//
// Computed by the Gram kernels: the forward on F√w (F diag(w) Fᵀ = (F√w)(F√w)ᵀ,
// a temporary copy), the backward on F itself, its rows then times w (no copy
// kept between them: at relu1_1 of a 1024 px image one is 200 MB). A mask of negative, non-finite or only zero values is
// an error.
void masked_gram_forward(Tensor& out, const Tensor& x, const Tensor& mask);
void masked_gram_backward(Tensor& dx, const Tensor& dout, const Tensor& x, const Tensor& mask,
                          bool accumulate = true);

template <class T>
void masked_gram_reference_forward(T* G, const T* F, const T* w, int64_t C, int64_t HW) {
  T weight = 0;
  for (int64_t k = 0; k < HW; ++k) weight += w[k];
  const T norm = T(C) * weight;
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = 0; j < C; ++j) {
      T acc = 0;
      for (int64_t k = 0; k < HW; ++k) acc += F[i * HW + k] * w[k] * F[j * HW + k];
      G[i * C + j] = acc / norm;
    }
}
template <class T>
void masked_gram_reference_backward(T* dF, const T* dG, const T* F, const T* w, int64_t C, int64_t HW) {
  T weight = 0;
  for (int64_t k = 0; k < HW; ++k) weight += w[k];
  const T norm = T(C) * weight;
  for (int64_t i = 0; i < C; ++i)
    for (int64_t k = 0; k < HW; ++k) {
      T acc = 0;
      for (int64_t j = 0; j < C; ++j) acc += (dG[i * C + j] + dG[j * C + i]) * F[j * HW + k];
      dF[i * HW + k] += acc * w[k] / norm;
    }
}

Var masked_gram(Tape& tape, const Var& x, const Tensor& mask);

}  // namespace nst
