#include "nst/style_objective.hpp"

#include <cmath>

#include "nn/elementwise.hpp"
#include "nst/losses.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

std::vector<double> layer_weights(const std::vector<double>& given, size_t n) {
  return given.empty() ? std::vector<double>(n, 1.0) : given;
}

}  // namespace

StyleObjective::StyleObjective(const Vgg19& net, const ObjectiveConfig& config)
    : net_(net), config_(config), pooling_(parse_pooling(config.pooling)) {
  NST_CHECK(!config_.content_layers.empty() || !config_.style_layers.empty(),
            "objective: no content and no style layers");
  for (const auto* list : {&config_.content_layers, &config_.style_layers})
    for (const std::string& l : *list)
      NST_CHECK(Vgg19::is_activation(l), "objective: unknown layer '", l,
                "' (use names like relu4_2, conv3_1, pool2)");
  config_.content_layer_weights = layer_weights(config_.content_layer_weights, config_.content_layers.size());
  config_.style_layer_weights = layer_weights(config_.style_layer_weights, config_.style_layers.size());
}

void StyleObjective::set_content(const Tensor& content) {
  // A new content (a new scale): the idle buffers of the last size's
  // evaluations would sit beside this forward pass and raise the peak (a
  // 362 px scale's cost 85 MB under the 384 px content pass). Free them first.
  BufferPool::global().release_cached();
  Tape tape;
  auto feats = net_.forward(tape, tape.constant(content), config_.content_layers, pooling_);
  content_targets_.clear();
  for (const std::string& l : config_.content_layers) content_targets_.push_back(feats.at(l).value());
  feats.clear();
  tape.clear();
  // The content's activations are another size than the image's will be at
  // other scales: give their cached buffers back to the system.
  BufferPool::global().release_cached();
}

void StyleObjective::set_styles(const std::vector<Tensor>& styles, std::vector<double> blend) {
  NST_CHECK(!styles.empty(), "objective: no style image");
  if (blend.empty()) blend.assign(styles.size(), 1.0);
  NST_CHECK(blend.size() == styles.size(), "objective: ", blend.size(), " blend weights for ",
            styles.size(), " styles");
  double sum = 0;
  for (double b : blend) sum += b;
  NST_CHECK(sum > 0, "objective: style blend weights sum to zero");
  style_targets_.clear();
  for (size_t k = 0; k < styles.size(); ++k) {
    Tape tape;
    auto feats = net_.forward(tape, tape.constant(styles[k]), config_.style_layers, pooling_);
    for (size_t l = 0; l < config_.style_layers.size(); ++l) {
      const Tensor g = gram_matrix(feats.at(config_.style_layers[l]).value());
      const float b = float(blend[k] / sum);
      if (k == 0) style_targets_.push_back(Tensor::zeros(g.shape()));
      Tensor& a = style_targets_[l];
      for (int64_t i = 0; i < g.numel(); ++i) a[i] += b * g[i];
    }
  }
  // The style images' activations are of other sizes than the image's.
  BufferPool::global().release_cached();
}

LossTerms StyleObjective::evaluate(const Tensor& x, Tensor* grad) const {
  NST_CHECK(content_targets_.size() == config_.content_layers.size() &&
                style_targets_.size() == config_.style_layers.size(),
            "objective: set_content and set_styles must be called before evaluate");
  Tape tape;
  Var image = grad ? tape.variable(x) : tape.constant(x);
  auto feats = net_.forward(tape, image, config_.layers(), pooling_);

  std::vector<Var> terms;
  std::vector<float> weights;
  for (size_t l = 0; l < config_.content_layers.size(); ++l) {
    terms.push_back(content_loss(tape, feats.at(config_.content_layers[l]), content_targets_[l]));
    weights.push_back(float(config_.content_weight * config_.content_layer_weights[l]));
  }
  for (size_t l = 0; l < config_.style_layers.size(); ++l) {
    terms.push_back(style_loss(tape, feats.at(config_.style_layers[l]), style_targets_[l]));
    weights.push_back(float(config_.style_weight * config_.style_layer_weights[l]));
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
  for (size_t l = 0; l < config_.style_layers.size(); ++l, ++t) {
    r.style_layers.push_back(double(weights[t]) * terms[t].value()[0]);
    r.style += r.style_layers.back();
  }
  if (config_.tv_weight > 0) r.tv = double(weights[t]) * terms[t].value()[0];
  if (grad) {
    tape.backward(total);
    *grad = image.grad().defined() ? image.grad() : Tensor::zeros(x.shape());
  }
  return r;
}

}  // namespace nst
