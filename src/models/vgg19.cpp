#include "models/vgg19.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "nn/conv2d.hpp"
#include "nn/kernels/gemm.hpp"
#include "nn/pool.hpp"
#include "models/vgg19_names.hpp"
#include "nn/relu.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// A pool follows the last convolution of each block: conv1_2, conv2_2, conv3_4, conv4_4, conv5_4.
bool ends_block(const std::string& conv) {
  return conv == "conv1_2" || conv == "conv2_2" || conv == "conv3_4" || conv == "conv4_4" ||
         conv == "conv5_4";
}

}  // namespace

Pooling parse_pooling(const std::string& name) {
  if (name == "max") return Pooling::max;
  if (name == "avg") return Pooling::avg;
  fail("pooling must be max or avg, got '", name, "'");
}

const std::vector<std::string>& Vgg19::activation_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const io::Vgg19Layer& layer : io::vgg19_layers()) {
      if (!layer.is_conv) continue;
      n.push_back(layer.name);
      n.push_back("relu" + layer.name.substr(4));
      if (ends_block(layer.name)) n.push_back("pool" + layer.name.substr(4, 1));
    }
    return n;
  }();
  return names;
}

bool Vgg19::is_activation(const std::string& name) {
  const auto& n = activation_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

void Vgg19::activation_size(const std::string& layer, int64_t h, int64_t w, int64_t& out_h, int64_t& out_w) {
  const auto& names = activation_names();
  const size_t index = deepest_activation({layer});
  out_h = h;
  out_w = w;
  for (size_t i = 0; i <= index; ++i)
    if (names[i].rfind("pool", 0) == 0) {
      out_h /= 2;
      out_w /= 2;
    }
}

size_t Vgg19::deepest_activation(const std::vector<std::string>& layers) {
  const auto& names = activation_names();
  size_t deepest = 0;
  for (const std::string& l : layers) {
    const auto it = std::find(names.begin(), names.end(), l);
    NST_CHECK(it != names.end(), "vgg19: unknown layer '", l,
              "' (layers are conv1_1..conv5_4, relu1_1..relu5_4, pool1..pool5)");
    deepest = std::max(deepest, size_t(it - names.begin()));
  }
  return deepest;
}

std::string Vgg19::last_conv_for(size_t activation) {
  const auto& names = activation_names();
  NST_CHECK(activation < names.size(), "vgg19: no activation ", activation);
  std::string conv;
  for (size_t i = 0; i <= activation; ++i)
    if (names[i].rfind("conv", 0) == 0) conv = names[i];
  return conv;
}

Vgg19 Vgg19::load(const std::string& path, bool with_classifier,
                  const std::vector<std::string>& layers) {
  const std::string last_conv = !layers.empty() && !with_classifier
                                    ? last_conv_for(deepest_activation(layers))
                                    : std::string("conv5_4");
  const io::WeightFile f = io::WeightFile::open(path);  // validates every byte
  io::check_vgg19(f, with_classifier);                  // names and shapes
  Vgg19 net;
  net.path_ = path;
  net.convention_ = f.metadata().input;
  uint64_t combined = 1469598103934665603ull;  // FNV-1a 64 over the tensors' checksums
  for (const std::string& name : f.names()) {
    const uint64_t c = f.info(name).checksum;
    for (int b = 0; b < 8; ++b) {
      combined ^= (c >> (8 * b)) & 0xff;
      combined *= 1099511628211ull;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(combined));
  net.checksum_ = hex;
  for (const io::Vgg19Layer& layer : io::vgg19_layers()) {
    if (!layer.is_conv && !with_classifier) continue;
    const bool past_last = !net.convs_.empty() && net.convs_.back().name == last_conv;
    if (layer.is_conv && past_last) continue;
    Tensor w = f.tensor(layer.name + ".weight"), b = f.tensor(layer.name + ".bias");
    if (layer.is_conv)
      net.convs_.push_back({layer.name, w, b});
    else
      net.dense_.push_back({w, b});
  }
  return net;
}

std::map<std::string, Var> Vgg19::forward(Tape& tape, const Var& x,
                                          const std::vector<std::string>& wanted,
                                          Pooling pooling) const {
  NST_CHECK(x.value().rank() == 4 && x.value().dim(1) == 3, "vgg19: expected input [N, 3, H, W], got ",
            x.shape().to_string());
  const auto& names = activation_names();
  const size_t deepest = deepest_activation(wanted);
  // The conv that makes the deepest wanted activation must have been loaded.
  const std::string needs = last_conv_for(deepest);
  NST_CHECK(std::any_of(convs_.begin(), convs_.end(), [&](const Conv& c) { return c.name == needs; }),
            "vgg19: layer '", names[deepest], "' needs ", needs,
            ", which this network was not loaded with (Vgg19::load's layers)");
  std::map<std::string, Var> out;
  auto keep = [&](const std::string& name, const Var& v) {
    if (std::find(wanted.begin(), wanted.end(), name) != wanted.end()) out[name] = v;
  };
  // Once the next layer has read an activation nobody asked for, its value goes:
  // the backward of each consumer (a conv with frozen weights, a pool keeping
  // its argmax, a ReLU keeping its bit mask) needs only its shape. At 512 px
  // this is most of what the tape would hold.
  auto advance = [&](Var& h, Var next) {
    const bool asked = std::any_of(out.begin(), out.end(),
                                   [&](const auto& kv) { return kv.second.same_node(h); });
    if (!asked && !h.same_node(x)) h.release_value();
    h = std::move(next);
  };
  Var h = x;
  size_t position = 0;
  for (size_t i = 0; i < convs_.size() && position <= deepest; ++i) {
    const Conv& c = convs_[i];
    const std::string suffix = c.name.substr(4);
    const Var weight = tape.constant(c.weight), bias = tape.constant(c.bias);
    const Conv2dParams p = Conv2dParams::symmetric(1, 1);
    const bool conv_wanted =
        std::find(wanted.begin(), wanted.end(), c.name) != wanted.end() || position == deepest;
    if (conv_wanted) {  // the pre-activation is asked for (or is the last): two nodes
      advance(h, conv2d(tape, h, weight, bias, p));
      keep(c.name, h);
      if (++position > deepest) break;
      advance(h, relu(tape, h));
    } else {  // one fused node: a bit mask instead of the pre-activation
      ++position;
      advance(h, conv2d_relu(tape, h, weight, bias, p));
    }
    keep("relu" + suffix, h);
    if (++position > deepest) break;
    if (ends_block(c.name)) {
      NST_CHECK(h.value().dim(2) >= 2 && h.value().dim(3) >= 2, "vgg19: the image is too small for ",
                "pool", suffix.substr(0, 1), " (", h.shape().to_string(), ")");
      advance(h, pooling == Pooling::max ? max_pool2d(tape, h, Pool2dParams::square(2, 2))
                                         : avg_pool2d(tape, h, Pool2dParams::square(2, 2)));
      keep("pool" + suffix.substr(0, 1), h);
      ++position;
    }
  }
  return out;
}

std::vector<float> Vgg19::classify(const Tensor& rgb) const {
  NST_CHECK(dense_.size() == 3, "vgg19: the classifier layers were not loaded");
  NST_CHECK(rgb.rank() == 4 && rgb.dim(0) == 1 && rgb.dim(1) == 3 && rgb.dim(2) == 224 &&
                rgb.dim(3) == 224,
            "vgg19 classify: expected an RGB image [1, 3, 224, 224], got ", rgb.shape().to_string());
  Tape tape;
  auto feats = forward(tape, tape.constant(to_input(rgb)), {"pool5"});
  Tensor h = feats.at("pool5").value();  // [1, 512, 7, 7], flattened in C, H, W order
  for (size_t l = 0; l < dense_.size(); ++l) {
    const Dense& d = dense_[l];
    const int64_t in = d.weight.dim(1), n_out = d.weight.dim(0);
    Tensor y = d.bias.clone().reshape({1, n_out});
    // y[o] = b[o] + Σ_i W[o][i] h[i]
    kernels::gemm(false, true, 1, n_out, in, 1.0f, h.data(), in, d.weight.data(), in, 1.0f,
                  y.data(), n_out);
    if (l + 1 < dense_.size())
      for (int64_t i = 0; i < n_out; ++i) y[i] = std::max(y[i], 0.0f);
    h = y;
  }
  // Softmax in double.
  std::vector<float> p(size_t(h.numel()));
  double mx = h[0], sum = 0;
  for (int64_t i = 0; i < h.numel(); ++i) mx = std::max(mx, double(h[i]));
  for (int64_t i = 0; i < h.numel(); ++i) sum += std::exp(double(h[i]) - mx);
  for (int64_t i = 0; i < h.numel(); ++i) p[size_t(i)] = float(std::exp(double(h[i]) - mx) / sum);
  return p;
}

Tensor Vgg19::to_input(const Tensor& rgb) const {
  NST_CHECK(rgb.rank() == 4 && rgb.dim(1) == 3, "vgg19: expected RGB [N, 3, H, W], got ",
            rgb.shape().to_string());
  const bool bgr = convention_.order == io::ChannelOrder::BGR;
  const int64_t plane = rgb.dim(2) * rgb.dim(3);
  Tensor x = Tensor::empty(rgb.shape());
  for (int64_t n = 0; n < rgb.dim(0); ++n)
    for (int64_t c = 0; c < 3; ++c) {  // c: channel in the network's order
      const float* src = rgb.data() + (n * 3 + (bgr ? 2 - c : c)) * plane;
      float* dst = x.data() + (n * 3 + c) * plane;
      const float a = convention_.pixel_range / 255.0f / convention_.std[size_t(c)];
      const float b = -convention_.mean[size_t(c)] / convention_.std[size_t(c)];
      for (int64_t i = 0; i < plane; ++i) dst[i] = src[i] * a + b;
    }
  return x;
}

Var Vgg19::to_input(Tape& tape, const Var& rgb) const {
  NST_CHECK(rgb.shape().rank() == 4 && rgb.shape()[1] == 3, "vgg19: expected RGB [N, 3, H, W], got ",
            rgb.shape().to_string());
  const bool bgr = convention_.order == io::ChannelOrder::BGR;
  ChannelAffine a;
  for (size_t c = 0; c < 3; ++c) {  // c: channel in the network's order, as in to_input above
    a.from.push_back(bgr ? 2 - int64_t(c) : int64_t(c));
    a.scale.push_back(convention_.pixel_range / 255.0f / convention_.std[c]);
    a.shift.push_back(-convention_.mean[c] / convention_.std[c]);
  }
  return channel_affine(tape, rgb, a);
}

Tensor Vgg19::from_input(const Tensor& x) const {
  NST_CHECK(x.rank() == 4 && x.dim(1) == 3, "vgg19: expected [N, 3, H, W], got ", x.shape().to_string());
  const bool bgr = convention_.order == io::ChannelOrder::BGR;
  const int64_t plane = x.dim(2) * x.dim(3);
  Tensor rgb = Tensor::empty(x.shape());
  for (int64_t n = 0; n < x.dim(0); ++n)
    for (int64_t c = 0; c < 3; ++c) {
      const float* src = x.data() + (n * 3 + c) * plane;
      float* dst = rgb.data() + (n * 3 + (bgr ? 2 - c : c)) * plane;
      const float s = convention_.std[size_t(c)], m = convention_.mean[size_t(c)];
      const float k = 255.0f / convention_.pixel_range;
      for (int64_t i = 0; i < plane; ++i) dst[i] = (src[i] * s + m) * k;
    }
  return rgb;
}

}  // namespace nst
