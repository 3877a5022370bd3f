#include "nst/fast.hpp"

#include <chrono>

#include "io/image.hpp"
#include "nst/colour.hpp"
#include "tensor/check.hpp"

namespace nst {

FastResult fast_stylize(const Transformer& net, const Tensor& photo, const FastOptions& options) {
  NST_CHECK(options.size >= 0, "fast: size must be >= 0, got ", options.size);
  NST_CHECK(options.blend >= 0.0 && options.blend <= 1.0, "fast: blend must be in 0..1, got ",
            options.blend);
  const Tensor input = options.size > 0 ? resize_to_long_side(photo, options.size) : photo;
  FastResult r;
  const auto t0 = std::chrono::steady_clock::now();
  r.image = net.stylize(input);
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
