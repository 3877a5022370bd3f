#include "nst/memory_estimate.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "io/image.hpp"
#include "models/vgg19.hpp"
#include "nst/stylize.hpp"
#include "optim/adam.hpp"
#include "optim/lbfgs.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

constexpr int64_t kFloat = int64_t(sizeof(float));
constexpr int kBlockConvs[5] = {2, 2, 4, 4, 4};
constexpr int64_t kBlockChannels[5] = {64, 128, 256, 512, 512};

struct Activations {
  int64_t kept = 0;     // bytes the tape keeps for backward
  int64_t largest = 0;  // bytes of the largest single activation
};

bool is_wanted(const ObjectiveConfig& o, const std::string& layer) {
  for (const auto* list : {&o.content_layers, &o.style_layers})
    if (std::find(list->begin(), list->end(), layer) != list->end()) return true;
  return false;
}

// Walks VGG-19 on an h x w image up to activation index `deepest`: the layers
// the objective reads stay as floats, every other ReLU as one bit per value,
// every max pool as one byte per output (Vgg19::forward releases the rest).
Activations vgg_activations(const ObjectiveConfig& o, int64_t h, int64_t w, size_t deepest) {
  const auto& names = Vgg19::activation_names();
  Activations a;
  for (int b = 0; b < 5; ++b) {
    const int64_t c = kBlockChannels[b];
    for (int i = 1; i <= kBlockConvs[b]; ++i) {
      const std::string suffix = std::to_string(b + 1) + "_" + std::to_string(i);
      if (size_t(std::find(names.begin(), names.end(), "conv" + suffix) - names.begin()) > deepest)
        return a;
      const bool wanted = is_wanted(o, "relu" + suffix) || is_wanted(o, "conv" + suffix);
      a.kept += wanted ? c * h * w * kFloat : (c * h * w + 7) / 8;
      a.largest = std::max(a.largest, c * h * w * kFloat);
    }
    const std::string pool = "pool" + std::to_string(b + 1);
    if (size_t(std::find(names.begin(), names.end(), pool) - names.begin()) > deepest) return a;
    h = (h + 1) / 2;  // ceil: an upper bound whatever the rounding
    w = (w + 1) / 2;
    a.kept += c * h * w * (is_wanted(o, pool) ? kFloat : 1);
  }
  return a;
}

}  // namespace

MemoryEstimate estimate_stylize_memory(const StylizeConfig& config, int64_t content_h,
                                       int64_t content_w, int64_t style_h, int64_t style_w,
                                       int64_t weight_file_bytes) {
  NST_CHECK(content_h > 0 && content_w > 0 && style_h > 0 && style_w > 0 && weight_file_bytes >= 0,
            "estimate_stylize_memory: bad sizes: content ", content_h, "x", content_w, ", style ",
            style_h, "x", style_w, ", weight file ", weight_file_bytes, " bytes");
  MemoryEstimate e;
  // The float copies of the convolutions the objective reaches (Vgg19::load
  // keeps no more), and the pages of the mapped file being checked (4 MB at a
  // time) or converted (at most one layer's).
  const auto& names = Vgg19::activation_names();
  const size_t deepest = Vgg19::deepest_activation(config.objective.layers());
  int64_t c_in = 3, conv_bytes = 0, largest_conv = 0;
  for (int b = 0; b < 5; ++b)
    for (int i = 0; i < kBlockConvs[b]; ++i) {
      const std::string conv = "conv" + std::to_string(b + 1) + "_" + std::to_string(i + 1);
      if (size_t(std::find(names.begin(), names.end(), conv) - names.begin()) > deepest) continue;
      const int64_t bytes = (c_in * 9 + 1) * kBlockChannels[b] * kFloat;
      conv_bytes += bytes;
      largest_conv = std::max(largest_conv, bytes);
      c_in = kBlockChannels[b];
    }
  e.weights = conv_bytes + std::min(largest_conv, weight_file_bytes) + (int64_t(4) << 20);

  const std::vector<int64_t> sizes = scale_sizes(config);
  const int64_t long_side = *std::max_element(sizes.begin(), sizes.end());
  int64_t h = 0, w = 0, sh = 0, sw = 0;
  fit_long_side(content_h, content_w, long_side, h, w);
  const int64_t style_long = style_long_side(config.style_scale, long_side);
  fit_long_side(style_h, style_w, style_long, sh, sw);

  // The style images' forward passes (set_styles) end before x's begins and
  // give their buffers back: the larger of the two forwards counts.
  const Activations ax = vgg_activations(config.objective, h, w, deepest);
  const Activations as = vgg_activations(config.objective, sh, sw, deepest);
  e.activations = std::max(ax.kept + ax.largest, 2 * as.largest);
  // The gradient flowing back, the one made, and the buffer pool's idle ones
  // of the same size (it keeps a freed buffer for the next of its size).
  e.backward = 3 * ax.largest;
  // With --style-mask: the masked Gram's copy F√w (forward) or its gradient
  // before the mask's weights (backward), one style layer at a time.
  if (!config.masks.style_masks.empty()) e.backward += ax.largest;

  const int64_t n = 3 * h * w;
  if (config.optimizer == "adam") {
    e.optimizer = adam_memory_bytes(n);
  } else {
    LbfgsOptions o;
    o.history = int(std::clamp<int64_t>(config.lbfgs_history, 1, 1 << 20));
    o.bf16_history = config.lbfgs_precision == "bf16";
    o.line_search = config.line_search ? LineSearch::strong_wolfe : LineSearch::none;
    e.optimizer = lbfgs_memory_bytes(n, o);
  }
  // The box's bounds (2 n), and for L-BFGS the projected gradient and the
  // step's start point (2 n more).
  if (config.bounds == "on") e.optimizer += (config.optimizer == "adam" ? 2 : 4) * n * kFloat;
  const int64_t styles = std::max<size_t>(1, config.styles.size());
  const int64_t loaded = 3 * (content_h * content_w + styles * style_h * style_w);
  e.images = (2 * loaded + (config.average > 0 ? 10 : 8) * n + 2 * styles * 3 * sh * sw) * kFloat;
  // Runtime, stb, TBB, the Winograd tile blocks; and the transformed weights of
  // a 512-channel layer (36 x 512 x 512 floats), which only images of more than
  // about 2^17 pixels need whole (smaller ones take the few-tiles schedule of
  // nn/kernels/winograd.cpp, a panel at a time), and which an idle activation
  // buffer holds from 2^17 x 9/8 pixels on (Tensor::scratch borrows it).
  const int64_t transformed_weights = 36 * 512 * 512 * kFloat;
  const bool whole_u = h * w > (int64_t(1) << 17) && ax.largest < transformed_weights;
  e.baseline = (int64_t(36) << 20) + (whole_u ? transformed_weights : 0);
  return e;
}

int64_t available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    long long kb = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %lld kB", &kb) == 1) return int64_t(kb) * 1024;
  }
  return 0;
}

std::string format_bytes(int64_t bytes) {
  char buf[32];
  if (bytes >= (int64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.2f GB", double(bytes) / double(int64_t(1) << 30));
  else
    std::snprintf(buf, sizeof buf, "%.0f MB", double(bytes) / double(1 << 20));
  return buf;
}

void check_memory_limit(const StylizeConfig& config, const MemoryEstimate& e, int64_t limit_bytes) {
  if (limit_bytes <= 0 || e.total() <= limit_bytes) return;
  std::ostringstream hint;
  const std::vector<int64_t> sizes = scale_sizes(config);
  const int64_t long_side = *std::max_element(sizes.begin(), sizes.end());
  // Everything but the weights and the baseline grows with the pixel count.
  const double room = double(limit_bytes - e.weights - e.baseline);
  const double per_pixel = double(e.total() - e.weights - e.baseline);
  if (room > 0) {
    const int64_t fit = int64_t(double(long_side) * std::sqrt(room / per_pixel) * 0.95);
    hint << "; try --size " << std::max<int64_t>(fit / 16 * 16, 16);
  } else {
    hint << "; try a smaller --size";
  }
  if (config.optimizer != "adam" && 5 * e.optimizer > e.total())  // the history is over 20 %
    hint << ", a smaller --lbfgs-history (now " << config.lbfgs_history << ") or --optimizer adam";
  hint << ", or fewer / shallower layers";
  fail("nst stylize: this run needs about ", format_bytes(e.total()), " (activations ",
       format_bytes(e.activations + e.backward), ", optimiser ", format_bytes(e.optimizer),
       ", weights ", format_bytes(e.weights), ") but the limit is ", format_bytes(limit_bytes),
       " (--max-memory, default the available RAM)", hint.str());
}

}  // namespace nst
