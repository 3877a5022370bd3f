// Masks for region-specific styling (Gatys et al. 2017, "Controlling
// perceptual factors in neural style transfer", spatial control): where each
// style applies, which part of a painting a style comes from, and where the
// content must stay close to the photo. The files are named in MaskConfig
// (nst/config.hpp); the objective (nst/style_objective.hpp) resizes the loaded
// masks to every layer's resolution.
#pragma once

#include <string>
#include <vector>

#include "nst/config.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct Masks {
  std::vector<Tensor> style;        // one per style, or none
  std::vector<Tensor> style_image;  // one per style, or none
  Tensor content;                   // undefined: no content mask
  double content_weight = 30.0;
};

// An RGB image [1, 3, H, W] (0..255) as a grey mask [1, 1, H, W] in 0..1.
Tensor grey_mask(const Tensor& rgb);

// A grey mask [1, 1, H, W] in 0..1 (the mean of R, G and B over 255). Errors
// start with `what` (the option: "nst stylize: --style-mask 2") and name the
// file: unreadable or not an image (load_image's messages), or black everywhere.
Tensor load_mask(const std::string& path, const std::string& what);

// Every mask of `config`, checked before any work: one style mask and one
// style-image mask per style when given at all, each readable and not all
// black. `prog` starts the messages.
Masks load_masks(const MaskConfig& config, size_t styles, const std::string& prog);

// A mask resized (antialiased, as images are) to h x w, its values kept in 0..1.
Tensor resize_mask(const Tensor& mask, int64_t h, int64_t w);

// The masks at a picture of h x w: the style and content masks resized to it
// (the style-image masks stay: they follow each painting's own size).
Masks masks_at(const Masks& masks, int64_t h, int64_t w);

}  // namespace nst
