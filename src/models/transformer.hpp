// A feed-forward style network (Johnson, Alahi & Fei-Fei 2016, "Perceptual
// losses for real-time style transfer"): convolutions, instance norms, residual
// blocks and transposed convolutions, as its TransformerSpec describes, built
// from the src/nn ops (each with its backward), so the same forward serves
// inference (constant weights: nothing is recorded, every activation goes as
// soon as the next layer has read it) and training (weights as tape variables).
//
//   Transformer net = Transformer::load("build/models/la_muse.nstw");
//   Tensor painted = net.stylize(photo);   // [1, 3, H, W] RGB 0..255 in and out
//
// Shapes: a stride-2 layer gives ceil(H / 2) rows and a transposed one 2H, so
// the network's raw output is H rounded up to the product of the strides; the
// output is cropped back to the input's H x W (the extra rows at the bottom /
// right). Any H, W >= 1 works (a 1 x 1 photo gives one pixel).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/weights.hpp"
#include "models/transformer_spec.hpp"
#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

class RegionWeights;  // per-pixel style weights at each layer's size (transformer.cpp)

class Transformer {
 public:
  // Reads and validates a model file: the network description and every
  // tensor it names, with its shape (nst::Error names the file and the tensor).
  static Transformer load(const std::string& path);
  // A network from a spec and its tensors (all of transformer_param_shapes(spec),
  // float32); `where` names the source in errors.
  Transformer(TransformerSpec spec, std::map<std::string, Tensor> params,
              io::InputConvention input = rgb255(), std::string where = "network");

  const TransformerSpec& spec() const { return spec_; }
  const io::InputConvention& input_convention() const { return input_; }
  const std::map<std::string, Tensor>& params() const { return params_; }
  std::map<std::string, Tensor>& params() { return params_; }

  // The tensors as tape leaves: variables (trainable) or constants.
  std::map<std::string, Var> bind(Tape& tape, bool trainable) const;

  // x: [N, 3, H, W] RGB pixels 0..255. Returns the output transform's values
  // (before the clip to [min, max]) at the network's own size (see above).
  // style: [N, S] weights of the S styles per sample (conditional instance
  // norm mixes each norm's scale and shift rows with them); undefined: style 0.
  // regions (inference only, instead of style): [S, 1, H, W] masks at the
  // photo's size, one per style; each norm layer resizes them to its own size
  // and paints pixel p with the styles' norm rows mixed in the proportions
  // m_s(p) / sum_s m_s(p) (equal shares where all masks are 0).
  Var forward(Tape& tape, const std::map<std::string, Var>& params, Var x,
              const Var& style = Var(), const Tensor& regions = Tensor()) const;

  // Inference on one photo [1, 3, H, W] (RGB 0..255) -> [1, 3, H, W] clipped to
  // the output range. Norms run in place on the convolution outputs. style:
  // [1, S] (style_mix / style_one_hot), or undefined for style 0; regions: as
  // for forward (then no style).
  Tensor stylize(const Tensor& rgb, const Tensor& style = Tensor(),
                 const Tensor& regions = Tensor()) const;

  // Styles: how many, their names ("style 0" ... for a file without names).
  int64_t style_count() const { return spec_.style_count(); }
  std::vector<std::string> style_names() const;
  // [n, S] weights: style k alone, or the given mix (one weight per style, any
  // values: they need not sum to 1). Clear errors for a bad index or count.
  Tensor style_one_hot(int64_t k, int64_t n = 1) const;
  Tensor style_mix(const std::vector<double>& weights, int64_t n = 1) const;

  // Peak bytes of stylize() on an H x W photo, estimated from the layer sizes:
  // the photo, the widest pair of consecutive activations (a residual block
  // holds three), the raw and cropped outputs, the weights, 40 MB of process
  // and scratch. Measured against the RSS in docs/performance.md.
  int64_t inference_peak_bytes(int64_t H, int64_t W) const;

  // Writes spec + tensors as an .nstw file (atomically); returns its size and checksum.
  WrittenFile save(const std::string& path, const std::string& source,
            const std::string& source_checksum) const;

  // RGB, pixels 0..255, no mean or std: what the published networks take.
  static io::InputConvention rgb255();

 private:
  Var layer(Tape& tape, const std::map<std::string, Var>& params, const LayerSpec& L, Var h,
            const Var& style, RegionWeights* regions) const;
  Var input(Tape& tape, Var x) const;

  TransformerSpec spec_;
  std::map<std::string, Tensor> params_;
  io::InputConvention input_;
};

}  // namespace nst
