#include "tools/serve_image.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <stb_image_write.h>

#include "io/image.hpp"
#include "tensor/check.hpp"

namespace nst::serve {

Tensor decode_upload(const std::string& bytes, const std::string& name, int64_t max_pixels) {
  ImageLimits limits;
  limits.max_pixels = max_pixels;
  try {
    return load_image_from_memory(bytes, name, limits);
  } catch (const Error& e) {
    throw RequestError(400, e.what());
  }
}

std::string encode_image(const Tensor& rgb, ImageFormat format) {
  NST_CHECK(rgb.rank() == 4 && rgb.dim(0) == 1 && rgb.dim(1) == 3 && rgb.dim(2) >= 1 &&
                rgb.dim(3) >= 1 && rgb.dim(2) <= 65535 && rgb.dim(3) <= 65535,
            "encode_image: expected [1, 3, H, W], got ", rgb.shape().to_string());
  const int64_t h = rgb.dim(2), w = rgb.dim(3), plane = h * w;
  std::vector<unsigned char> px(size_t(plane * 3));
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < 3; ++c) {
      const float v = rgb[c * plane + i];
      const float clamped = std::isfinite(v) ? std::clamp(v, 0.0f, 255.0f) : 0.0f;
      px[size_t(i * 3 + c)] = static_cast<unsigned char>(std::lround(clamped));
    }
  std::string out;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
  };
  const int iw = int(w), ih = int(h);
  const int ok = format == ImageFormat::png
                     ? stbi_write_png_to_func(append, &out, iw, ih, 3, px.data(), iw * 3)
                     : stbi_write_jpg_to_func(append, &out, iw, ih, 3, px.data(), 90);
  NST_CHECK(ok != 0 && !out.empty(), "encode_image: encoding a ", w, " x ", h, " picture failed");
  return out;
}

Tensor sample_picture(int64_t side) {
  NST_CHECK(side >= 8 && side <= 4096, "sample_picture: side ", side, " is not in 8..4096");
  Tensor img = Tensor::empty({1, 3, side, side});
  const int64_t plane = side * side;
  const double s = double(side);
  for (int64_t y = 0; y < side; ++y)
    for (int64_t x = 0; x < side; ++x) {
      const double u = double(x) / s, v = double(y) / s;  // 0..1, v down
      // Sky: a vertical gradient; the sun a disc; two hills; a house with a roof.
      double r = 90 + 110 * v, g = 150 + 70 * v, b = 235 - 20 * v;
      if (std::hypot(u - 0.75, v - 0.22) < 0.11) r = 255, g = 210, b = 80;
      const double far_hill = 0.62 - 0.12 * std::sin(3.0 * u + 0.5);
      const double near_hill = 0.78 - 0.08 * std::cos(4.0 * u);
      if (v > far_hill) r = 70, g = 130, b = 80;
      if (v > near_hill) r = 110, g = 160, b = 60;
      if (u > 0.18 && u < 0.42 && v > 0.58 && v < 0.8) r = 200, g = 190, b = 170;  // wall
      if (u > 0.27 && u < 0.33 && v > 0.68 && v < 0.8) r = 100, g = 60, b = 40;    // door
      if (v > 0.44 && v <= 0.58 && std::abs(u - 0.3) < (v - 0.44) * 1.1) r = 170, g = 50, b = 40;
      const int64_t i = y * side + x;
      img[i] = float(r);
      img[plane + i] = float(g);
      img[2 * plane + i] = float(b);
    }
  return img;
}

}  // namespace nst::serve
