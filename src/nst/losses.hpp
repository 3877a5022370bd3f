// The three terms of the Gatys et al. objective, one named function each.
// Gradients come from the ops they are made of (src/nn: mse, gram,
// total_variation), each of which has its backward beside its forward; the
// formulas and their gradients are written out in docs/algorithm.md.
//
// F is a layer's activations as a C x HW matrix (one image).
#pragma once

#include <string>
#include <vector>

#include "nn/wasserstein.hpp"
#include "tensor/autograd.hpp"

namespace nst {

// L_content(F, P) = mean((F - P)²) = 1/(C·H·W) Σ (F_ij - P_ij)²
// dL/dF = 2 (F - P) / (C·H·W)
Var content_loss(Tape& tape, const Var& features, const Tensor& target);

// G(F) = F Fᵀ / (C·H·W)                          (C x C)
// L_style(F, A) = mean((G - A)²) = 1/C² Σ (G_ij - A_ij)²
// dL/dG = 2 (G - A) / C²;  dL/dF = (dL/dG + dL/dGᵀ) F / (C·H·W)
Var style_loss(Tape& tape, const Var& features, const Tensor& target_gram);

// The Gram matrix of a target (no gradient): [1, C, H, W] -> [1, C, C].
Tensor gram_matrix(const Tensor& features);

// Spatial control (Gatys et al. 2017): m is a region's mask at the layer's
// resolution ([1, 1, H, W], 0..1).
// Gm(F) = F diag(m) Fᵀ / (C·Σm)                  the region's Gram (masked_gram)
// L_style(F, m, A) = mean((Gm(F) - A)²)
// dL/dGm = 2 (Gm - A) / C²;  dL/dF = (dL/dGm + dL/dGmᵀ) F diag(m) / (C·Σm)
Var masked_style_loss(Tape& tape, const Var& features, const Tensor& mask, const Tensor& target_gram);

// The Gram matrix of a target over a region (no gradient).
Tensor masked_gram_matrix(const Tensor& features, const Tensor& mask);

// The content loss weighted per pixel, w = 1 + (k - 1)·m for a content mask m
// and a mask weight k (content_mask_weights):
// L_content(F, P, w) = 1/(C·H·W) Σ w_j (F_ij - P_ij)²
// dL/dF = 2 w (F - P) / (C·H·W)
Var masked_content_loss(Tape& tape, const Var& features, const Tensor& target, const Tensor& weights);
Tensor content_mask_weights(const Tensor& mask, double mask_weight);

// ---- the style statistic: --style-loss gram | mean-cov | w2 -----------------
// Per layer, F: C x M, over a region when a mask is given (nn/moments.hpp):
// μ = channel mean, Σ = covariance; G = (Σ + μμᵀ)/C is the Gram matrix.
//   gram:      L = mean((G - Gs)²)                             (style_loss)
//   mean-cov:  L = mean((μ - μs)²) + mean(((Σ - Σs)/C)²)
//              the Gram's two parts matched apart (the covariance term is the
//              Gram loss for centred features)
//   w2:        L = (||μ - μs||² + tr Σ + tr Σs - 2 tr((S Σ Sᵀ)^½)) / C, SᵀS = Σs
//              the squared 2-Wasserstein distance between the Gaussian fits
//              N(μ, Σ) and N(μs, Σs) per channel (nn/wasserstein.hpp: the
//              trace of the root as the nuclear norm of S Fc, by a polar
//              iteration on the features, no inverse root)
// Gradients through the ops: mse, channel_mean, covariance, w2_covariance_term.
enum class StyleLossKind { gram, mean_cov, w2 };
StyleLossKind parse_style_loss(const std::string& name);  // "gram" | "mean-cov" | "w2"

// The painting's side of one layer (as the kind needs: gram, or mean and cov).
struct StyleStatistics {
  Tensor gram;       // [1, C, C]
  Tensor mean, cov;  // [1, C], [1, C, C]
  W2Target w2;       // w2 only
};
// Of features [1, C, H, W]; mask undefined = every pixel.
StyleStatistics style_statistics(const Tensor& features, const Tensor& mask, StyleLossKind kind);
// Several paintings as one: the statistics of their pooled features, weights
// summing to 1 (Grams and means average; covariances add the spread of the
// means: Σ = Σ_k b_k (Σ_k + μ_k μ_kᵀ) - μμᵀ).
StyleStatistics blend_statistics(const std::vector<StyleStatistics>& styles, const std::vector<double>& weights,
                                 StyleLossKind kind);

Var mean_cov_style_loss(Tape& tape, const Var& features, const Tensor& mask, const StyleStatistics& target);
Var w2_style_loss(Tape& tape, const Var& features, const Tensor& mask, const StyleStatistics& target);
// The kind's loss of one layer; mask undefined = the whole picture.
Var style_term(Tape& tape, const Var& features, const Tensor& mask, const StyleStatistics& target,
               StyleLossKind kind);

// TV(x) = Σ (x[h, w+1] - x[h, w])² + Σ (x[h+1, w] - x[h, w])²
Var tv_loss(Tape& tape, const Var& image);

}  // namespace nst
