#include "io/exif.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tensor/check.hpp"

namespace nst {

namespace {

using namespace std::string_view_literals;

template <class... Args>
ExifOrientation ignored(const Args&... why) {
  return {1, str(why...)};
}

// The TIFF block of the first APP1 segment that starts with "Exif\0\0" (ITU T.81
// B.1 for the segments, EXIF 2.3 4.5.4 for APP1), clipped to the end of the file:
// a segment cut short is then caught by the bounds checks of the TIFF walk.
// nullopt when there is no such segment before the first scan, or when the
// segment structure breaks before one (the decoder reports a broken JPEG).
std::optional<std::string_view> find_exif_block(std::string_view bytes) {
  const size_t n = bytes.size();
  const auto byte = [&](size_t at) { return static_cast<unsigned char>(bytes[at]); };
  // SOI = FF D8, perhaps after fill bytes (FF), as stb_image takes it.
  size_t at = bytes.find_first_not_of('\xFF');
  if (at == 0 || at == std::string_view::npos || byte(at) != 0xD8) return std::nullopt;
  ++at;
  while (at < n && byte(at) == 0xFF) {
    while (at < n && byte(at) == 0xFF) ++at;  // fill bytes before the marker code
    if (at == n) return std::nullopt;
    const unsigned marker = byte(at++);
    if (marker == 0xDA || marker == 0xD9) return std::nullopt;  // start of scan, end of image
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // TEM, RSTn, SOI
    if (at + 2 > n) return std::nullopt;
    const size_t length = size_t{byte(at)} << 8 | byte(at + 1);  // counts its own 2 bytes
    if (length < 2) return std::nullopt;
    const size_t payload = at + 2, end = std::min(at + length, n);
    if (marker == 0xE1 && end >= payload + 6 && bytes.substr(payload, 6) == "Exif\0\0"sv)
      return bytes.substr(payload + 6, end - payload - 6);
    at += length;
  }
  return std::nullopt;
}

// The orientation in a TIFF block (TIFF 6.0 section 2: header, then IFDs of
// 2-byte count, 12-byte entries {tag u16, type u16, count u32, value or offset
// u32}, 4-byte link to the next IFD). All reads are at offsets checked below.
ExifOrientation read_tiff_orientation(std::string_view tiff) {
  const uint64_t n = tiff.size();
  if (n < 8) return ignored("the ", n, "-byte block is too short for a TIFF header");
  bool big_endian = false;
  if (tiff.substr(0, 4) == "MM\0*"sv)
    big_endian = true;
  else if (tiff.substr(0, 4) != "II*\0"sv)
    return ignored("the block does not start with a TIFF header (II*\\0 or MM\\0*)");
  const auto read = [&](uint64_t at, int size) {
    uint32_t v = 0;
    for (int i = 0; i < size; ++i) {
      const uint32_t b = static_cast<unsigned char>(tiff[size_t(at) + size_t(i)]);
      v |= big_endian ? b << (8 * (size - 1 - i)) : b << (8 * i);
    }
    return v;
  };
  const uint64_t ifd0 = read(4, 4);
  if (ifd0 + 2 > n)
    return ignored("IFD0 offset ", ifd0, " is past the end of the ", n, "-byte block");
  const uint64_t entries = read(ifd0, 2);
  if (ifd0 + 2 + 12 * entries > n)
    return ignored("IFD0 at offset ", ifd0, ", with an entry count of ", entries,
                   ", runs past the end of the ", n, "-byte block");
  for (uint64_t i = 0; i < entries; ++i) {
    const uint64_t entry = ifd0 + 2 + 12 * i;
    if (read(entry, 2) != 0x0112) continue;
    const uint32_t type = read(entry + 2, 2), count = read(entry + 4, 4);
    if (type != 3 || count != 1)
      return ignored("the orientation tag has type ", type, " and count ", count,
                     " instead of SHORT (3) and 1");
    const uint32_t value = read(entry + 8, 2);  // a SHORT sits in the first 2 bytes
    if (value < 1 || value > 8) return ignored("orientation ", value, " is not one of 1..8");
    return {int(value), ""};
  }
  return {};
}

}  // namespace

ExifOrientation read_jpeg_orientation(const std::string& bytes) {
  const std::optional<std::string_view> tiff = find_exif_block(bytes);
  return tiff ? read_tiff_orientation(*tiff) : ExifOrientation{};
}

Tensor apply_orientation(const Tensor& img, int orientation) {
  NST_CHECK(img.rank() == 4, "apply_orientation: expected [N, C, H, W], got ",
            img.shape().to_string());
  NST_CHECK(orientation >= 1 && orientation <= 8, "apply_orientation: orientation ", orientation,
            " is not one of 1..8");
  if (orientation == 1) return img;
  const int64_t planes = img.dim(0) * img.dim(1), h = img.dim(2), w = img.dim(3);
  const bool swap = orientation >= 5;
  const int64_t out_h = swap ? w : h, out_w = swap ? h : w;
  // Displayed pixel (y, x) shows stored pixel (sy, sx), at index sy * w + sx =
  // origin + y * step_y + x * step_x of its plane:
  //   1: (y, x)          2: (y, w-1-x)          3: (h-1-y, w-1-x)      4: (h-1-y, x)
  //   5: (x, y)          6: (h-1-x, y)          7: (h-1-x, w-1-y)      8: (x, w-1-y)
  struct Walk {
    int64_t origin, step_y, step_x;
  };
  const Walk walks[9] = {{},
                         {0, w, 1},
                         {w - 1, w, -1},
                         {(h - 1) * w + w - 1, -w, -1},
                         {(h - 1) * w, -w, 1},
                         {0, 1, w},
                         {(h - 1) * w, 1, -w},
                         {(h - 1) * w + w - 1, -1, -w},
                         {w - 1, -1, w}};
  const Walk& walk = walks[orientation];
  Tensor out = Tensor::empty({img.dim(0), img.dim(1), out_h, out_w});
  // By 64 x 64 tiles: a turned walk (5..8) reads down the stored columns, and the
  // stored rows that one tile reads stay in cache.
  constexpr int64_t tile = 64;
  for (int64_t p = 0; p < planes; ++p) {
    const float* src = img.data() + p * h * w + walk.origin;
    float* dst = out.data() + p * out_h * out_w;
    for (int64_t y0 = 0; y0 < out_h; y0 += tile)
      for (int64_t x0 = 0; x0 < out_w; x0 += tile)
        for (int64_t y = y0; y < std::min(y0 + tile, out_h); ++y)
          for (int64_t x = x0; x < std::min(x0 + tile, out_w); ++x)
            dst[y * out_w + x] = src[y * walk.step_y + x * walk.step_x];
  }
  return out;
}

}  // namespace nst
