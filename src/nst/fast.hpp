// Feed-forward style transfer of one photo (what `nst fast` runs per image):
// resize, the network's forward pass, then the optional colour and blend
// controls of optimisation mode.
#pragma once

#include <cstdint>
#include <vector>

#include "models/transformer.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct FastOptions {
  int64_t size = 0;              // long side of the output; 0 = the photo's own size
  bool original_colors = false;  // keep the photo's colours (luminance-only transfer)
  double blend = 0.0;            // the photo's share in the result, 0..1 (0: stylised only)
  int64_t max_memory_bytes = 0;  // refuse photos whose estimated peak is larger (0: no limit)
  // Mirror the photo by this many pixels on every side (at most its short side
  // - 1) before the network and cut the result back: the networks' zero-padded
  // convolutions see the picture's edges and paint a frame there (and one trained
  // net a blot at a fixed distance from a corner); the mirrored margin takes it.
  int64_t pad = 0;
  // A multi-style network's style: one weight per style (a one-hot row picks
  // one, others mix their norm parameters); empty: style 0.
  std::vector<double> style;
  // Or styles by region: [S, 1, h, w] grey masks (0..1), one per style, of
  // any size (resized to the photo's working size); see Transformer::forward.
  Tensor regions;
};

struct FastResult {
  Tensor image;                  // [1, 3, H, W] RGB 0..255
  double network_seconds = 0.0;  // the forward pass alone
};

// photo: [1, 3, H, W] RGB 0..255. Throws nst::Error on bad options, and, before
// anything large is allocated, when the network's estimated peak memory at the
// working size exceeds max_memory_bytes (with the --size that would fit).
FastResult fast_stylize(const Transformer& net, const Tensor& photo, const FastOptions& options);

}  // namespace nst
