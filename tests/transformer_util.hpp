// Random feed-forward networks and photos for the transformer tests.
#pragma once

#include <cmath>
#include <map>
#include <string>

#include "models/transformer.hpp"
#include "testing.hpp"

namespace nst::testing {

// A network with random weights of a plausible scale for its spec.
inline Transformer random_transformer(const TransformerSpec& spec, uint64_t seed) {
  std::map<std::string, Tensor> params;
  for (const ParamShape& p : transformer_param_shapes(spec)) {
    const Shape shape(p.shape.begin(), p.shape.end());
    const bool is_weight = p.name.size() > 7 && p.name.substr(p.name.size() - 7) == ".weight";
    float spread = 0.2f;
    if (is_weight) spread = 1.5f / std::sqrt(float(shape.numel() / shape[0]));
    Tensor t = random_tensor(shape, seed++, -spread, spread);
    if (p.name.find(".norm.scale") != std::string::npos)
      for (int64_t i = 0; i < t.numel(); ++i) t[i] += 1.0f;
    params.emplace(p.name, t);
  }
  return Transformer(spec, std::move(params));
}

// The published architecture (variant 0: zero padding, transposed convs) and
// the one nst train makes (2: reflect padding, nearest upsampling + conv);
// 1 mixes them (reflect padding, transposed convs).
inline TransformerSpec johnson_variant(int variant, int64_t width, int64_t blocks = 5) {
  return johnson_transformer(width, blocks, variant == 0 ? Padding::zero : Padding::reflect,
                             variant == 2 ? Upsampling::nearest : Upsampling::transposed);
}

inline Tensor random_photo(int64_t H, int64_t W, uint64_t seed) {
  Tensor t = random_tensor({1, 3, H, W}, seed, 0.0f, 255.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = std::round(t[i]);
  return t;
}

}  // namespace nst::testing
