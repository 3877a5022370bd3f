// Colour controls (Gatys, Bethge, Hertzmann & Shechtman 2016, "Preserving
// Color in Neural Artistic Style Transfer"). Images are [1, 3, H, W] RGB 0..255.
#pragma once

#include "tensor/tensor.hpp"

namespace nst {

// BT.601 luma/chroma on 0..255 values:
//   Y = 0.299 R + 0.587 G + 0.114 B,  U = 0.492 (B - Y),  V = 0.877 (R - Y).
Tensor rgb_to_yuv(const Tensor& rgb);
Tensor yuv_to_rgb(const Tensor& yuv);

// Luminance-only transfer: the stylised image's Y with the content's U and V
// (the content is resampled to the stylised image's size when they differ).
Tensor keep_content_colours(const Tensor& stylised, const Tensor& content);

// Colour matching of the style image to the content: an affine map of the style
// pixels x' = A (x - μ_s) + μ_c with A = L_c L_s⁻¹ (Cholesky factors of the
// 3x3 colour covariances), so the result has the content's mean and covariance.
Tensor match_colours(const Tensor& style, const Tensor& content);

}  // namespace nst
