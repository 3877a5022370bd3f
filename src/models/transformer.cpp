#include "models/transformer.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <optional>
#include <utility>

#include "nn/conv2d.hpp"
#include "nn/conv_transpose2d.hpp"
#include "nn/elementwise.hpp"
#include "nn/instance_norm.hpp"
#include "nn/pad.hpp"
#include "nn/upsample.hpp"
#include "nn/relu.hpp"
#include "io/image.hpp"
#include "nn/style_mix.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

bool any_grad(const std::initializer_list<const Var*> vars) {
  return std::any_of(vars.begin(), vars.end(), [](const Var* v) { return v->requires_grad(); });
}

const Var& param(const std::map<std::string, Var>& params, const std::string& name) {
  const auto it = params.find(name);
  NST_CHECK(it != params.end(), "transformer: no parameter '", name, "' bound");
  return it->second;
}

std::string shape_text(const std::vector<int64_t>& dims) {
  return Shape(dims.begin(), dims.end()).to_string();
}

}  // namespace

io::InputConvention Transformer::rgb255() {
  io::InputConvention c;
  c.order = io::ChannelOrder::RGB;
  c.pixel_range = 255.0f;
  return c;
}

Transformer::Transformer(TransformerSpec spec, std::map<std::string, Tensor> params,
                         io::InputConvention input, std::string where)
    : spec_(std::move(spec)), params_(std::move(params)), input_(input) {
  std::set<std::string> expected;
  for (const ParamShape& p : transformer_param_shapes(spec_)) {
    expected.insert(p.name);
    const auto it = params_.find(p.name);
    NST_CHECK(it != params_.end(), where, ": tensor ", p.name, " is missing (the network needs ",
              shape_text(p.shape), ")");
    NST_CHECK(it->second.shape() == Shape(p.shape.begin(), p.shape.end()), where, ": tensor ",
              p.name, " has shape ", it->second.shape().to_string(), ", the network needs ",
              shape_text(p.shape));
  }
  for (const auto& [name, t] : params_)
    NST_CHECK(expected.count(name), where, ": tensor ", name,
              " is not part of the network description");
}

Transformer Transformer::load(const std::string& path) {
  const io::WeightFile f = io::WeightFile::open(path);
  NST_CHECK(!f.metadata().network.empty(), "model '", path,
            "': no network description: not a feed-forward style model (a VGG-19 weight file? "
            "make one with `nst convert --from ml5` or `make models`)");
  TransformerSpec spec = parse_transformer_spec(f.metadata().network, path);
  std::map<std::string, Tensor> params;
  for (const std::string& name : f.names()) params.emplace(name, f.tensor(name));
  return Transformer(std::move(spec), std::move(params), f.metadata().input, "model '" + path + "'");
}

std::map<std::string, Var> Transformer::bind(Tape& tape, bool trainable) const {
  std::map<std::string, Var> vars;
  for (const auto& [name, t] : params_)
    vars.emplace(name, trainable ? tape.variable(t) : tape.constant(t));
  return vars;
}

Var Transformer::input(Tape& tape, Var x) const {
  NST_CHECK(x.shape().rank() == 4 && x.shape()[1] == spec_.input_channels,
            "transformer: input must be [N, ", spec_.input_channels, ", H, W], got ",
            x.shape().to_string());
  NST_CHECK(x.shape()[2] >= 1 && x.shape()[3] >= 1, "transformer: empty input image ",
            x.shape().to_string());
  const io::InputConvention& in = input_;
  const bool identity = in.order == io::ChannelOrder::RGB && in.pixel_range == 255.0f &&
                        in.mean == std::array<float, 3>{0, 0, 0} &&
                        in.std == std::array<float, 3>{1, 1, 1};
  if (identity) return x;
  // x'[c] = (x[src(c)] / 255 * range - mean[c]) / std[c]: the photo is data, not
  // a parameter, so this is computed outside the tape.
  NST_CHECK(!x.requires_grad(), "transformer: input conventions other than RGB 0..255 take "
            "a constant input");
  const Tensor& v = x.value();
  Tensor out = Tensor::empty(v.shape());
  const int64_t N = v.n(), M = v.h() * v.w();
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < 3; ++c) {
      const int64_t src = in.order == io::ChannelOrder::RGB ? c : 2 - c;
      const float a = in.pixel_range / 255.0f / in.std[size_t(c)];
      const float b = -in.mean[size_t(c)] / in.std[size_t(c)];
      affine_reference_forward(out.data() + (n * 3 + c) * M, v.data() + (n * 3 + src) * M, a, b, M);
    }
  return tape.constant(out);
}

// The region masks [S, 1, H, W] at the photo's size, resized (antialiased
// bilinear) to each activation size a norm layer meets and normalised per
// pixel: [S, h * w] weights summing to 1.
class RegionWeights {
 public:
  explicit RegionWeights(Tensor masks) : masks_(std::move(masks)) {}
  const Tensor& at(int64_t h, int64_t w) {
    auto it = cache_.find({h, w});
    if (it != cache_.end()) return it->second;
    const int64_t S = masks_.dim(0), M = h * w;
    Tensor m = resize_image(masks_, h, w).reshape({S, M});
    for (int64_t i = 0; i < M; ++i) {
      double sum = 0.0;
      for (int64_t s = 0; s < S; ++s) sum += std::max(0.0f, m[s * M + i]);
      for (int64_t s = 0; s < S; ++s)
        m[s * M + i] = sum > 0.0 ? float(std::max(0.0f, m[s * M + i]) / sum) : 1.0f / float(S);
    }
    return cache_.emplace(std::make_pair(h, w), m).first->second;
  }

 private:
  Tensor masks_;
  std::map<std::pair<int64_t, int64_t>, Tensor> cache_;
};

std::vector<std::string> Transformer::style_names() const {
  if (!spec_.styles.empty()) return spec_.styles;
  return {"style 0"};
}

Tensor Transformer::style_one_hot(int64_t k, int64_t n) const {
  const int64_t S = style_count();
  NST_CHECK(k >= 0 && k < S, "style index ", k, " is out of range: the network has ", S,
            S == 1 ? " style (index 0)" : " styles (indices 0.." + std::to_string(S - 1) + ")");
  std::vector<double> w(size_t(S), 0.0);
  w[size_t(k)] = 1.0;
  return style_mix(w, n);
}

Tensor Transformer::style_mix(const std::vector<double>& weights, int64_t n) const {
  const int64_t S = style_count();
  NST_CHECK(int64_t(weights.size()) == S, "a style mix of ", weights.size(),
            weights.size() == 1 ? " weight" : " weights", " for a network of ", S,
            S == 1 ? " style" : " styles", ": give one weight per style");
  NST_CHECK(n >= 1, "style mix: batch of ", n);
  Tensor w = Tensor::empty(Shape{n, S});
  for (int64_t i = 0; i < n; ++i)
    for (int64_t s = 0; s < S; ++s) {
      const double v = weights[size_t(s)];
      NST_CHECK(std::isfinite(v) && std::abs(v) <= 1e6, "style mix: weight ", v,
                " is not a finite number of at most 1e6");
      w[i * S + s] = float(v);
    }
  return w;
}

Var Transformer::layer(Tape& tape, const std::map<std::string, Var>& params, const LayerSpec& L,
                       Var h, const Var& style, RegionWeights* regions) const {
  if (L.op == LayerOp::residual) {
    const Var x = h;
    for (const LayerSpec& b : L.body) h = layer(tape, params, b, h, style, regions);
    if (!any_grad({&x, &h})) {
      Tensor sum = h.value();  // the body's own output: add in place
      add_forward(sum, sum, x.value());
      return h;
    }
    return add(tape, h, x);
  }
  const Var& weight = param(params, L.name + ".weight");
  const Var bias = L.bias ? param(params, L.name + ".bias") : Var();
  if (L.upsample > 1) h = upsample_nearest(tape, h, L.upsample);
  const int64_t H = h.shape()[2], W = h.shape()[3];
  if (L.op == LayerOp::conv && L.padding == Padding::reflect) {
    // The same geometry as zero padding, its border mirrored in first.
    Conv2dParams p = Conv2dParams::same(L.kernel, L.kernel, L.stride, H, W);
    h = reflect_pad(tape, h, Pad2d{p.pad_top, p.pad_bottom, p.pad_left, p.pad_right});
    p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = 0;
    h = conv2d(tape, h, weight, bias, p);
  } else if (L.op == LayerOp::conv) {
    h = conv2d(tape, h, weight, bias, Conv2dParams::same(L.kernel, L.kernel, L.stride, H, W));
  } else {
    h = conv_transpose2d(tape, h, weight, bias,
                         ConvTranspose2dParams::same(L.kernel, L.kernel, L.stride));
  }
  if (L.norm == NormKind::instance) {
    // Conditional instance norm: each sample's scale and shift rows are its
    // mix of the style table's rows. Without a style: the one row of a
    // single-style network.
    Var scale = param(params, L.name + ".norm.scale");
    Var shift = param(params, L.name + ".norm.shift");
    if (regions) {  // inference: each pixel its own mix (checked in forward)
      Tensor t = h.value();
      instance_norm_spatial_forward(t, t, scale.value(), shift.value(),
                                    regions->at(t.h(), t.w()), L.eps, L.relu);
      return h;
    }
    if (style.defined()) {
      scale = nst::style_mix(tape, scale, style);
      shift = nst::style_mix(tape, shift, style);
    }
    if (any_grad({&h, &scale, &shift})) return instance_norm(tape, h, scale, shift, L.eps, L.relu);
    // Inference: the conv's output is ours alone; normalise it in place.
    Tensor t = h.value();
    Tensor rstd = Tensor::empty(Shape{t.n(), t.c()});
    instance_norm_forward(t, rstd, t, scale.value(), shift.value(), L.eps, L.relu);
    return h;
  }
  if (!L.relu) return h;
  if (h.requires_grad()) return relu(tape, h);
  Tensor t = h.value();
  relu_forward(t, t);
  return h;
}

Var Transformer::forward(Tape& tape, const std::map<std::string, Var>& params, Var x,
                         const Var& style_given, const Tensor& region_masks) const {
  const int64_t batch = x.shape()[0];
  std::optional<RegionWeights> regions;
  if (region_masks.defined()) {
    NST_CHECK(!style_given.defined(), "transformer: give style weights or region masks, not both");
    NST_CHECK(batch == 1 && !x.requires_grad(), "transformer: region masks paint one photo (inference)");
    for (const auto& [name, v] : params)
      NST_CHECK(!v.requires_grad(), "transformer: region masks are for inference (", name,
                " is trainable)");
    NST_CHECK(region_masks.rank() == 4 && region_masks.dim(0) == style_count() &&
                  region_masks.dim(1) == 1 && region_masks.dim(2) == x.shape()[2] &&
                  region_masks.dim(3) == x.shape()[3],
              "transformer: region masks ", region_masks.shape().to_string(), " must be [S, 1, H, W] = ",
              Shape{style_count(), 1, x.shape()[2], x.shape()[3]}.to_string());
    regions.emplace(region_masks);
  }
  Var h = input(tape, std::move(x));
  // A multi-style network always mixes (style 0 unless told); a single-style
  // one only when asked (its [C] rows are a one-style table).
  Var style = style_given;
  if (!style.defined() && !spec_.styles.empty()) style = tape.constant(style_one_hot(0, batch));
  if (style.defined())
    NST_CHECK(style.shape() == (Shape{batch, style_count()}), "transformer: style weights ",
              style.shape().to_string(), " must be [N, S] = ",
              Shape{batch, style_count()}.to_string());
  // Inference on a large photo: each activation size outside the residual
  // blocks occurs once or twice per pass, so the buffers the pool keeps for
  // reuse would add up to more than what is live (a 4K photo: 2.5 GB instead of
  // 1.7). Free them before each such layer. Below kReleaseAbovePixels the
  // cached buffers cost under 600 MB and serve the next photo of a batch.
  constexpr int64_t kReleaseAbovePixels = int64_t{1} << 22;
  const bool release = !h.requires_grad() && h.shape()[0] * h.shape()[2] * h.shape()[3] >
                                                 kReleaseAbovePixels;
  const LayerSpec* previous = nullptr;
  for (const LayerSpec& L : spec_.layers) {
    const bool repeats = previous && previous->op == LayerOp::residual && L.op == LayerOp::residual;
    if (release && !repeats) BufferPool::global().release_cached();
    h = layer(tape, params, L, std::move(h), style, regions ? &*regions : nullptr);
    previous = &L;
  }
  const OutputSpec& o = spec_.output;
  if (o.kind == OutputSpec::Kind::tanh) {
    if (h.requires_grad()) return affine(tape, nst::tanh(tape, h), o.scale, o.offset);
    Tensor t = h.value();
    tanh_forward(t, t);
    affine_forward(t, t, o.scale, o.offset);
    return h;
  }
  if (h.requires_grad()) return affine(tape, h, o.scale, o.offset);
  Tensor t = h.value();
  affine_forward(t, t, o.scale, o.offset);
  return h;
}

Tensor Transformer::stylize(const Tensor& rgb, const Tensor& style, const Tensor& regions) const {
  NST_CHECK(rgb.rank() == 4 && rgb.n() == 1 && rgb.c() == 3, "stylize: the photo must be [1, 3, H, W], got ",
            rgb.shape().to_string());
  Tape tape;
  Tensor y;
  {
    const std::map<std::string, Var> vars = bind(tape, false);
    y = forward(tape, vars, tape.constant(rgb), style.defined() ? tape.constant(style) : Var(),
                regions)
            .value();
  }
  const int64_t H = rgb.h(), W = rgb.w();
  NST_CHECK(y.h() >= H && y.w() >= W, "stylize: the network's output ", y.shape().to_string(),
            " does not cover the photo (", H, " x ", W, "): its strides do not cancel");
  Tensor out = Tensor::empty(Shape{1, 3, H, W});
  const float lo = spec_.output.min, hi = spec_.output.max;
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < H; ++i) {
      const float* src = y.data() + (c * y.h() + i) * y.w();
      float* dst = out.data() + (c * H + i) * W;
      for (int64_t j = 0; j < W; ++j) dst[j] = std::clamp(src[j], lo, hi);
    }
  return out;
}

int64_t Transformer::inference_peak_bytes(int64_t H, int64_t W) const {
  constexpr int64_t kFloat = 4;
  int64_t h = H, w = W, channels = spec_.input_channels, peak_pair = 0;
  auto step = [&](const LayerSpec& L, int64_t live_besides) {
    int64_t in = channels * h * w;
    if (L.upsample > 1) {  // the upsampled copy is made while the input is live
      h *= L.upsample;
      w *= L.upsample;
      const int64_t up = channels * h * w;
      peak_pair = std::max(peak_pair, in + up + live_besides);
      in = up;
    }
    if (L.op == LayerOp::conv && L.padding == Padding::reflect) {
      // The mirrored copy is made while the input is live, then replaces it.
      const int64_t padded = channels * (h + L.kernel - 1) * (w + L.kernel - 1);
      peak_pair = std::max(peak_pair, in + padded + live_besides);
      in = padded;
    }
    if (L.op == LayerOp::conv) {
      h = (h + L.stride - 1) / L.stride;
      w = (w + L.stride - 1) / L.stride;
    } else {
      h *= L.stride;
      w *= L.stride;
    }
    channels = L.out;
    peak_pair = std::max(peak_pair, in + channels * h * w + live_besides);
  };
  for (const LayerSpec& L : spec_.layers) {
    if (L.op != LayerOp::residual) {
      step(L, 0);
      continue;
    }
    const int64_t x = channels * h * w;  // the block's input stays until the add
    for (const LayerSpec& b : L.body) step(b, x);
  }
  int64_t weights = 0;
  for (const auto& [name, t] : params_) weights += t.numel();
  const int64_t photo = 3 * H * W, raw_out = channels * h * w;
  return kFloat * (photo + peak_pair + raw_out + photo + weights) + (int64_t(40) << 20);
}

WrittenFile Transformer::save(const std::string& path, const std::string& source,
                       const std::string& source_checksum) const {
  io::WeightMetadata meta;
  meta.input = input_;
  meta.source = source;
  meta.source_checksum = source_checksum;
  meta.network = transformer_spec_json(spec_);
  std::vector<io::WeightEntry> entries;
  for (const ParamShape& p : transformer_param_shapes(spec_))
    entries.push_back(io::make_float_entry(p.name, params_.at(p.name)));
  return io::write_weight_file(path, meta, entries);
}

}  // namespace nst
