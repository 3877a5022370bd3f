#include "nst/fast.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "io/image.hpp"
#include "nn/pad.hpp"
#include "nst/colour.hpp"
#include "nst/memory_estimate.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// x [N, C, H, W] with p pixels mirrored on every side (nn/pad.hpp).
Tensor reflect_pad(const Tensor& x, int64_t p) {
  const Pad2d pad{p, p, p, p};
  Tensor out = Tensor::empty(reflect_pad_shape(x.shape(), pad));
  reflect_pad_forward(out, x, pad);
  return out;
}

// The H x W window of x at (p, p).
Tensor crop(const Tensor& x, int64_t p, int64_t H, int64_t W) {
  const int64_t planes = x.n() * x.c(), Hp = x.h(), Wp = x.w();
  Tensor out = Tensor::empty({x.n(), x.c(), H, W});
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t y = 0; y < H; ++y) {
      const float* row = x.data() + (plane * Hp + y + p) * Wp + p;
      std::copy(row, row + W, out.data() + (plane * H + y) * W);
    }
  return out;
}

}  // namespace

FastResult fast_stylize(const Transformer& net, const Tensor& photo, const FastOptions& options) {
  NST_CHECK(options.size >= 0, "fast: size must be >= 0, got ", options.size);
  NST_CHECK(options.blend >= 0.0 && options.blend <= 1.0, "fast: blend must be in 0..1, got ",
            options.blend);
  NST_CHECK(options.style.empty() || !options.regions.defined(),
            "fast: give a style mix or region masks, not both");
  NST_CHECK(options.pad >= 0, "fast: pad must be >= 0, got ", options.pad);
  const Tensor style = options.style.empty() ? Tensor() : net.style_mix(options.style);
  int64_t H = photo.h(), W = photo.w();
  if (options.size > 0) fit_long_side(photo.h(), photo.w(), options.size, H, W);
  const int64_t pad = std::min(options.pad, std::min(H, W) - 1);
  const int64_t need = net.inference_peak_bytes(H + 2 * pad, W + 2 * pad);
  if (options.max_memory_bytes > 0 && need > options.max_memory_bytes) {
    // The estimate grows with the pixel count: scale the long side by the root.
    const double shrink = std::sqrt(double(options.max_memory_bytes) / double(need)) * 0.95;
    const int64_t fit = int64_t(double(std::max(H, W)) * shrink);
    fail("fast: a ", W, " x ", H, " picture needs about ", format_bytes(need),
         " for the network, more than the limit of ", format_bytes(options.max_memory_bytes),
         " (--max-memory, default the available RAM)",
         fit >= 16 ? "; try --size " + std::to_string(fit) : std::string());
  }
  const Tensor input = options.size > 0 ? resize_to_long_side(photo, options.size) : photo;
  FastResult r;
  const auto t0 = std::chrono::steady_clock::now();
  const Tensor regions =
      options.regions.defined() ? resize_image(options.regions, input.h(), input.w()) : Tensor();
  if (pad > 0) {
    const Tensor padded_regions = regions.defined() ? reflect_pad(regions, pad) : regions;
    r.image = crop(net.stylize(reflect_pad(input, pad), style, padded_regions), pad, input.h(), input.w());
  } else {
    r.image = net.stylize(input, style, regions);
  }
  r.network_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (options.original_colors) r.image = keep_content_colours(r.image, input);
  if (options.blend > 0.0) {
    // result = (1 - blend) * stylised + blend * photo
    const float a = float(options.blend);
    float* out = r.image.data();
    const float* p = input.data();
    for (int64_t i = 0; i < r.image.numel(); ++i) out[i] = (1.0f - a) * out[i] + a * p[i];
  }
  return r;
}

}  // namespace nst
