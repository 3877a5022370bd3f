// The three terms of the Gatys et al. objective, one named function each.
// Gradients come from the ops they are made of (src/nn: mse, gram,
// total_variation), each of which has its backward beside its forward; the
// formulas and their gradients are written out in docs/algorithm.md.
//
// F is a layer's activations as a C x HW matrix (one image).
#pragma once

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

// TV(x) = Σ (x[h, w+1] - x[h, w])² + Σ (x[h+1, w] - x[h, w])²
Var tv_loss(Tape& tape, const Var& image);

}  // namespace nst
