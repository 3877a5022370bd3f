// The multi-scale style-transfer driver: coarse to fine, each scale optimised
// with L-BFGS or Adam from the previous scale's result (upsampled), the first
// from the content photo, noise or a given image.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/vgg19.hpp"
#include "nst/config.hpp"
#include "nst/masks.hpp"
#include "nst/style_objective.hpp"
#include "optim/optimizer.hpp"

namespace nst {

struct IterationInfo {
  size_t scale = 0, scales = 1;  // index of the scale, number of scales
  int64_t height = 0, width = 0;
  int64_t iteration = 0;        // iterations done at this scale
  int64_t iterations = 0;       // planned at this scale
  int64_t done = 0, total = 0;  // over all scales
  LossTerms loss;
  double seconds = 0;  // since the start of the run
};

struct ScaleRecord {
  int64_t height = 0, width = 0, iterations = 0, evaluations = 0;
  double seconds = 0;
  std::string stop_reason;
  std::vector<double> loss_trace;  // total loss after each iteration
};

// Where a run stands between two iterations: enough to continue it exactly.
struct RunState {
  size_t scale = 0;                 // the scale being optimised
  int64_t iteration = 0;            // iterations done at that scale
  int64_t done = 0;                 // iterations done over all scales
  Tensor x;                         // the image, network input space
  std::string optimizer_state;      // LbfgsState/AdamState::save_state bytes
  Tensor average;                   // --average: the running average (undefined when off)
  int64_t average_steps = 0;        // iterations in it
  std::vector<ScaleRecord> scales;  // finished scales, then the current one
};

struct StylizeResult {
  Tensor image;  // RGB 0..255 [1, 3, H, W], original colours applied if asked
  std::vector<ScaleRecord> scales;
  LossTerms final_loss;  // the optimiser's last image, as it holds it (floats, any range)
  // The objective of the picture as written: clipped to 0..255, rounded to 8
  // bits (and with --original-colors, after the colour transfer); and the
  // share of its channel values at 0 or 255. Not computed when interrupted.
  LossTerms saved_loss;
  double saved_clipped_fraction = 0;
  bool interrupted = false;  // stopped by the interrupt callback; `state` says where
  RunState state;
  bool diverged = false;  // NaN/Inf: image is the last good one
  double seconds = 0;
};

struct StylizeCallbacks {
  std::function<void(const IterationInfo&)> on_iteration;            // after every iteration
  std::function<void(const Tensor& rgb, int64_t done)> on_snapshot;  // every save_every iterations
  std::function<bool()> interrupted;                                 // polled between iterations
};

// The default coarse-to-fine schedule for an output of long side `size`: long
// sides growing by sqrt(2) up to `size`, from the smallest at least
// kFirstScale px whose short side (short_over_long times it: the most
// elongated of the photos) is at least kFirstShortSide px. A size below that
// is one scale. 512 -> 128, 181, 256, 362, 512.
inline constexpr int64_t kFirstScale = 128;
inline constexpr int64_t kFirstShortSide = 64;
std::vector<int64_t> coarse_to_fine_scales(int64_t size, double short_over_long = 1.0);
// The long sides of the scales: config.scales, or (empty) the default
// schedule for config.size and photos whose short side is short_over_long
// times their long side.
std::vector<int64_t> scale_sizes(const StylizeConfig& config, double short_over_long = 1.0);
// The most elongated of the photos' short / long side ratios (1 for none).
double short_over_long(const std::vector<Tensor>& images);
// The style images' long side at a scale of long side `size`: style_scale
// times it, rounded, at least 16.
int64_t style_long_side(double style_scale, int64_t size);

// The iteration limit of scale `scale` of `scales`: config.iterations, but at
// the coarsest of several scales config.first_iterations (0: 4 times as many;
// the coarsest scale costs a fraction of the finest and starts from scratch),
// and at the finest config.last_iterations when set.
int64_t scale_iterations(const StylizeConfig& config, size_t scale, size_t scales);
// The optimiser the config names (--optimizer, its history, precision, line
// search and learning rate), for n values, stopping after max_iterations.
std::unique_ptr<Optimizer> make_optimizer(const StylizeConfig& config, int64_t n,
                                          int64_t max_iterations);

// The style targets of each scale (by its long side), kept across runs that
// differ only in their loss weights (nst stylize --style-weights).
using StyleTargetCache = std::map<int64_t, std::vector<std::vector<StyleStatistics>>>;

// Runs the whole job on already loaded images (RGB 0..255) and masks (any
// size: resized to every scale). Its steps, per scale (stylize.cpp):
// prepare_scale, initial_image, make_optimizer, optimise_scale; then finish.
StylizeResult stylize(const StylizeConfig& config, const Vgg19& net, const Tensor& content,
                      const std::vector<Tensor>& styles, const StylizeCallbacks& callbacks,
                      const Tensor& init_image = Tensor(), const RunState* resume = nullptr,
                      const Masks& masks = Masks(), StyleTargetCache* cache = nullptr);

}  // namespace nst
