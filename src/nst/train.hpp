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
  // scream network's paintings (relu4_2 / relu2_2 ≈ 6.5-7): docs/training.md.
  double content_weight = 1.0;
  double style_weight = 2.0;
  double tv_weight = 4.0;
};

struct TrainTerms {
  double loss = 0, content = 0, style = 0, tv = 0;  // content, style, tv unweighted
};

class PerceptualLoss {
 public:
  // style: the painting, RGB 0..255 [1, 3, H, W], at the size its Grams are taken.
  PerceptualLoss(const Vgg19& vgg, PerceptualWeights weights, const Tensor& style);
  // The loss of the pictures y ([N, 3, H, W], RGB 0..255, on the tape) painted
  // from the photos ([N, 3, H, W], RGB 0..255); terms receives the values.
  Var evaluate(Tape& tape, const Var& y, const Tensor& photos, TrainTerms& terms) const;
  const PerceptualWeights& weights() const { return weights_; }

 private:
  const Vgg19& vgg_;
  PerceptualWeights weights_;
  std::vector<std::string> all_layers_;
  std::vector<Tensor> style_grams_;  // A_l: [1, C, C] per style layer
};

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

// One training step: y = T(photos), the loss, its gradient for every weight,
// one Adam update of the network. Returns the loss terms at the old weights.
// A non-finite loss or gradient throws nst::Error and leaves the weights as they were.
TrainTerms train_step(Transformer& net, NetworkAdam& adam, const PerceptualLoss& loss,
                      const Tensor& photos);

}  // namespace nst
