#include "nst/train.hpp"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>

#include "nn/elementwise.hpp"
#include "nn/gram.hpp"
#include "nn/mse.hpp"
#include "nn/total_variation.hpp"
#include "nst/losses.hpp"
#include "nst/photo_batches.hpp"
#include "optim/state_io.hpp"
#include "optim/vector_ops.hpp"
#include "tensor/check.hpp"

namespace nst {

PerceptualLoss::PerceptualLoss(const Vgg19& vgg, PerceptualWeights weights, const Tensor& style)
    : PerceptualLoss(vgg, std::move(weights), std::vector<Tensor>{style}) {}

PerceptualLoss::PerceptualLoss(const Vgg19& vgg, PerceptualWeights weights,
                               const std::vector<Tensor>& styles)
    : vgg_(vgg), weights_(std::move(weights)) {
  NST_CHECK(!styles.empty() && int64_t(styles.size()) <= kMaxStyles, "perceptual loss: ",
            styles.size(), " paintings (1 to ", kMaxStyles, ")");
  const PerceptualWeights& w = weights_;
  NST_CHECK(!w.content_layers.empty() || !w.style_layers.empty(),
            "perceptual loss: no content and no style layer");
  NST_CHECK(w.content_weight >= 0 && w.style_weight >= 0 && w.tv_weight >= 0 &&
                std::isfinite(w.content_weight + w.style_weight + w.tv_weight),
            "perceptual loss: weights must be finite and >= 0");
  all_layers_ = w.content_layers;
  all_layers_.insert(all_layers_.end(), w.style_layers.begin(), w.style_layers.end());
  for (const Tensor& style : styles) {
    Tape tape;
    const auto feats = vgg_.forward(tape, tape.constant(vgg_.to_input(style)), w.style_layers);
    std::vector<Tensor> grams;
    for (const std::string& l : w.style_layers) grams.push_back(gram_matrix(feats.at(l).value()));
    style_grams_.push_back(std::move(grams));
  }
}

std::vector<int64_t> round_robin_styles(int64_t step, int64_t n, int64_t S) {
  NST_CHECK(step >= 0 && n >= 1 && S >= 1, "round_robin_styles: step ", step, ", batch ", n,
            ", styles ", S);
  std::vector<int64_t> out(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) out[size_t(i)] = int64_t((uint64_t(step) * uint64_t(n) + uint64_t(i)) % uint64_t(S));
  return out;
}

Var PerceptualLoss::evaluate(Tape& tape, const Var& y, const Tensor& photos, TrainTerms& terms,
                             const std::vector<int64_t>& sample_styles) const {
  NST_CHECK(y.shape() == photos.shape(), "perceptual loss: pictures ", y.shape().to_string(),
            " and photos ", photos.shape().to_string(), " differ");
  const int64_t N = photos.n();
  std::vector<int64_t> painting = sample_styles;
  if (painting.empty()) painting.assign(size_t(N), 0);
  NST_CHECK(int64_t(painting.size()) == N, "perceptual loss: ", painting.size(),
            " sample styles for a batch of ", N);
  for (int64_t k : painting)
    NST_CHECK(k >= 0 && k < paintings(), "perceptual loss: style ", k, " of ", paintings(),
              " paintings");
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
  std::vector<double> by_painting(size_t(paintings()), 0.0);
  std::vector<int64_t> samples_of(size_t(paintings()), 0);
  for (int64_t k : painting) ++samples_of[size_t(k)];
  for (size_t i = 0; i < weights_.style_layers.size(); ++i) {
    // Each picture's own painting's A_l: mean over [N, C, C] = mean over n of each one's loss.
    const Tensor& a0 = style_grams_[0][i];
    const int64_t CC = a0.numel();
    Tensor target = Tensor::empty({N, a0.dim(1), a0.dim(2)});
    for (int64_t n = 0; n < N; ++n) {
      const Tensor& a = style_grams_[size_t(painting[size_t(n)])][i];
      std::copy_n(a.data(), CC, target.data() + n * CC);
    }
    // style_loss (nst/losses.hpp) as its two ops, so that the record below
    // reads the Grams the loss computed instead of computing them again.
    const Var gv = gram(tape, feats.at(weights_.style_layers[i]));
    style.push_back(mse(tape, gv, tape.constant(target)));
    if (paintings() > 1) {
      // For the record: each painting's term over its own samples, mean over
      // them of mean((G - A)²), the same sum the loss takes over all of them.
      const Tensor& g = gv.value();
      for (int64_t n = 0; n < N; ++n) {
        double sq = 0.0;
        for (int64_t j = 0; j < CC; ++j) {
          const double d = double(g[n * CC + j]) - double(target[n * CC + j]);
          sq += d * d;
        }
        const int64_t k = painting[size_t(n)];
        by_painting[size_t(k)] += sq / double(CC) / double(samples_of[size_t(k)]);
      }
    }
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
  if (paintings() > 1) terms.style_by_painting = by_painting;
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
                      const Tensor& photos, const std::vector<int64_t>& sample_styles,
                      const TrainScope& scope) {
  NST_CHECK(adam.m.size() == net.params().size(), "train_step: the Adam state is for another network");
  const int64_t S = net.style_count(), first = scope.first_style;
  NST_CHECK(first >= 0 && first + loss.paintings() <= S &&
                (scope.norms_only || (first == 0 && loss.paintings() == S)),
            "train: the network has ", S, " styles but the loss ", loss.paintings(),
            " paintings (from style ", first, ")");
  // Sample n: the network's style sample_styles[n], the loss's painting n - first.
  std::vector<int64_t> styles = sample_styles;
  if (styles.empty() && (S > 1 || first > 0)) styles.assign(size_t(photos.n()), first);
  NST_CHECK(styles.empty() || int64_t(styles.size()) == photos.n(), "train: ", styles.size(),
            " sample styles for a batch of ", photos.n());
  std::vector<int64_t> paintings;
  for (int64_t k : styles) {
    NST_CHECK(k >= first && k < first + loss.paintings(), "train: style ", k, " of ", S,
              " has no painting in the loss (styles ", first, "..", first + loss.paintings() - 1, ")");
    paintings.push_back(k - first);
  }
  TrainTerms terms;
  std::vector<Tensor> grads;
  {
    Tape tape;
    std::map<std::string, Var> vars;
    for (const auto& [name, t] : net.params()) {
      const bool trains = !scope.norms_only || name.find(".norm.") != std::string::npos;
      vars.emplace(name, trains ? tape.variable(t) : tape.constant(t));
    }
    // Sample n in its style: one-hot rows of the style weights.
    Var style;
    if (!styles.empty()) {
      Tensor w = Tensor::zeros(Shape{photos.n(), S});
      for (int64_t n = 0; n < photos.n(); ++n) w[n * S + styles[size_t(n)]] = 1.0f;
      style = tape.constant(w);
    }
    const Var y = net.forward(tape, vars, tape.constant(photos), style);
    NST_CHECK(y.shape() == photos.shape(), "train: the network turns ", photos.shape().to_string(),
              " photos into ", y.shape().to_string(),
              " pictures; the crop size must be a multiple of the product of its strides");
    const Var total = loss.evaluate(tape, y, photos, terms, paintings);
    tape.backward(total);
    for (const auto& [name, var] : vars) {
      if (!var.requires_grad()) {  // frozen: no update
        grads.emplace_back();
        continue;
      }
      NST_CHECK(var.grad().defined(), "train_step: no gradient reached ", name);
      grads.push_back(var.grad());
    }
  }
  bool finite = std::isfinite(terms.loss);
  for (const Tensor& g : grads)
    if (g.defined()) finite = finite && std::isfinite(vec_max_abs(g.data(), g.numel()));
  NST_CHECK(finite, "train: the loss or its gradient is not finite at Adam step ", adam.t + 1,
            " (loss ", terms.loss, "); lower --lr or the loss weights");
  ++adam.t;
  size_t i = 0;
  for (auto& [name, t] : net.params()) {
    if (grads[i].defined())
      adam_update(t.data(), adam.m[i].data(), adam.v[i].data(), grads[i].data(), t.numel(),
                  adam.t, adam.options);
    ++i;
  }
  return terms;
}

std::string unique_style_name(const std::vector<std::string>& taken, const std::string& wanted) {
  const std::string base = wanted.empty() ? "style" : wanted.substr(0, 60);
  std::string name = base;
  for (int k = 2; std::count(taken.begin(), taken.end(), name) > 0; ++k)
    name = base + "_" + std::to_string(k);
  return name;
}

Transformer add_style(const Transformer& net, const std::string& name) {
  TransformerSpec spec = net.spec();
  NST_CHECK(net.style_count() < kMaxStyles, "add_style: the network has ", kMaxStyles,
            " styles already");
  spec.styles = net.style_names();  // a one-style file's row: "style 0"
  spec.styles.push_back(unique_style_name(spec.styles, name));
  const int64_t S = net.style_count();
  std::map<std::string, Tensor> params;
  for (const auto& [pname, t] : net.params()) {
    if (pname.find(".norm.") == std::string::npos) {
      params.emplace(pname, t.clone());
      continue;
    }
    const int64_t C = t.rank() == 2 ? t.dim(1) : t.dim(0);
    Tensor table = Tensor::empty({S + 1, C});
    std::copy_n(t.data(), S * C, table.data());
    for (int64_t c = 0; c < C; ++c) {
      double mean = 0.0;
      for (int64_t s = 0; s < S; ++s) mean += double(t[s * C + c]);
      table[S * C + c] = float(mean / double(S));
    }
    params.emplace(pname, table);
  }
  return Transformer(spec, std::move(params), net.input_convention(), "add_style");
}

}  // namespace nst
