// The style-transfer objective (Gatys, Ecker & Bethge 2016):
//
//   f(x) = α Σ_l w_l L_content(F_l(x), F_l(c))          content layers (relu4_2)
//        + β Σ_l v_l L_style(F_l(x), A_l)               style layers (relu1_1..relu5_1)
//        + γ TV(x)
//   A_l = Σ_k b_k G(F_l(s_k)),  Σ_k b_k = 1             blended style Grams
//
// x, c and s_k live in the network's input space (for Caffe-style weights:
// BGR, 0..255, mean subtracted). α, β, γ = content, style and tv weights.
#pragma once

#include <string>
#include <vector>

#include "models/vgg19.hpp"
#include "nst/config.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct LossTerms {
  double total = 0, content = 0, style = 0, tv = 0;
  std::vector<double> content_layers, style_layers;  // weighted, in config order
};

class StyleObjective {
 public:
  StyleObjective(const Vgg19& net, const ObjectiveConfig& config);

  // P_l = F_l(content) for the content layers.
  void set_content(const Tensor& content);
  // A_l = Σ_k b_k G(F_l(s_k)); blend empty = equal weights; normalised to sum 1.
  void set_styles(const std::vector<Tensor>& styles, std::vector<double> blend);

  // f(x); when grad is not null it receives ∇f(x) (same shape as x).
  LossTerms evaluate(const Tensor& x, Tensor* grad) const;

  const ObjectiveConfig& config() const { return config_; }

 private:
  const Vgg19& net_;
  ObjectiveConfig config_;
  Pooling pooling_;
  std::vector<Tensor> content_targets_, style_targets_;
};

}  // namespace nst
