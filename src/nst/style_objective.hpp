// The style-transfer objective (Gatys, Ecker & Bethge 2016):
//
//   f(x) = α Σ_l w_l L_content(F_l(x), F_l(c))          content layers (relu4_2)
//        + β Σ_l v_l L_style(F_l(x), A_l)               style layers (relu1_1..relu5_1)
//   (L_style by --style-loss: Gram matrices, or means and covariances, or the
//   Wasserstein distance of their Gaussians; losses.hpp)
//        + γ TV(x)
//   A_l = Σ_k b_k G(F_l(s_k)),  Σ_k b_k = 1             blended style Grams
//
// x, c and s_k live in the network's input space (for Caffe-style weights:
// BGR, 0..255, mean subtracted). α, β, γ = content, style and tv weights.
//
// With masks (nst/masks.hpp; Gatys et al. 2017, spatial control), each resized
// to every layer's resolution:
//   regions m_k: each style its own term over its region instead of the blend,
//     β Σ_l v_l Σ_k b_k a_kl L_style(F_l(x), m_k, G_l(s_k))     (losses.hpp)
//     b_k the blend weights as given (not normalised; default 1 each: a
//     region's strength), a_kl = mean(m_k) at layer l (the region's share of
//     the picture). The region Gram is normalised by the region's weight, so
//     its gradient per pixel grows as the region shrinks; a_kl undoes that:
//     each pixel feels its style as strongly as in a one-style run, and masks
//     that cover the picture once add up to one;
//   style-image masks n_k: G_l(s_k) taken over n_k's part of painting k;
//   a content mask m_c: the content terms weighted per pixel, 1 + (k - 1) m_c.
#pragma once

#include <string>
#include <vector>

#include "models/vgg19.hpp"
#include "nst/config.hpp"
#include "nst/losses.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct LossTerms {
  double total = 0, content = 0, style = 0, tv = 0;
  std::vector<double> content_layers, style_layers;  // weighted, in config order
  std::vector<double> styles;  // with regions: each style's weighted terms, in style order
};

class StyleObjective {
 public:
  StyleObjective(const Vgg19& net, const ObjectiveConfig& config);

  // P_l = F_l(content) for the content layers; with a content mask (at the
  // content's size, [1, 1, H, W]) the content terms weigh its pixels
  // mask_weight times (1 + (mask_weight - 1) m per pixel).
  void set_content(const Tensor& content, const Tensor& mask = Tensor(), double mask_weight = 1.0);
  // A_l = Σ_k b_k G(F_l(s_k)); blend empty = equal weights; normalised to sum 1.
  // image_masks: none, or one per style (an undefined one = the whole painting).
  void set_styles(const std::vector<Tensor>& styles, std::vector<double> blend,
                  const std::vector<Tensor>& image_masks = {});
  // The targets of the last set_styles, [style][layer], and setting them
  // again without the style images' forward passes (a strength sweep, whose
  // runs differ only in weights, computes them once per scale).
  const std::vector<std::vector<StyleStatistics>>& style_targets() const { return style_stats_; }
  void set_style_targets(std::vector<std::vector<StyleStatistics>> targets, std::vector<double> blend);
  // Style k applies where regions[k] is (masks at the size of the images x
  // that evaluate will see); empty: every style everywhere, blended.
  void set_regions(const std::vector<Tensor>& regions);

  // f(x); when grad is not null it receives ∇f(x) (same shape as x).
  LossTerms evaluate(const Tensor& x, Tensor* grad) const;

  const ObjectiveConfig& config() const { return config_; }

 private:
  const Vgg19& net_;
  ObjectiveConfig config_;
  Pooling pooling_;
  StyleLossKind kind_;
  std::vector<Tensor> content_targets_;
  std::vector<Tensor> content_weights_;            // per content layer (undefined: unmasked)
  std::vector<double> blend_;                      // the blend weights as given (regions' strengths)
  std::vector<std::vector<StyleStatistics>> style_stats_;  // [style][layer]
  std::vector<StyleStatistics> blended_;                  // [layer]: the styles as one
  std::vector<std::vector<Tensor>> region_masks_;  // [style][layer]
  std::vector<std::vector<double>> region_areas_;  // [style][layer]: mean of the mask
};

}  // namespace nst
