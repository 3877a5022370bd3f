#include "nst/fast.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "io/image.hpp"
#include "nst/colour.hpp"
#include "nst/memory_estimate.hpp"
#include "tensor/check.hpp"

namespace nst {

FastResult fast_stylize(const Transformer& net, const Tensor& photo, const FastOptions& options) {
  NST_CHECK(options.size >= 0, "fast: size must be >= 0, got ", options.size);
  NST_CHECK(options.blend >= 0.0 && options.blend <= 1.0, "fast: blend must be in 0..1, got ",
            options.blend);
  NST_CHECK(options.style.empty() || !options.regions.defined(),
            "fast: give a style mix or region masks, not both");
  const Tensor style = options.style.empty() ? Tensor() : net.style_mix(options.style);
  int64_t H = photo.h(), W = photo.w();
  if (options.size > 0) fit_long_side(photo.h(), photo.w(), options.size, H, W);
  const int64_t need = net.inference_peak_bytes(H, W);
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
  r.image = net.stylize(input, style, regions);
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
