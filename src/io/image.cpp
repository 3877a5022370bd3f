#include "io/image.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <vector>

#include <stb_image.h>
#include <stb_image_write.h>

#include "io/atomic_write.hpp"
#include "io/exif.hpp"
#include "io/file_util.hpp"
#include "io/warning.hpp"
#include "tensor/check.hpp"

namespace nst {

Tensor load_image(const std::string& path, const ImageLimits& limits) {
  // stb reads at most INT32_MAX bytes: refuse a bigger file before reading it.
  std::error_code ec;
  namespace fs = std::filesystem;
  const uintmax_t size = fs::is_regular_file(path, ec) ? fs::file_size(path, ec) : 0;
  NST_CHECK(ec || size <= uintmax_t{INT32_MAX}, "image '", path, "': the file is ", size,
            " bytes, beyond the limit of ", INT32_MAX, " bytes");
  return load_image_from_memory(read_file(path, "image"), path, limits);
}

namespace {

// Walks a JPEG's marker segments (ITU T.81, B.1) and checks every Huffman table
// (DHT) before stb sees it: stb_image as packaged writes past its 257-entry code
// table when a table declares more than 256 codes. Entropy-coded data after a
// start of scan is skipped to the next marker, so the tables between the scans
// of a progressive JPEG are checked too. Only what stb would misuse is checked
// here; everything else is left to the decoder's own errors.
void check_jpeg_tables(const std::string& bytes, const std::string& name) {
  // Past the end stb reads zeros: so does this walk.
  const auto byte = [&](size_t at) {
    return at < bytes.size() ? static_cast<unsigned char>(bytes[at]) : 0u;
  };
  const size_t n = bytes.size();
  size_t at = 0;
  while (at + 1 < n) {
    if (byte(at) != 0xFF) {  // entropy-coded data, or junk: look for the next marker
      ++at;
      continue;
    }
    const unsigned marker = byte(at + 1);
    if (marker == 0xFF) {  // fill byte
      ++at;
      continue;
    }
    at += 2;
    // Stuffed zero, restart markers, TEM and SOI carry no length.
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
    if (marker == 0xD9) return;  // end of image
    if (at + 2 > n) return;      // truncated: the decoder reports it
    const size_t length = size_t{byte(at)} << 8 | byte(at + 1);
    const size_t end = at + length;
    if (marker == 0xC4) {  // DHT: one or more tables of (class/id, 16 counts, symbols)
      size_t t = at + 2;
      while (t < end) {
        size_t codes = 0;
        for (size_t i = 1; i <= 16; ++i) codes += byte(t + i);
        NST_CHECK(codes <= 256, "image '", name, "': corrupt JPEG (a Huffman table declares ",
                  codes, " codes, at most 256 are possible)");
        t += 17 + codes;
      }
    }
    at = std::max(at + 1, end);  // a length below 2 is the decoder's error, not a loop
  }
}

}  // namespace

Tensor load_image_from_memory(const std::string& bytes, const std::string& name,
                              const ImageLimits& limits) {
  NST_CHECK(!bytes.empty(), "image '", name, "': the file is empty");
  NST_CHECK(bytes.size() <= static_cast<size_t>(INT32_MAX), "image '", name, "': file too large");
  const auto check_size = [&](int64_t w, int64_t h) {
    NST_CHECK(w >= 1 && h >= 1, "image '", name, "': has no pixels (", w, " x ", h, ")");
    NST_CHECK(w <= limits.max_side && h <= limits.max_side && w * h <= limits.max_pixels, "image '",
              name, "': ", w, " x ", h, " pixels is beyond the limit of ", limits.max_pixels,
              " pixels (", limits.max_side, " per side)");
  };
  // PNG: signature, then the IHDR chunk with big-endian width and height (RFC 2083).
  // Read here because stb refuses a huge PNG header with a generic message.
  if (bytes.size() >= 24 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0 &&
      bytes.compare(12, 4, "IHDR") == 0) {
    const auto be32 = [&](size_t at) {
      int64_t v = 0;
      for (size_t i = 0; i < 4; ++i) v = v << 8 | static_cast<unsigned char>(bytes[at + i]);
      return v;
    };
    check_size(be32(16), be32(20));
  }
  // JPEG: FF D8, perhaps after fill bytes (FF), which is what stb takes for one.
  const size_t soi = bytes.find_first_not_of('\xFF');
  if (soi != 0 && soi != std::string::npos && bytes[soi] == '\xD8') check_jpeg_tables(bytes, name);
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  NST_CHECK(stbi_info_from_memory(data, len, &w, &h, &channels), "image '", name,
            "': not a readable image (", stbi_failure_reason(), ")");
  check_size(w, h);
  int w2 = 0, h2 = 0, c2 = 0;
  stbi_uc* px = stbi_load_from_memory(data, len, &w2, &h2, &c2, 0);
  NST_CHECK(px != nullptr, "image '", name, "': cannot decode (", stbi_failure_reason(), ")");
  if (w2 != w || h2 != h || c2 < 1 || c2 > 4) {
    stbi_image_free(px);
    fail("image '", name, "': inconsistent header");
  }
  Tensor img = Tensor::empty({1, 3, h, w});
  const int64_t plane = int64_t{w} * h;
  for (int64_t i = 0; i < plane; ++i) {
    const stbi_uc* p = px + i * c2;
    const bool grey = c2 <= 2;  // 1 = grey, 2 = grey + alpha
    img[i] = p[0];
    img[plane + i] = grey ? p[0] : p[1];
    img[2 * plane + i] = grey ? p[0] : p[2];
  }
  stbi_image_free(px);
  // The pixels as a viewer shows them (io/exif.hpp). The limits checked above hold
  // for the displayed size too: the same two sides, perhaps swapped.
  const ExifOrientation exif = read_jpeg_orientation(bytes);
  if (!exif.problem.empty())
    warn(str("image '", name, "': ignoring its EXIF orientation (", exif.problem, ")"));
  return apply_orientation(img, exif.value);
}

WrittenFile save_image(const std::string& path, const Tensor& rgb, int jpeg_quality) {
  NST_CHECK(rgb.rank() == 4 && rgb.dim(0) == 1 && rgb.dim(1) == 3, "save_image '", path,
            "': expected [1, 3, H, W], got ", rgb.shape().to_string());
  const int64_t h = rgb.dim(2), w = rgb.dim(3), plane = h * w;
  NST_CHECK(h >= 1 && w >= 1 && h <= 65535 && w <= 65535, "save_image '", path,
            "': bad size ", rgb.shape().to_string());
  const std::string ext = file_extension(path);
  NST_CHECK(ext == "png" || ext == "jpg" || ext == "jpeg", "cannot write '", path,
            "': unknown image type '.", ext, "' (use .png or .jpg)");
  std::vector<unsigned char> px(static_cast<size_t>(plane * 3));
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < 3; ++c) {
      const float v = rgb[c * plane + i];
      const float clamped = std::isfinite(v) ? std::clamp(v, 0.0f, 255.0f) : 0.0f;
      px[static_cast<size_t>(i * 3 + c)] = static_cast<unsigned char>(std::lround(clamped));
    }
  // Encoded in memory (stb's file writers ignore failed writes), then written
  // through the one checked writer.
  std::string encoded;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
  };
  const int iw = static_cast<int>(w), ih = static_cast<int>(h);
  const int ok = ext == "png" ? stbi_write_png_to_func(append, &encoded, iw, ih, 3, px.data(), iw * 3)
                              : stbi_write_jpg_to_func(append, &encoded, iw, ih, 3, px.data(), jpeg_quality);
  NST_CHECK(ok != 0 && !encoded.empty(), "cannot write '", path, "': encoding the image failed");
  return write_file_atomically(path, encoded);
}

void fit_long_side(int64_t h, int64_t w, int64_t long_side, int64_t& out_h, int64_t& out_w) {
  NST_CHECK(h >= 1 && w >= 1 && long_side >= 1, "fit_long_side: bad sizes");
  if (h >= w) {
    out_h = long_side;
    out_w = std::max<int64_t>(1, std::llround(double(w) * long_side / double(h)));
  } else {
    out_w = long_side;
    out_h = std::max<int64_t>(1, std::llround(double(h) * long_side / double(w)));
  }
}

namespace {

// Weights of a triangle filter resampling n_in samples to n_out:
// output o gathers inputs [first[o], first[o] + count[o]) with weights taps[o][*].
struct Taps {
  std::vector<int64_t> first, count;
  std::vector<std::vector<float>> weights;
};

Taps triangle_taps(int64_t n_in, int64_t n_out) {
  Taps t;
  const double scale = double(n_in) / double(n_out);
  const double radius = std::max(scale, 1.0);  // widened when shrinking
  for (int64_t o = 0; o < n_out; ++o) {
    const double center = (double(o) + 0.5) * scale;  // in input pixel units
    const int64_t lo = std::max<int64_t>(0, int64_t(std::floor(center - radius)));
    const int64_t hi = std::min<int64_t>(n_in, int64_t(std::ceil(center + radius)));
    std::vector<float> w;
    double sum = 0.0;
    for (int64_t i = lo; i < hi; ++i) {
      const double d = std::abs(double(i) + 0.5 - center) / radius;
      const double v = std::max(0.0, 1.0 - d);
      w.push_back(float(v));
      sum += v;
    }
    if (sum <= 0.0) {  // centre exactly between samples at the border
      w.assign(w.size(), 0.0f);
      w[0] = 1.0f;
      sum = 1.0;
    }
    for (float& v : w) v = float(v / sum);
    t.first.push_back(lo);
    t.count.push_back(hi - lo);
    t.weights.push_back(std::move(w));
  }
  return t;
}

}  // namespace

Tensor resize_image(const Tensor& img, int64_t out_h, int64_t out_w) {
  NST_CHECK(img.rank() == 4, "resize_image: expected NCHW, got ", img.shape().to_string());
  NST_CHECK(out_h >= 1 && out_w >= 1, "resize_image: bad output size ", out_h, " x ", out_w);
  const int64_t n = img.dim(0), c = img.dim(1), h = img.dim(2), w = img.dim(3);
  if (h == out_h && w == out_w) return img.clone();
  const Taps th = triangle_taps(h, out_h), tw = triangle_taps(w, out_w);
  Tensor tmp = Tensor::empty({n, c, h, out_w});  // horizontal pass
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t y = 0; y < h; ++y) {
      const float* src = img.data() + (p * h + y) * w;
      float* dst = tmp.data() + (p * h + y) * out_w;
      for (int64_t x = 0; x < out_w; ++x) {
        float acc = 0.0f;
        for (int64_t k = 0; k < tw.count[x]; ++k) acc += tw.weights[x][k] * src[tw.first[x] + k];
        dst[x] = acc;
      }
    }
  Tensor out = Tensor::empty({n, c, out_h, out_w});  // vertical pass
  for (int64_t p = 0; p < n * c; ++p)
    for (int64_t y = 0; y < out_h; ++y) {
      float* dst = out.data() + (p * out_h + y) * out_w;
      std::fill(dst, dst + out_w, 0.0f);
      for (int64_t k = 0; k < th.count[y]; ++k) {
        const float wk = th.weights[y][k];
        const float* src = tmp.data() + (p * h + th.first[y] + k) * out_w;
        for (int64_t x = 0; x < out_w; ++x) dst[x] += wk * src[x];
      }
    }
  return out;
}

Tensor resize_to_long_side(const Tensor& img, int64_t long_side) {
  int64_t h = 0, w = 0;
  fit_long_side(img.dim(2), img.dim(3), long_side, h, w);
  return resize_image(img, h, w);
}

Tensor shrink_to_long_side(const Tensor& img, int64_t long_side) {
  if (std::max(img.dim(2), img.dim(3)) <= long_side) return img;
  return resize_to_long_side(img, long_side);
}

}  // namespace nst
