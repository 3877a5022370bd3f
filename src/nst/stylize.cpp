#include "nst/stylize.hpp"

#include <chrono>
#include <cmath>
#include <random>
#include <sstream>

#include "io/image.hpp"
#include "nst/adam.hpp"
#include "nst/colour.hpp"
#include "nst/lbfgs.hpp"
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

std::vector<int64_t> scale_sizes(const StylizeConfig& config) {
  return config.scales.empty() ? std::vector<int64_t>{config.size} : config.scales;
}

StylizeResult stylize(const StylizeConfig& config, const Vgg19& net, const Tensor& content,
                      const std::vector<Tensor>& styles_in, const StylizeCallbacks& cb,
                      const Tensor& init_image, const RunState* resume) {
  const auto t0 = Clock::now();
  NST_CHECK(!styles_in.empty(), "stylize: no style image");
  std::vector<Tensor> styles = styles_in;
  if (config.match_histogram)
    for (Tensor& s : styles) s = match_colours(s, content);

  const std::vector<int64_t> sizes = scale_sizes(config);
  StylizeResult result;
  StyleObjective objective(net, config.objective);
  Tensor x;  // the variable, in the network's input space
  const int64_t total = config.iterations * int64_t(sizes.size());
  int64_t done = 0;
  size_t first_scale = 0;
  if (resume) {
    NST_CHECK(resume->scale < sizes.size() && resume->scales.size() == resume->scale + 1 &&
                  resume->iteration >= 0 && resume->iteration <= config.iterations &&
                  resume->done >= resume->iteration && resume->done <= total,
              "resume: the checkpoint (scale ", resume->scale + 1, ", iteration ", resume->iteration,
              ") does not match the scales and iterations of this run");
    first_scale = resume->scale;
    done = resume->done;
    result.scales.assign(resume->scales.begin(), resume->scales.end() - 1);
  }

  for (size_t si = first_scale; si < sizes.size(); ++si) {
    const bool resuming = resume && si == resume->scale;
    const auto ts = Clock::now();
    const Tensor content_s = resize_to_long_side(content, sizes[si]);
    const int64_t h = content_s.dim(2), w = content_s.dim(3);
    check_big_enough(content_s, config.objective, "content image", sizes[si],
                     "use a larger --size / --scales");
    std::vector<Tensor> styles_s;
    for (const Tensor& s : styles) {
      const Tensor style_s =
          resize_to_long_side(s, style_long_side(config.style_scale, sizes[si]));
      check_big_enough(style_s, config.objective, "style image", sizes[si],
                       "use a larger --style-scale or --size");
      styles_s.push_back(net.to_input(style_s));
    }
    objective.set_content(net.to_input(content_s));
    objective.set_styles(styles_s, config.style_blend);

    if (resuming) {
      NST_CHECK(resume->x.shape() == Shape({1, 3, h, w}), "resume: the checkpoint's image is ",
                resume->x.shape().to_string(), ", this scale needs [1, 3, ", h, ", ", w, "]");
      x = resume->x.clone();
    } else if (si > 0) {
      x = resize_image(x, h, w);  // upsample the coarser result
    } else if (config.init == "content") {
      x = net.to_input(content_s);
    } else if (config.init == "noise") {
      // Gaussian noise of standard deviation 0.001 around 0 (the mean colour), seeded.
      x = Tensor::empty(content_s.shape());
      std::mt19937_64 rng(config.seed);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      for (int64_t i = 0; i < x.numel(); ++i) x[i] = 0.001f * normal(rng);
    } else {
      NST_CHECK(init_image.defined(), "stylize: --init '", config.init, "' was not loaded");
      x = net.to_input(resize_image(init_image, h, w));
    }

    const bool use_lbfgs = config.optimizer == "lbfgs";
    ScaleRecord record = resuming ? resume->scales.back() : ScaleRecord();
    record.height = h;
    record.width = w;
    // The newest image whose loss was finite: L-BFGS returns f at the new x,
    // Adam f at the x before its update.
    Tensor last_good = x.clone();
    Tensor before = use_lbfgs ? Tensor() : x.clone();
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

    const int64_t n = x.numel();
    LbfgsOptions lo;
    lo.history = int(config.lbfgs_history);
    lo.bf16_history = config.lbfgs_precision == "bf16";
    lo.lr = config.learning_rate > 0 ? config.learning_rate : 1.0;
    lo.line_search = config.line_search ? LineSearch::strong_wolfe : LineSearch::none;
    lo.max_iterations = config.iterations;
    lo.max_evaluations = config.iterations * 4;
    AdamOptions ao;
    ao.lr = config.learning_rate > 0 ? config.learning_rate : 10.0;
    LbfgsState lbfgs(use_lbfgs ? n : 1, lo);
    AdamState adam(use_lbfgs ? 1 : n, ao);
    int64_t it = 0;
    if (resuming) {
      std::istringstream in(resume->optimizer_state);
      if (use_lbfgs) lbfgs.load_state(in); else adam.load_state(in);
      it = resume->iteration;
    }

    for (; it < config.iterations; ++it) {
      if (cb.interrupted && cb.interrupted()) {
        result.interrupted = true;
        std::ostringstream out;
        if (use_lbfgs) lbfgs.save_state(out); else adam.save_state(out);
        result.state.scale = si;
        result.state.iteration = it;
        result.state.done = done;
        result.state.x = x.clone();
        result.state.optimizer_state = out.str();
        result.state.scales = result.scales;
        ScaleRecord partial = record;
        partial.seconds += seconds_since(ts);
        result.state.scales.push_back(partial);
        break;
      }
      double loss = 0;
      if (use_lbfgs) {
        if (lbfgs.stopped()) break;
        loss = lbfgs_step(lbfgs, x.data(), f);
        record.evaluations = lbfgs.evaluations;
      } else {
        before.copy_from(x);
        loss = adam_step(adam, x.data(), f);
        record.evaluations = it + 1;
      }
      if (non_finite || !std::isfinite(loss) || (use_lbfgs && lbfgs.stop == LbfgsStop::non_finite)) {
        result.diverged = true;
        x = last_good;
        record.stop_reason = "loss or gradient became NaN or infinite";
        break;
      }
      last_good.copy_from(use_lbfgs ? x : before);
      record.loss_trace.push_back(loss);
      ++record.iterations;
      ++done;
      if (cb.on_iteration) {
        IterationInfo info;
        info.scale = si;
        info.scales = sizes.size();
        info.height = h;
        info.width = w;
        info.iteration = it + 1;
        info.iterations = config.iterations;
        info.done = done;
        info.total = total;
        info.loss = last_loss;
        info.loss.total = loss;
        info.seconds = seconds_since(t0);
        cb.on_iteration(info);
      }
      if (cb.on_snapshot && config.save_every > 0 && done % config.save_every == 0)
        cb.on_snapshot(net.from_input(x), done);
    }
    if (record.stop_reason.empty())
      record.stop_reason = result.interrupted ? "interrupted"
                           : use_lbfgs && lbfgs.stopped() && lbfgs.stop != LbfgsStop::max_iterations
                               ? lbfgs_stop_name(lbfgs.stop)
                               : "iterations done";
    record.seconds += seconds_since(ts);
    result.scales.push_back(record);
    if (result.interrupted || result.diverged) break;
  }

  // The loss of the final image, then back to RGB.
  if (x.defined()) result.final_loss = objective.evaluate(x, nullptr);
  Tensor rgb = net.from_input(x);
  for (int64_t i = 0; i < rgb.numel(); ++i) rgb[i] = std::clamp(rgb[i], 0.0f, 255.0f);
  if (config.original_colors) rgb = keep_content_colours(rgb, content);
  result.image = rgb;
  result.seconds = seconds_since(t0);
  return result;
}

}  // namespace nst
