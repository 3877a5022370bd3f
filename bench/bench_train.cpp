// One training step of `nst train` (nst/train.hpp): the published width-32
// transformer forward and backward on a batch of B S x S photos, the VGG-19 to
// relu4_1 forward and backward, the photos' relu2_2 features, one Adam update:
// train_S_bB for S = 128, 256 and B = 4. Needs the VGG-19 weight file
// ($NST_WEIGHTS, default build/vgg19.nstw); the photos and the painting are
// synthetic (the speed does not depend on them). Checked before timing: a
// step gives the same bits twice from the same state.
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>

#include "bench.hpp"
#include "nst/train.hpp"
#include "tensor/check.hpp"

namespace nst::bench {

namespace {

std::string vgg_path() {
  const char* env = std::getenv("NST_WEIGHTS");
  return env && *env ? env : "build/vgg19.nstw";
}

Tensor pattern(int64_t N, int64_t H, int64_t W, double f) {
  Tensor t = Tensor::empty({N, 3, H, W});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float(127.5 + 120 * std::sin(f * double(i % 9973)));
  return t;
}

// Multiply-adds of the VGG-19 convolutions up to conv4_1 at S x S.
double vgg_macs_to_conv4_1(int64_t S) {
  const int64_t layers[][3] = {{3, 64, 1},    {64, 64, 1},   {64, 128, 2},  {128, 128, 2},
                               {128, 256, 4}, {256, 256, 4}, {256, 256, 4}, {256, 256, 4},
                               {256, 512, 8}};
  double macs = 0;
  for (const auto& l : layers) macs += double(l[0] * l[1] * 9) * double(S / l[2]) * double(S / l[2]);
  return macs;
}

// ... and up to conv2_2 (the photos' content features).
double vgg_macs_to_conv2_2(int64_t S) {
  return double(S * S) * 9 * (3 * 64 + 64 * 64) + double(S * S / 4) * 9 * (64 * 128 + 128 * 128);
}

struct TrainData {
  std::optional<Vgg19> vgg;
  std::optional<PerceptualLoss> loss;
  std::optional<Transformer> net;
  std::optional<NetworkAdam> adam;
  Tensor photos;
};

void prepare(TrainData& d, int64_t S, int64_t B) {
  d.vgg.emplace(Vgg19::load(vgg_path(), false, {"relu2_2", "relu4_1"}));
  d.loss.emplace(*d.vgg, PerceptualWeights{}, pattern(1, 512, 384, 0.01));
  d.net.emplace(init_transformer(johnson_transformer(32), 1));
  d.adam.emplace(*d.net, AdamOptions{});
  d.photos = pattern(B, S, S, 0.003);
}

}  // namespace

std::vector<Case> train_cases() {
  std::vector<Case> cases;
  for (int64_t S : {128, 256}) {
    const int64_t B = 4;
    auto data = std::make_shared<TrainData>();
    Case c;
    c.name = str("train_", S, "_b", B);
    c.params = {{"size", std::to_string(S)}, {"batch", std::to_string(B)}};
    // Transformer: forward, input and weight gradients; VGG: forward and input
    // gradient to relu4_1, the photos' forward to relu2_2.
    c.flops = 2.0 * double(B) *
              (3.0 * transformer_macs(johnson_transformer(32), S, S) +
               2.0 * vgg_macs_to_conv4_1(S) + vgg_macs_to_conv2_2(S));
    c.verify = [] {
      TrainData d;
      prepare(d, 32, 2);
      const Transformer start = *d.net;
      std::map<std::string, Tensor> copy;
      for (const auto& [name, t] : start.params()) copy.emplace(name, t.clone());
      Transformer a(start.spec(), copy);
      NetworkAdam adam_a(a, AdamOptions{});
      train_step(a, adam_a, *d.loss, d.photos);
      train_step(*d.net, *d.adam, *d.loss, d.photos);
      for (const auto& [name, t] : a.params()) {
        const Tensor& u = d.net->params().at(name);
        for (int64_t i = 0; i < t.numel(); ++i)
          if (t[i] != u[i]) return str(name, "[", i, "] differs between two identical steps");
      }
      return std::string();
    };
    c.prepare = [data, S, B] { prepare(*data, S, B); };
    c.run = [data] { train_step(*data->net, *data->adam, *data->loss, data->photos); };
    c.release = [data] {
      data->adam.reset();
      data->net.reset();
      data->loss.reset();  // holds a reference to the VGG
      data->vgg.reset();
      data->photos = Tensor();
    };
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace nst::bench
