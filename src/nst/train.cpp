#include "nst/train.hpp"

#include <cmath>
#include <istream>
#include <ostream>

#include "nn/elementwise.hpp"
#include "nn/total_variation.hpp"
#include "nst/losses.hpp"
#include "nst/photo_batches.hpp"
#include "optim/state_io.hpp"
#include "optim/vector_ops.hpp"
#include "tensor/check.hpp"

namespace nst {

PerceptualLoss::PerceptualLoss(const Vgg19& vgg, PerceptualWeights weights, const Tensor& style)
    : vgg_(vgg), weights_(std::move(weights)) {
  const PerceptualWeights& w = weights_;
  NST_CHECK(!w.content_layers.empty() || !w.style_layers.empty(),
            "perceptual loss: no content and no style layer");
  NST_CHECK(w.content_weight >= 0 && w.style_weight >= 0 && w.tv_weight >= 0 &&
                std::isfinite(w.content_weight + w.style_weight + w.tv_weight),
            "perceptual loss: weights must be finite and >= 0");
  all_layers_ = w.content_layers;
  all_layers_.insert(all_layers_.end(), w.style_layers.begin(), w.style_layers.end());
  Tape tape;
  const auto feats = vgg_.forward(tape, tape.constant(vgg_.to_input(style)), w.style_layers);
  for (const std::string& l : w.style_layers) style_grams_.push_back(gram_matrix(feats.at(l).value()));
}

Var PerceptualLoss::evaluate(Tape& tape, const Var& y, const Tensor& photos,
                             TrainTerms& terms) const {
  NST_CHECK(y.shape() == photos.shape(), "perceptual loss: pictures ", y.shape().to_string(),
            " and photos ", photos.shape().to_string(), " differ");
  const int64_t N = photos.n();
  const auto feats = vgg_.forward(tape, vgg_.to_input(tape, y), all_layers_);

  // F_l(x): the photos' features, constants (their own tape records nothing).
  std::vector<Var> content, style;
  if (!weights_.content_layers.empty()) {
    Tape targets;
    const auto p = vgg_.forward(targets, targets.constant(vgg_.to_input(photos)),
                                weights_.content_layers);
    for (const std::string& l : weights_.content_layers)
      content.push_back(content_loss(tape, feats.at(l), p.at(l).value()));
  }
  for (size_t i = 0; i < weights_.style_layers.size(); ++i) {
    // A_l repeated for each picture: mean over [N, C, C] = mean over n of each one's loss.
    const Tensor& a = style_grams_[i];
    Tensor target = Tensor::empty({N, a.dim(1), a.dim(2)});
    for (int64_t n = 0; n < N; ++n) std::copy_n(a.data(), a.numel(), target.data() + n * a.numel());
    style.push_back(style_loss(tape, feats.at(weights_.style_layers[i]), target));
  }
  const Var tv = tv_loss(tape, y);
  const double tv_norm = 1.0 / double(y.shape().numel());

  std::vector<Var> parts;
  std::vector<float> w;
  terms = TrainTerms{};
  for (const Var& c : content) {
    parts.push_back(c);
    w.push_back(float(weights_.content_weight));
    terms.content += c.value()[0];
  }
  for (const Var& s : style) {
    parts.push_back(s);
    w.push_back(float(weights_.style_weight));
    terms.style += s.value()[0];
  }
  parts.push_back(tv);
  w.push_back(float(weights_.tv_weight * tv_norm));
  terms.tv = tv.value()[0] * tv_norm;
  const Var total = weighted_sum(tape, parts, w);
  terms.loss = total.value()[0];
  return total;
}

Transformer init_transformer(const TransformerSpec& spec, uint64_t seed) {
  std::map<std::string, Tensor> params;
  uint64_t tensor_index = 0;
  for (const ParamShape& p : transformer_param_shapes(spec)) {
    Tensor t = Tensor::empty(Shape(p.shape.begin(), p.shape.end()));
    const bool is_weight = p.name.size() > 7 && p.name.compare(p.name.size() - 7, 7, ".weight") == 0;
    const bool is_scale = p.name.size() > 6 && p.name.compare(p.name.size() - 6, 6, ".scale") == 0;
    if (is_weight) {
      const double fan_in = double(p.shape[1] * p.shape[2] * p.shape[3]);
      const double bound = 1.0 / std::sqrt(fan_in);
      const uint64_t stream = splitmix64(seed ^ splitmix64(++tensor_index));
      for (int64_t i = 0; i < t.numel(); ++i) {
        const uint64_t r = splitmix64(stream + uint64_t(i));
        const double u = double(r >> 11) * 0x1.0p-53;  // [0, 1)
        t[i] = float((2.0 * u - 1.0) * bound);
      }
    } else {
      t.fill(is_scale ? 1.0f : 0.0f);
    }
    params.emplace(p.name, t);
  }
  return Transformer(spec, std::move(params));
}

NetworkAdam::NetworkAdam(const Transformer& net, const AdamOptions& o) : options(o) {
  check_adam_options(options);
  for (const auto& [name, tensor] : net.params()) {
    m.emplace_back(size_t(tensor.numel()), 0.0f);
    v.emplace_back(size_t(tensor.numel()), 0.0f);
  }
}

namespace {
constexpr char kNetworkAdamMagic[9] = "NSTADAMT";
constexpr uint32_t kNetworkAdamVersion = 1;
}  // namespace

void NetworkAdam::save_state(std::ostream& out) const {
  StateWriter w(out, kNetworkAdamMagic, kNetworkAdamVersion);
  w.value(options.lr);
  w.value(options.beta1);
  w.value(options.beta2);
  w.value(options.eps);
  w.value(t);
  w.value(uint64_t(m.size()));
  for (size_t i = 0; i < m.size(); ++i) {
    w.value(uint64_t(m[i].size()));
    w.floats(m[i]);
    w.floats(v[i]);
  }
  w.finish("adam state");
}

void NetworkAdam::load_state(std::istream& in) {
  StateReader r(in, kNetworkAdamMagic, kNetworkAdamVersion, "adam state");
  AdamOptions o = options;
  o.lr = r.value<double>();
  o.beta1 = r.value<double>();
  o.beta2 = r.value<double>();
  o.eps = r.value<double>();
  const auto steps = r.value<int64_t>();
  r.expect(steps >= 0, "t");
  const auto count = r.value<uint64_t>();
  r.expect(count == m.size(), "tensor count");
  std::vector<std::vector<float>> mm, vv;
  for (size_t i = 0; i < m.size(); ++i) {
    const auto n = r.value<uint64_t>();
    r.expect(n == m[i].size(), "tensor size");
    mm.push_back(r.floats(int64_t(n)));
    vv.push_back(r.floats(int64_t(n)));
  }
  r.finish();
  try {
    check_adam_options(o);
  } catch (const Error&) {
    r.expect(false, "options");
  }
  options = o;
  t = steps;
  m = std::move(mm);
  v = std::move(vv);
}

TrainTerms train_step(Transformer& net, NetworkAdam& adam, const PerceptualLoss& loss,
                      const Tensor& photos) {
  NST_CHECK(adam.m.size() == net.params().size(), "train_step: the Adam state is for another network");
  TrainTerms terms;
  std::vector<Tensor> grads;
  {
    Tape tape;
    const std::map<std::string, Var> vars = net.bind(tape, true);
    const Var y = net.forward(tape, vars, tape.constant(photos));
    NST_CHECK(y.shape() == photos.shape(), "train: the network turns ", photos.shape().to_string(),
              " photos into ", y.shape().to_string(),
              " pictures; the crop size must be a multiple of the product of its strides");
    const Var total = loss.evaluate(tape, y, photos, terms);
    tape.backward(total);
    for (const auto& [name, var] : vars) {
      NST_CHECK(var.grad().defined(), "train_step: no gradient reached ", name);
      grads.push_back(var.grad());
    }
  }
  bool finite = std::isfinite(terms.loss);
  for (const Tensor& g : grads) finite = finite && std::isfinite(vec_max_abs(g.data(), g.numel()));
  NST_CHECK(finite, "train: the loss or its gradient is not finite at Adam step ", adam.t + 1,
            " (loss ", terms.loss, "); lower --lr or the loss weights");
  ++adam.t;
  size_t i = 0;
  for (auto& [name, t] : net.params()) {
    adam_update(t.data(), adam.m[i].data(), adam.v[i].data(), grads[i].data(), t.numel(), adam.t,
                adam.options);
    ++i;
  }
  return terms;
}

}  // namespace nst
