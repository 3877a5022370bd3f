#include "nst/stylize.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>
#include <sstream>

#include "io/image.hpp"
#include "nst/colour.hpp"
#include "optim/optimizer.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The smallest side the network needs to reach `layer`: each pool before it
// halves the image (layer names: conv{b}_{i}, relu{b}_{i}, pool{b}).
int64_t min_side_for(const std::string& layer) {
  const int block = layer.size() > 4 ? layer[4] - '0' : 1;
  const int pools = layer.rfind("pool", 0) == 0 ? block : block - 1;
  return int64_t{1} << std::max(0, pools);
}

void check_big_enough(const Tensor& img, const ObjectiveConfig& o, const char* what,
                      int64_t scale_px, const char* hint) {
  int64_t need = 1;
  std::string deepest;
  for (const auto* list : {&o.content_layers, &o.style_layers})
    for (const std::string& l : *list)
      if (min_side_for(l) > need) {
        need = min_side_for(l);
        deepest = l;
      }
  NST_CHECK(img.dim(2) >= need && img.dim(3) >= need, "stylize: at the ", scale_px,
            " px scale the ", what, " is ", img.dim(3), " x ", img.dim(2),
            " px, too small for layer ", deepest, " (at least ", need, " px per side): ", hint);
}

bool all_finite(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i])) return false;
  return true;
}

}  // namespace

int64_t style_long_side(double style_scale, int64_t size) {
  return std::max<int64_t>(16, std::llround(style_scale * double(size)));
}

std::vector<int64_t> coarse_to_fine_scales(int64_t size, double short_over_long) {
  // Scale k below the output has long side size / sqrt(2)^k; the coarsest kept
  // is the last still at least kFirstScale px long and kFirstShortSide px short
  // (half a pixel of slack for the rounding: 512 reaches 128 exactly).
  std::vector<int64_t> sizes{size};
  for (int k = 1;; ++k) {
    const double s = double(size) / std::pow(std::sqrt(2.0), k);
    if (s < double(kFirstScale) - 0.5 || s * short_over_long < double(kFirstShortSide) - 0.5) break;
    sizes.insert(sizes.begin(), std::llround(s));
  }
  return sizes;
}

std::vector<int64_t> scale_sizes(const StylizeConfig& config, double short_over_long) {
  return config.scales.empty() ? coarse_to_fine_scales(config.size, short_over_long) : config.scales;
}

double short_over_long(const std::vector<Tensor>& images) {
  double r = 1.0;
  for (const Tensor& t : images) {
    const int64_t h = t.dim(2), w = t.dim(3);
    if (h > 0 && w > 0) r = std::min(r, double(std::min(h, w)) / double(std::max(h, w)));
  }
  return r;
}

int64_t scale_iterations(const StylizeConfig& config, size_t scale, size_t scales) {
  if (scales < 2) return config.iterations;
  if (scale == 0) return config.first_iterations > 0 ? config.first_iterations : 4 * config.iterations;
  if (scale + 1 == scales && config.last_iterations > 0) return config.last_iterations;
  return config.iterations;
}

std::unique_ptr<Optimizer> make_optimizer(const StylizeConfig& config, int64_t n,
                                          int64_t max_iterations) {
  if (config.optimizer == "lbfgs") {
    LbfgsOptions o;
    o.history = int(config.lbfgs_history);
    o.bf16_history = config.lbfgs_precision == "bf16";
    o.lr = config.learning_rate > 0 ? config.learning_rate : 1.0;
    o.line_search = config.line_search ? LineSearch::strong_wolfe : LineSearch::none;
    o.max_iterations = max_iterations;
    o.max_evaluations = max_iterations * 4;
    return make_lbfgs(n, o);
  }
  AdamOptions o;
  o.lr = config.learning_rate > 0 ? config.learning_rate : 10.0;
  o.max_iterations = max_iterations;
  return make_adam(n, o);
}

namespace {

// Where the run is: the numbers every progress report carries.
struct Progress {
  Clock::time_point t0;
  size_t scale = 0, scales = 1;
  int64_t height = 0, width = 0, done = 0, total = 0, iterations = 0;
  Tensor average;  // --average over this scale's iterations so far
  int64_t average_steps = 0;
};

// --average DECAY: a <- decay a + (1 - decay) x after every iteration, from a = 0.
void update_average(Progress& p, const Tensor& x, double decay) {
  if (!p.average.defined()) p.average = Tensor::zeros(x.shape());
  const float b = float(decay), c = float(1.0 - decay);
  for (int64_t i = 0; i < x.numel(); ++i) p.average[i] = b * p.average[i] + c * x[i];
  ++p.average_steps;
}

// The average without the pull towards its zero start (as Adam corrects its
// moments): a / (1 - decay^t). A mean of in-range images stays in range.
Tensor averaged_image(const Progress& p, double decay) {
  Tensor out = Tensor::empty(p.average.shape());
  const double k = 1.0 / (1.0 - std::pow(decay, double(p.average_steps)));
  for (int64_t i = 0; i < out.numel(); ++i) out[i] = float(double(p.average[i]) * k);
  return out;
}

// Step 1 of a scale: the photos and masks at its size, checked against the
// deepest layer, become the objective's content target, style Grams and regions.
Tensor prepare_scale(const StylizeConfig& config, const Vgg19& net, StyleObjective& objective,
                     const Tensor& content, const std::vector<Tensor>& styles, const Masks& masks,
                     int64_t size, StyleTargetCache* cache) {
  const Tensor content_s = resize_to_long_side(content, size);
  check_big_enough(content_s, config.objective, "content image", size,
                   "use a larger --size / --scales");
  std::vector<Tensor> styles_s, parts;
  for (size_t k = 0; k < styles.size(); ++k) {
    const Tensor style_s = resize_to_long_side(styles[k], style_long_side(config.style_scale, size));
    check_big_enough(style_s, config.objective, "style image", size,
                     "use a larger --style-scale or --size");
    styles_s.push_back(net.to_input(style_s));
    if (!masks.style_image.empty()) parts.push_back(resize_mask(masks.style_image[k], style_s.h(), style_s.w()));
  }
  const Masks m = masks_at(masks, content_s.h(), content_s.w());
  objective.set_content(net.to_input(content_s), m.content, m.content_weight);
  if (cache && cache->count(size)) {
    objective.set_style_targets(cache->at(size), config.style_blend);
  } else {
    objective.set_styles(styles_s, config.style_blend, parts);
    if (cache) (*cache)[size] = objective.style_targets();
  }
  objective.set_regions(m.style);
  return content_s;
}

// Step 2: the image the scale starts from (network input space): the
// checkpoint's, the coarser scale's result upsampled, or (first scale) the
// content photo, seeded noise or the --init image.
Tensor initial_image(const StylizeConfig& config, const Vgg19& net, const Tensor& content_s,
                     const Tensor& coarser, const Tensor& init_image, const RunState* resuming) {
  const int64_t h = content_s.dim(2), w = content_s.dim(3);
  if (resuming) {
    NST_CHECK(resuming->x.shape() == Shape({1, 3, h, w}), "resume: the checkpoint's image is ",
              resuming->x.shape().to_string(), ", this scale needs [1, 3, ", h, ", ", w, "]");
    return resuming->x.clone();
  }
  if (coarser.defined()) return resize_image(coarser, h, w);
  if (config.init == "content") return net.to_input(content_s);
  if (config.init == "noise") {
    // Gaussian noise of standard deviation 0.001 around 0 (the mean colour), seeded.
    Tensor x = Tensor::empty(content_s.shape());
    std::mt19937_64 rng(config.seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (int64_t i = 0; i < x.numel(); ++i) x[i] = 0.001f * normal(rng);
    return x;
  }
  NST_CHECK(init_image.defined(), "stylize: --init '", config.init, "' was not loaded");
  return net.to_input(resize_image(init_image, h, w));
}

enum class ScaleEnd { finished, interrupted, diverged };

// The --tolerance rule on a scale's losses so far: "" to go on, else why the
// scale ends. Relative decrease over the window: (f[k-w] - f[k]) / |f[k-w]|.
// The trace is in the checkpoint, so a resumed run stops where it would have.
std::string converged(const StylizeConfig& config, const std::vector<double>& trace) {
  const auto w = size_t(config.tolerance_window);
  if (!(config.tolerance > 0) || trace.size() <= w) return "";
  const double before = trace[trace.size() - 1 - w], now = trace.back();
  const double fall = (before - now) / std::max(std::fabs(before), 1e-300);
  if (fall >= config.tolerance) return "";
  std::ostringstream why;
  why << "converged: the loss fell by " << fall * 100 << " % over the last " << w
      << " iterations (--tolerance " << config.tolerance << ")";
  return why.str();
}

// Step 4: iterations `it`..limit of one scale on x, with progress
// reports and snapshots. Interrupted: `state` says where to continue (the
// caller adds the scale and the records).
// Diverged (a NaN or infinite loss or gradient): x is the last image whose
// loss was finite.
ScaleEnd optimise_scale(const StylizeConfig& config, const Vgg19& net, StyleObjective& objective,
                        Optimizer& opt, int64_t it, int64_t limit, Tensor& x, ScaleRecord& record,
                        Progress& progress, const StylizeCallbacks& cb, RunState& state) {
  // The newest image whose loss was finite: L-BFGS reports f at the new x,
  // Adam f at the x before its update.
  Tensor last_good = x.clone();
  Tensor before = opt.loss_after_step() ? Tensor() : x.clone();
  LossTerms last_loss;
  bool non_finite = false;  // some evaluation gave a NaN or infinite loss or gradient
  const Objective f = [&](const float* xp, float* gp) -> double {
    Tensor xt = x;
    if (xp != x.data()) {
      xt = Tensor::empty(x.shape());
      std::copy(xp, xp + x.numel(), xt.data());
    }
    Tensor g;
    last_loss = objective.evaluate(xt, &g);
    std::copy(g.data(), g.data() + g.numel(), gp);
    if (!std::isfinite(last_loss.total) || !all_finite(gp, g.numel())) non_finite = true;
    return last_loss.total;
  };
  for (; it < limit; ++it) {
    if (cb.interrupted && cb.interrupted()) {
      std::ostringstream out;
      opt.save_state(out);
      state.iteration = it;
      state.done = progress.done;
      state.x = x.clone();
      state.optimizer_state = out.str();
      state.average = progress.average.defined() ? progress.average.clone() : Tensor();
      state.average_steps = progress.average_steps;
      return ScaleEnd::interrupted;
    }
    if (opt.stopped()) break;
    if (before.defined()) before.copy_from(x);
    const double loss = opt.step(x.data(), f);
    record.evaluations = opt.evaluations();
    if (non_finite || !std::isfinite(loss) || opt.diverged()) {
      x = last_good;
      record.stop_reason = "loss or gradient became NaN or infinite";
      return ScaleEnd::diverged;
    }
    last_good.copy_from(before.defined() ? before : x);
    if (config.average > 0) update_average(progress, x, config.average);
    record.loss_trace.push_back(loss);
    ++record.iterations;
    ++progress.done;
    if (cb.on_iteration) {
      IterationInfo info;
      info.scale = progress.scale;
      info.scales = progress.scales;
      info.height = progress.height;
      info.width = progress.width;
      info.iteration = it + 1;
      info.iterations = limit;
      info.done = progress.done;
      info.total = progress.total;
      info.loss = last_loss;
      info.loss.total = loss;
      info.seconds = seconds_since(progress.t0);
      cb.on_iteration(info);
    }
    if (cb.on_snapshot && config.save_every > 0 && progress.done % config.save_every == 0)
      cb.on_snapshot(net.from_input(x), progress.done);
    if (const std::string why = converged(config, record.loss_trace); !why.empty()) {
      record.stop_reason = why;
      return ScaleEnd::finished;
    }
  }
  const std::string early = opt.early_stop_reason();
  record.stop_reason = early.empty() ? "iterations done" : early;
  return ScaleEnd::finished;
}

// Step 5: the picture. The final image's loss, then RGB 0..255 with the
// photo's colours if asked.
void finish(const StylizeConfig& config, const Vgg19& net, StyleObjective& objective,
            const Tensor& content, const Tensor& x, const Tensor& picture, StylizeResult& result) {
  if (x.defined()) result.final_loss = objective.evaluate(x, nullptr);
  Tensor rgb = net.from_input(picture);
  for (int64_t i = 0; i < rgb.numel(); ++i) rgb[i] = std::clamp(rgb[i], 0.0f, 255.0f);
  if (config.original_colors) rgb = keep_content_colours(rgb, content);
  result.image = rgb;
  if (!x.defined() || result.interrupted || result.diverged) return;
  // What a reader of the file gets: 8-bit values (save_image rounds the same way).
  Tensor saved = Tensor::empty(rgb.shape());
  int64_t clipped = 0;
  for (int64_t i = 0; i < rgb.numel(); ++i) {
    saved[i] = std::round(std::clamp(rgb[i], 0.0f, 255.0f));
    clipped += saved[i] == 0.0f || saved[i] == 255.0f;
  }
  result.saved_loss = objective.evaluate(net.to_input(saved), nullptr);
  result.saved_clipped_fraction = double(clipped) / double(std::max<int64_t>(rgb.numel(), 1));
}

}  // namespace

StylizeResult stylize(const StylizeConfig& config, const Vgg19& net, const Tensor& content,
                      const std::vector<Tensor>& styles_in, const StylizeCallbacks& cb,
                      const Tensor& init_image, const RunState* resume, const Masks& masks,
                      StyleTargetCache* cache) {
  const auto t0 = Clock::now();
  NST_CHECK(!styles_in.empty(), "stylize: no style image");
  NST_CHECK((masks.style.empty() || masks.style.size() == styles_in.size()) &&
                (masks.style_image.empty() || masks.style_image.size() == styles_in.size()),
            "stylize: ", masks.style.size(), " style masks and ", masks.style_image.size(),
            " style-image masks for ", styles_in.size(), " styles (one each, or none)");
  std::vector<Tensor> styles = styles_in;
  if (config.match_histogram)
    for (Tensor& s : styles) s = match_colours(s, content);

  std::vector<Tensor> photos = styles;
  photos.push_back(content);
  const std::vector<int64_t> sizes = scale_sizes(config, short_over_long(photos));
  StylizeResult result;
  StyleObjective objective(net, config.objective);
  Progress progress;
  progress.t0 = t0;
  progress.scales = sizes.size();
  progress.total = 0;
  for (size_t si = 0; si < sizes.size(); ++si) progress.total += scale_iterations(config, si, sizes.size());
  size_t first_scale = 0;
  if (resume) {
    NST_CHECK(resume->scale < sizes.size() && resume->scales.size() == resume->scale + 1 &&
                  resume->iteration >= 0 &&
                  resume->iteration <= scale_iterations(config, resume->scale, sizes.size()) &&
                  resume->done >= resume->iteration && resume->done <= progress.total,
              "resume: the checkpoint (scale ", resume->scale + 1, ", iteration ",
              resume->iteration, ") does not match the scales and iterations of this run");
    first_scale = resume->scale;
    progress.done = resume->done;
    result.scales.assign(resume->scales.begin(), resume->scales.end() - 1);
  }

  Tensor x;  // the variable, in the network's input space
  for (size_t si = first_scale; si < sizes.size(); ++si) {
    const RunState* resuming = resume && si == resume->scale ? resume : nullptr;
    const auto ts = Clock::now();
    const Tensor content_s = prepare_scale(config, net, objective, content, styles, masks, sizes[si], cache);
    x = initial_image(config, net, content_s, si > 0 ? x : Tensor(), init_image, resuming);
    progress.scale = si;
    progress.average = resuming && resuming->average.defined() ? resuming->average.clone() : Tensor();
    progress.average_steps = resuming ? resuming->average_steps : 0;
    progress.height = content_s.dim(2);
    progress.width = content_s.dim(3);

    const int64_t limit = scale_iterations(config, si, sizes.size());
    std::unique_ptr<Optimizer> opt = make_optimizer(config, x.numel(), limit);
    if (config.bounds == "on") {
      // The pixels' range 0..255 in the network's input space (per channel).
      const Tensor lo = net.to_input(Tensor::zeros(x.shape()));
      const Tensor hi = net.to_input(Tensor::full(x.shape(), 255.0f));
      Box box{std::vector<float>(lo.data(), lo.data() + lo.numel()),
              std::vector<float>(hi.data(), hi.data() + hi.numel())};
      box_project(x.data(), box, x.numel());  // a noise start may begin outside
      opt->set_box(std::move(box));
    }
    ScaleRecord record = resuming ? resuming->scales.back() : ScaleRecord();
    record.height = progress.height;
    record.width = progress.width;
    int64_t it = 0;
    if (resuming) {
      std::istringstream in(resuming->optimizer_state);
      opt->load_state(in);
      it = resuming->iteration;
    }
    const ScaleEnd end =
        optimise_scale(config, net, objective, *opt, it, limit, x, record, progress, cb, result.state);
    record.seconds += seconds_since(ts);
    if (end == ScaleEnd::interrupted) {
      result.interrupted = true;
      result.state.scale = si;
      result.state.scales = result.scales;
      result.state.scales.push_back(record);
      record.stop_reason = "interrupted";
    }
    result.diverged = end == ScaleEnd::diverged;
    result.scales.push_back(record);
    if (end != ScaleEnd::finished) break;
  }
  // With --average the picture is the last scale's average (not after a divergence).
  const bool averaged = config.average > 0 && progress.average_steps > 0 && !result.diverged;
  finish(config, net, objective, content, x, averaged ? averaged_image(progress, config.average) : x, result);
  result.seconds = seconds_since(t0);
  return result;
}

}  // namespace nst
