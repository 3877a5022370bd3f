// The style-transfer objective and its VGG-19 convolutions at S x S px.
//
//   vgg_objective_S         f(x) and ∇f(x): content relu4_2, style relu1_1..relu5_1,
//                           TV, gradient w.r.t. the image only (StyleObjective::evaluate)
//   vggS_<conv>_fwd         conv2d_forward + bias + ReLU of one layer
//   vggS_<conv>_bwd_input   conv2d_backward_input of one layer
// for S = 256, 512, 1024 (select with --filter, e.g. --filter vgg_objective_512).
// The objective needs the weight file: $NST_WEIGHTS, default build/vgg19.nstw
// (`make weights`). Layers whose shape repeats (conv3_3, conv3_4, conv4_3, conv4_4)
// are timed once, as conv3_2 / conv4_2.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench.hpp"
#include "nn/conv2d.hpp"
#include "models/vgg19.hpp"
#include "nst/style_objective.hpp"
#include "tensor/check.hpp"

namespace nst::bench {

namespace {

struct VggConv {
  const char* name;
  int64_t C, OC, scale;  // input channels, output channels, input side = S / scale
  int count;             // layers of this shape up to conv5_1 (what the objective runs)
};

const VggConv kConvs[] = {
    {"conv1_1", 3, 64, 1, 1},    {"conv1_2", 64, 64, 1, 1},   {"conv2_1", 64, 128, 2, 1},
    {"conv2_2", 128, 128, 2, 1}, {"conv3_1", 128, 256, 4, 1}, {"conv3_2", 256, 256, 4, 3},
    {"conv4_1", 256, 512, 8, 1}, {"conv4_2", 512, 512, 8, 3}, {"conv5_1", 512, 512, 16, 1},
};

Tensor random_tensor(const Shape& shape, uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(rng);
  return t;
}

// 2 FLOPs per multiply-add of one 3x3 conv at side h.
double conv_flops(const VggConv& c, int64_t h) {
  return 2.0 * double(c.OC) * double(c.C) * 9.0 * double(h) * double(h);
}

// The first |a - b| above tol times the largest |b| (at least 1), described; ""
// when none. Relative to the largest value, not to each: Winograd's error is
// spread over a tile (tests/test_winograd.cpp measures it).
std::string compare(const Tensor& got, const std::vector<double>& want, double tol) {
  double scale = 1.0;
  for (double w : want) scale = std::max(scale, std::abs(w));
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double w = want[size_t(i)];
    if (!(std::abs(double(got[i]) - w) <= tol * scale))
      return str("element ", i, " = ", got[i], ", reference ", w);
  }
  return "";
}

// conv2d_forward (bias + ReLU) and conv2d_backward_input against the double
// reference at C -> OC channels on a 9 x 7 image.
std::string verify_conv(int64_t C, int64_t OC) {
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  const Tensor inp = random_tensor({1, C, 9, 7}, 1, 1.0f);
  const Tensor weight = random_tensor({OC, C, 3, 3}, 2, 0.1f);
  const Tensor bias = random_tensor({OC}, 3, 0.1f);
  const Tensor dout = random_tensor({1, OC, 9, 7}, 4, 1.0f);
  const kernels::ConvGeometry g = conv2d_geometry(inp.shape(), weight.shape(), p);
  auto dbl = [](const Tensor& t) { return std::vector<double>(t.data(), t.data() + t.numel()); };
  const std::vector<double> inp_d = dbl(inp), weight_d = dbl(weight), bias_d = dbl(bias),
                            dout_d = dbl(dout);
  std::vector<double> want(size_t(OC * 63));
  conv2d_reference_forward(want.data(), inp_d.data(), weight_d.data(), bias_d.data(), g);
  for (double& v : want) v = std::max(v, 0.0);
  Tensor out = Tensor::empty({1, OC, 9, 7});
  conv2d_forward(out, inp, weight, &bias, p, Conv2dEpilogue::relu);
  if (std::string e = compare(out, want, 5e-5); !e.empty()) return "forward: " + e;
  std::vector<double> dwant(size_t(C * 63), 0.0);
  conv2d_reference_backward_input(dwant.data(), dout_d.data(), weight_d.data(), g);
  Tensor dinp = Tensor::zeros(inp.shape());
  conv2d_backward_input(dinp, dout, weight, p);
  if (std::string e = compare(dinp, dwant, 5e-5); !e.empty()) return "backward input: " + e;
  return "";
}

Case layer_case(const VggConv& c, int64_t size, bool forward) {
  const int64_t h = size / c.scale;
  Case k;
  k.name = str("vgg", size, "_", c.name, forward ? "_fwd" : "_bwd_input");
  k.params = {{"size", str(size)}, {"layer", c.name}, {"pass", forward ? "fwd" : "bwd_input"},
              {"C", str(c.C)},     {"OC", str(c.OC)}, {"H", str(h)}};
  k.flops = conv_flops(c, h);
  struct Data {
    Tensor inp, weight, bias, out;
  };
  auto d = std::make_shared<Data>();
  k.verify = [c] { return verify_conv(c.C, c.OC); };
  k.prepare = [d, c, h] {
    d->weight = random_tensor({c.OC, c.C, 3, 3}, 2, 0.05f);
    d->bias = random_tensor({c.OC}, 3, 0.1f);
    d->inp = random_tensor({1, c.C, h, h}, 1, 1.0f);
    d->out = random_tensor({1, c.OC, h, h}, 4, 1.0f);
  };
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  if (forward)
    k.run = [d, p] {
      conv2d_forward(d->out, d->inp, d->weight, &d->bias, p, Conv2dEpilogue::relu);
    };
  else
    k.run = [d, p] { conv2d_backward_input(d->inp, d->out, d->weight, p); };  // inp += (no reset)
  k.release = [d] { *d = Data{}; };
  return k;
}

std::string weights_path() {
  const char* env = std::getenv("NST_WEIGHTS");
  return env && *env ? env : "build/vgg19.nstw";
}

struct ObjectiveData {
  Vgg19 net;
  std::unique_ptr<StyleObjective> objective;
  Tensor x, grad;
};

// The objective as `nst stylize` sets it up (default weights and layers), with
// random content, style and image in the network's input range.
void prepare_objective(ObjectiveData& d, int64_t size) {
  d.net = Vgg19::load(weights_path());
  d.objective = std::make_unique<StyleObjective>(d.net, ObjectiveConfig{});
  d.objective->set_content(random_tensor({1, 3, size, size}, 11, 120.0f));
  d.objective->set_styles({random_tensor({1, 3, size, size}, 12, 120.0f)}, {});
  d.x = random_tensor({1, 3, size, size}, 13, 120.0f);
}

Case objective_case(int64_t size) {
  Case k;
  k.name = str("vgg_objective_", size);
  k.params = {{"size", str(size)}, {"weights", weights_path()}};
  for (const VggConv& c : kConvs)  // forward and backward input of conv1_1..conv5_1
    k.flops += 2.0 * c.count * conv_flops(c, size / c.scale);
  auto d = std::make_shared<std::unique_ptr<ObjectiveData>>();
  k.verify = [] {
    for (const VggConv& c : kConvs)
      if (std::string e = verify_conv(c.C, c.OC); !e.empty()) return str(c.name, " ", e);
    return std::string();
  };
  k.prepare = [d, size] {
    *d = std::make_unique<ObjectiveData>();
    prepare_objective(**d, size);
  };
  k.run = [d] { (*d)->objective->evaluate((*d)->x, &(*d)->grad); };
  k.release = [d] { d->reset(); };
  return k;
}

}  // namespace

std::vector<Case> vgg_cases() {
  std::vector<Case> cases;
  for (int64_t size : {256, 512, 1024}) {
    cases.push_back(objective_case(size));
    for (const VggConv& c : kConvs) {
      cases.push_back(layer_case(c, size, true));
      cases.push_back(layer_case(c, size, false));
    }
  }
  return cases;
}

}  // namespace nst::bench
