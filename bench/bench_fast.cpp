// The feed-forward style network (Johnson et al.; the published width 32) on
// one S x S photo: fast_S, for S = 256, 512, 1024. Weights: $NST_MODEL, else
// build/models/la_muse.nstw (`make models`), else random ones of the same
// shapes (the speed is the same). Checked before timing: inference in place
// gives the bits of the recorded tape on a small photo.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>

#include "bench.hpp"
#include "models/transformer.hpp"
#include "tensor/check.hpp"

namespace nst::bench {

namespace {

std::shared_ptr<Transformer> load_network() {
  const char* env = std::getenv("NST_MODEL");
  const std::string path = env && *env ? env : "build/models/la_muse.nstw";
  if (std::filesystem::exists(path)) return std::make_shared<Transformer>(Transformer::load(path));
  const TransformerSpec spec = johnson_transformer(32);
  std::map<std::string, Tensor> params;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<float> dist(-0.05f, 0.05f);
  for (const ParamShape& p : transformer_param_shapes(spec)) {
    Tensor t = Tensor::empty(Shape(p.shape.begin(), p.shape.end()));
    for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(rng);
    params.emplace(p.name, t);
  }
  return std::make_shared<Transformer>(spec, std::move(params));
}

Tensor photo(int64_t H, int64_t W) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<float> dist(0.0f, 255.0f);
  Tensor t = Tensor::empty({1, 3, H, W});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(rng);
  return t;
}

std::string verify(const Transformer& net) {
  const Tensor x = photo(20, 28);
  const Tensor fast = net.stylize(x);
  Tape tape;
  const Var y = net.forward(tape, net.bind(tape, true), tape.constant(x));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 20; ++i)
      for (int64_t j = 0; j < 28; ++j) {
        const float want = std::clamp(y.value().at(0, c, i, j), 0.0f, 255.0f);
        if (fast.at(0, c, i, j) != want)
          return str("pixel (", c, ", ", i, ", ", j, ") = ", fast.at(0, c, i, j),
                     ", the recorded tape gives ", want);
      }
  return "";
}

}  // namespace

std::vector<Case> fast_cases() {
  std::vector<Case> cases;
  for (int64_t S : {256, 512, 1024}) {
    auto net = std::make_shared<std::shared_ptr<Transformer>>();
    auto x = std::make_shared<Tensor>();
    Case c;
    c.name = "fast_" + std::to_string(S);
    c.params = {{"size", std::to_string(S)}};
    c.flops = 2.0 * transformer_macs(johnson_transformer(32), S, S);
    c.prepare = [net, x, S] {
      *net = load_network();
      *x = photo(S, S);
    };
    c.verify = [net] {
      if (!*net) *net = load_network();
      return verify(**net);
    };
    c.run = [net, x] { (*net)->stylize(*x); };
    c.release = [net, x] {
      net->reset();
      *x = Tensor();
    };
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace nst::bench
