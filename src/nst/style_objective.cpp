#include "nst/style_objective.hpp"

#include <algorithm>
#include <cmath>

#include "nn/elementwise.hpp"
#include "nst/losses.hpp"
#include "nst/masks.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

std::vector<double> layer_weights(const std::vector<double>& given, size_t n) {
  return given.empty() ? std::vector<double>(n, 1.0) : given;
}

// A mask of an h x w image at the resolution of `layer`.
Tensor mask_at_layer(const Tensor& mask, const std::string& layer) {
  int64_t h = 0, w = 0;
  Vgg19::activation_size(layer, mask.dim(2), mask.dim(3), h, w);
  return resize_mask(mask, std::max<int64_t>(h, 1), std::max<int64_t>(w, 1));
}

}  // namespace

StyleObjective::StyleObjective(const Vgg19& net, const ObjectiveConfig& config)
    : net_(net), config_(config), pooling_(parse_pooling(config.pooling)), kind_(parse_style_loss(config.style_loss)) {
  NST_CHECK(!config_.content_layers.empty() || !config_.style_layers.empty(),
            "objective: no content and no style layers");
  for (const auto* list : {&config_.content_layers, &config_.style_layers})
    for (const std::string& l : *list)
      NST_CHECK(Vgg19::is_activation(l), "objective: unknown layer '", l,
                "' (use names like relu4_2, conv3_1, pool2)");
  config_.content_layer_weights = layer_weights(config_.content_layer_weights, config_.content_layers.size());
  config_.style_layer_weights = layer_weights(config_.style_layer_weights, config_.style_layers.size());
}

void StyleObjective::set_content(const Tensor& content, const Tensor& mask, double mask_weight) {
  // A new content (a new scale): the idle buffers of the last size's
  // evaluations would sit beside this forward pass and raise the peak (a
  // 362 px scale's cost 85 MB under the 384 px content pass). Free them first.
  BufferPool::global().release_cached();
  Tape tape;
  auto feats = net_.forward(tape, tape.constant(content), config_.content_layers, pooling_);
  content_targets_.clear();
  content_weights_.clear();
  for (const std::string& l : config_.content_layers) {
    content_targets_.push_back(feats.at(l).value());
    if (mask.defined()) {
      NST_CHECK(mask.dim(2) == content.dim(2) && mask.dim(3) == content.dim(3), "objective: content mask ",
                mask.shape().to_string(), " is not the content's size ", content.shape().to_string());
      content_weights_.push_back(content_mask_weights(mask_at_layer(mask, l), mask_weight));
    }
  }
  feats.clear();
  tape.clear();
  // The content's activations are another size than the image's will be at
  // other scales: give their cached buffers back to the system.
  BufferPool::global().release_cached();
}

void StyleObjective::set_styles(const std::vector<Tensor>& styles, std::vector<double> blend,
                                const std::vector<Tensor>& image_masks) {
  NST_CHECK(!styles.empty(), "objective: no style image");
  if (blend.empty()) blend.assign(styles.size(), 1.0);
  NST_CHECK(blend.size() == styles.size(), "objective: ", blend.size(), " blend weights for ",
            styles.size(), " styles");
  double sum = 0;
  for (double b : blend) sum += b;
  NST_CHECK(sum > 0, "objective: style blend weights sum to zero");
  NST_CHECK(image_masks.empty() || image_masks.size() == styles.size(), "objective: ", image_masks.size(),
            " style-image masks for ", styles.size(), " styles");
  std::vector<std::vector<StyleStatistics>> stats(styles.size());
  for (size_t k = 0; k < styles.size(); ++k) {
    Tape tape;
    auto feats = net_.forward(tape, tape.constant(styles[k]), config_.style_layers, pooling_);
    const Tensor* part = image_masks.empty() || !image_masks[k].defined() ? nullptr : &image_masks[k];
    if (part)
      NST_CHECK(part->dim(2) == styles[k].dim(2) && part->dim(3) == styles[k].dim(3), "objective: style-image mask ",
                part->shape().to_string(), " is not the size of style image ", k + 1, " ",
                styles[k].shape().to_string());
    for (const std::string& layer : config_.style_layers)
      stats[k].push_back(
          style_statistics(feats.at(layer).value(), part ? mask_at_layer(*part, layer) : Tensor(), kind_));
  }
  set_style_targets(std::move(stats), blend);
  // The style images' activations are of other sizes than the image's.
  BufferPool::global().release_cached();
}

void StyleObjective::set_style_targets(std::vector<std::vector<StyleStatistics>> targets,
                                       std::vector<double> blend) {
  if (blend.empty()) blend.assign(targets.size(), 1.0);
  NST_CHECK(blend.size() == targets.size(), "objective: ", blend.size(), " blend weights for ", targets.size(),
            " styles");
  for (const auto& t : targets)
    NST_CHECK(t.size() == config_.style_layers.size(), "objective: style targets for ", t.size(), " layers, not ",
              config_.style_layers.size());
  double sum = 0;
  for (double b : blend) sum += b;
  NST_CHECK(sum > 0, "objective: style blend weights sum to zero");
  std::vector<double> normalised;
  for (double b : blend) normalised.push_back(b / sum);
  blend_ = std::move(blend);
  style_stats_ = std::move(targets);
  blended_.clear();
  for (size_t l = 0; l < config_.style_layers.size(); ++l) {
    std::vector<StyleStatistics> per_style;
    for (const auto& st : style_stats_) per_style.push_back(st[l]);
    blended_.push_back(blend_statistics(per_style, normalised, kind_));
  }
}

void StyleObjective::set_regions(const std::vector<Tensor>& regions) {
  region_masks_.clear();
  region_areas_.clear();
  for (const Tensor& m : regions) {
    NST_CHECK(m.defined() && m.rank() == 4 && m.dim(0) == 1 && m.dim(1) == 1, "objective: a region mask must be "
              "[1, 1, H, W]");
    std::vector<Tensor> per_layer;
    std::vector<double> areas;
    for (const std::string& l : config_.style_layers) {
      per_layer.push_back(mask_at_layer(m, l));
      double sum = 0;
      for (int64_t i = 0; i < per_layer.back().numel(); ++i) sum += double(per_layer.back()[i]);
      areas.push_back(sum / double(per_layer.back().numel()));
    }
    region_masks_.push_back(std::move(per_layer));
    region_areas_.push_back(std::move(areas));
  }
}

LossTerms StyleObjective::evaluate(const Tensor& x, Tensor* grad) const {
  NST_CHECK(content_targets_.size() == config_.content_layers.size() &&
                blended_.size() == config_.style_layers.size(),
            "objective: set_content and set_styles must be called before evaluate");
  Tape tape;
  Var image = grad ? tape.variable(x) : tape.constant(x);
  auto feats = net_.forward(tape, image, config_.layers(), pooling_);

  std::vector<Var> terms;
  std::vector<float> weights;
  for (size_t l = 0; l < config_.content_layers.size(); ++l) {
    const Var& f = feats.at(config_.content_layers[l]);
    terms.push_back(content_weights_.empty()
                        ? content_loss(tape, f, content_targets_[l])
                        : masked_content_loss(tape, f, content_targets_[l], content_weights_[l]));
    weights.push_back(float(config_.content_weight * config_.content_layer_weights[l]));
  }
  // Style terms: one per layer (blended), or with regions one per layer and
  // style, layer-major: term [l][k].
  const size_t K = region_masks_.size();
  NST_CHECK(K == 0 || K == style_stats_.size(), "objective: ", K, " region masks for ", style_stats_.size(),
            " styles");
  for (size_t l = 0; l < config_.style_layers.size(); ++l) {
    const Var& f = feats.at(config_.style_layers[l]);
    const double w = config_.style_weight * config_.style_layer_weights[l];
    if (K == 0) {
      terms.push_back(style_term(tape, f, Tensor(), blended_[l], kind_));
      weights.push_back(float(w));
    }
    for (size_t k = 0; k < K; ++k) {
      NST_CHECK(region_masks_[k][l].dim(2) == f.shape()[2] && region_masks_[k][l].dim(3) == f.shape()[3],
                "objective: region mask ", k + 1, " at ", config_.style_layers[l], " is ",
                region_masks_[k][l].shape().to_string(), ", the layer ", f.shape().to_string(),
                " (masks at the image's size)");
      terms.push_back(style_term(tape, f, region_masks_[k][l], style_stats_[k][l], kind_));
      weights.push_back(float(w * blend_[k] * region_areas_[k][l]));
    }
  }
  if (config_.tv_weight > 0) {
    terms.push_back(tv_loss(tape, image));
    weights.push_back(float(config_.tv_weight));
  }
  Var total = weighted_sum(tape, terms, weights);

  LossTerms r;
  r.total = total.value()[0];
  size_t t = 0;
  for (size_t l = 0; l < config_.content_layers.size(); ++l, ++t) {
    r.content_layers.push_back(double(weights[t]) * terms[t].value()[0]);
    r.content += r.content_layers.back();
  }
  if (K > 0) r.styles.assign(K, 0.0);
  for (size_t l = 0; l < config_.style_layers.size(); ++l) {
    double layer = 0;
    for (size_t k = 0; k < std::max<size_t>(K, 1); ++k, ++t) {
      const double term = double(weights[t]) * terms[t].value()[0];
      layer += term;
      if (K > 0) r.styles[k] += term;
    }
    r.style_layers.push_back(layer);
    r.style += layer;
  }
  if (config_.tv_weight > 0) r.tv = double(weights[t]) * terms[t].value()[0];
  if (grad) {
    tape.backward(total);
    *grad = image.grad().defined() ? image.grad() : Tensor::zeros(x.shape());
  }
  return r;
}

}  // namespace nst
