// Training a feed-forward style network (Johnson, Alahi & Fei-Fei 2016,
// "Perceptual losses for real-time style transfer and super-resolution"): the
// transformer T paints a batch of photos x in one pass, y = T(x), and is
// trained with Adam to minimise the perceptual loss measured by the frozen
// VGG-19 F:
//
//   L(y, x) = α L_content + β L_style + γ L_tv
//   L_content = Σ_l mean((F_l(y) - F_l(x))²)                 content layers (relu2_2)
//   L_style   = Σ_l mean_n mean((G(F_l(y_n)) - A_l)²)         style layers (relu1_1..relu4_1)
//   L_tv      = (Σ (y[h, w+1] - y[h, w])² + Σ (y[h+1, w] - y[h, w])²) / (N·3·H·W)
//
// G is the Gram matrix normalised by C·H·W (nn/gram.hpp) and A_l the Gram of
// the style painting. y is the network's output in RGB 0..255 before the clip.
// Each term is one op chain with its backward beside its forward (nst/losses.hpp,
// nn/*); docs/training.md writes out the recipe and its defaults.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "models/transformer.hpp"
#include "models/vgg19.hpp"
#include "optim/adam.hpp"

namespace nst {

struct PerceptualWeights {
  std::vector<std::string> content_layers = {"relu2_2"};
  std::vector<std::string> style_layers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1"};
  // Engstrom's fast-style-transfer defaults (content 7.5 at relu4_2, style
  // 100, tv 200, same normalisations) scaled by 1/50, with the content weight
  // moved to relu2_2 in proportion to the two layers' losses on the published
  // scream network's paintings (relu4_2 / relu2_2 ≈ 6.5-7), which gives 1; then
  // doubled, as measured over an hour against the published scream network
  // (content 1.10x -> 0.87x its loss, style 0.82x -> 1.24x): docs/training.md.
  double content_weight = 2.0;
  double style_weight = 2.0;
  double tv_weight = 4.0;
};

struct TrainTerms {
  double loss = 0, content = 0, style = 0, tv = 0;  // content, style, tv unweighted
  // A multi-style batch: each painting's style term over its own samples
  // (unweighted, as `style`; 0 for a painting no sample of the batch had).
  std::vector<double> style_by_painting;
};

// Several paintings (a multi-style network, Dumoulin et al. 2017): sample n of
// a batch is painted in style s_n, and its style term compares its Grams with
// painting s_n's, L_style = Σ_l mean_n mean((G(F_l(y_n)) - A_l^{s_n})²).
class PerceptualLoss {
 public:
  // styles: the paintings, RGB 0..255 [1, 3, H, W] each, at the size their Grams are taken.
  PerceptualLoss(const Vgg19& vgg, PerceptualWeights weights, const Tensor& style);
  PerceptualLoss(const Vgg19& vgg, PerceptualWeights weights, const std::vector<Tensor>& styles);
  // The loss of the pictures y ([N, 3, H, W], RGB 0..255, on the tape) painted
  // from the photos ([N, 3, H, W], RGB 0..255), sample n in painting
  // sample_styles[n]'s style (empty: painting 0 for all); terms receives the values.
  Var evaluate(Tape& tape, const Var& y, const Tensor& photos, TrainTerms& terms,
               const std::vector<int64_t>& sample_styles = {}) const;
  const PerceptualWeights& weights() const { return weights_; }
  int64_t paintings() const { return int64_t(style_grams_.size()); }

 private:
  const Vgg19& vgg_;
  PerceptualWeights weights_;
  std::vector<std::string> all_layers_;
  std::vector<std::vector<Tensor>> style_grams_;  // [painting][style layer]: A_l, [1, C, C]
};

// The paintings of the samples of training step `step` (0-based) with a batch
// of n and S paintings: round robin over the samples of all steps, so every
// painting gets the same share and a resumed run pairs them as the first did.
std::vector<int64_t> round_robin_styles(int64_t step, int64_t n, int64_t S);

// A fresh network of `spec`: convolution weights uniform in ±1/√(fan in)
// (fan in = the weight's second dimension · k²: PyTorch's default bound), biases
// 0, norm scales 1 and shifts 0; the draws come from splitmix64(seed, ...), so
// one seed gives one network on every machine.
Transformer init_transformer(const TransformerSpec& spec, uint64_t seed);

// Adam (optim/adam.hpp) over every tensor of a network, in name order.
struct NetworkAdam {
  NetworkAdam(const Transformer& net, const AdamOptions& options);
  AdamOptions options;
  int64_t t = 0;                        // steps taken
  std::vector<std::vector<float>> m, v;  // per tensor, in params() order
  // Binary, versioned, checksummed (optim/state_io.hpp); load refuses another network.
  void save_state(std::ostream& out) const;
  void load_state(std::istream& in);
};

// What a step trains. Extending a trained network by a style (`nst train
// --extend`) trains only the norm tables, the convolutions frozen, with the
// loss's paintings standing for the network's styles first_style onwards.
struct TrainScope {
  int64_t first_style = 0;  // the loss's painting k is the network's style first_style + k
  bool norms_only = false;  // only the *.norm.* tensors get gradients and updates
};

// One training step: y = T(photos), the loss, its gradient for every weight,
// one Adam update of the network. Returns the loss terms at the old weights.
// A non-finite loss or gradient throws nst::Error and leaves the weights as they were.
// sample_styles: each sample's style (a multi-style network paints sample n
// in style sample_styles[n], and the loss takes that painting's Grams); empty:
// style first_style for all. The loss's paintings must be the network's styles
// first_style.. (all of them unless norms_only).
TrainTerms train_step(Transformer& net, NetworkAdam& adam, const PerceptualLoss& loss,
                      const Tensor& photos, const std::vector<int64_t>& sample_styles = {},
                      const TrainScope& scope = {});

// `wanted` (cut to 60 bytes; "style" if empty), or with _2, _3, ... appended
// until no name in `taken` is the same.
std::string unique_style_name(const std::vector<std::string>& taken, const std::string& wanted);

// A network with one more style, `name` (made unique): every norm table gets a row, the mean
// of its rows so far (a start between the styles it knows); the rest is shared.
Transformer add_style(const Transformer& net, const std::string& name);

}  // namespace nst
