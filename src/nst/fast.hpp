// Feed-forward style transfer of one photo (what `nst fast` runs per image):
// resize, the network's forward pass, then the optional colour and blend
// controls of optimisation mode.
#pragma once

#include <cstdint>

#include "models/transformer.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct FastOptions {
  int64_t size = 0;              // long side of the output; 0 = the photo's own size
  bool original_colors = false;  // keep the photo's colours (luminance-only transfer)
  double blend = 0.0;            // the photo's share in the result, 0..1 (0: stylised only)
};

struct FastResult {
  Tensor image;                  // [1, 3, H, W] RGB 0..255
  double network_seconds = 0.0;  // the forward pass alone
};

// photo: [1, 3, H, W] RGB 0..255. Throws nst::Error on bad options.
FastResult fast_stylize(const Transformer& net, const Tensor& photo, const FastOptions& options);

}  // namespace nst
