// nst stylize --style-weights W1,W2,..: one run per style weight, each its own
// picture (OUT_w10.png, ...), record and checkpoint, then a strip of them side
// by side (OUT_strip.png). The loaded network and the style targets are shared.
#pragma once

#include <string>
#include <vector>

#include "io/atomic_write.hpp"
#include "tensor/tensor.hpp"

namespace nst::cli {

// "out.png", 100 -> "out_w100.png" (the value as %g: 0.5 -> "_w0.5").
std::string sweep_output(const std::string& output, double style_weight);
// "out.png" -> "out_strip.png"
std::string strip_output(const std::string& output);

// The arguments of one run of the sweep, as its checkpoint keeps them: the
// sweep's own without --style-weights, --style-weight, --output, --record and
// --checkpoint (any spelling), then --style-weight W --output OUT.
std::vector<std::string> single_run_args(const std::vector<std::string>& args, double style_weight,
                                         const std::string& output);

// The pictures side by side (RGB 0..255 [1, 3, H, W], one height) with a
// 4-pixel white gap, written atomically.
WrittenFile write_strip(const std::string& path, const std::vector<Tensor>& pictures);

}  // namespace nst::cli
