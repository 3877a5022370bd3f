// EXIF blocks built from bytes for the orientation tests (test_exif.cpp,
// test_cli_errors_exif.cpp): a TIFF block with chosen IFD0 entries, spliced as an
// APP1 segment into a JPEG that stb_image_write encoded; and a warning capture.
//
//   const std::string jpeg = with_exif(encode_jpeg(img), tiff_block(kBigEndian, {orientation(6)}));
#pragma once

#include <stb_image_write.h>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/warning.hpp"
#include "tensor/tensor.hpp"
#include "testing.hpp"

namespace nst::testing {

// One IFD entry (TIFF 6.0 section 2). A SHORT (type 3) value sits in the first
// 2 bytes of the 4-byte value field, any other type's as 4 bytes.
struct TiffEntry {
  uint16_t tag = 0x0112, type = 3;
  uint32_t count = 1, value = 1;
};

inline TiffEntry orientation(uint32_t value) { return {0x0112, 3, 1, value}; }

constexpr bool kBigEndian = true, kLittleEndian = false;

// "II*\0" or "MM\0*", the IFD0 offset (8: right after the header), then IFD0 =
// entry count (`declared` when given, else the true one), the entries, a zero
// link to the next IFD. 8 + 2 + 12 * entries + 4 bytes.
inline std::string tiff_block(bool big_endian, const std::vector<TiffEntry>& entries,
                              uint32_t ifd0 = 8, std::optional<uint16_t> declared = {}) {
  std::string b;
  const auto put = [&](uint32_t v, int size) {
    for (int i = 0; i < size; ++i) {
      const int shift = 8 * (big_endian ? size - 1 - i : i);
      b += char((v >> shift) & 0xff);
    }
  };
  b += big_endian ? std::string("MM\0*", 4) : std::string("II*\0", 4);
  put(ifd0, 4);
  put(declared.value_or(uint16_t(entries.size())), 2);
  for (const TiffEntry& e : entries) {
    put(e.tag, 2);
    put(e.type, 2);
    put(e.count, 4);
    if (e.type == 3) {
      put(e.value, 2);
      put(0, 2);
    } else {
      put(e.value, 4);
    }
  }
  put(0, 4);
  return b;
}

// A JPEG with an APP1 segment holding `payload` right after its SOI.
inline std::string with_app1(const std::string& jpeg, const std::string& payload) {
  REQUIRE(jpeg.compare(0, 2, "\xFF\xD8") == 0);
  REQUIRE(payload.size() + 2 <= 0xFFFF);
  const size_t length = payload.size() + 2;
  std::string app1("\xFF\xE1", 2);
  app1 += char(length >> 8);
  app1 += char(length & 0xff);
  return jpeg.substr(0, 2) + app1 + payload + jpeg.substr(2);
}

// A JPEG with an EXIF block ("Exif\0\0" + tiff) right after its SOI.
inline std::string with_exif(const std::string& jpeg, const std::string& tiff) {
  return with_app1(jpeg, std::string("Exif\0\0", 6) + tiff);
}

// img [1, 3, H, W] (0..255) as a JPEG, in memory.
inline std::string encode_jpeg(const Tensor& img, int quality = 95) {
  const int64_t h = img.dim(2), w = img.dim(3), plane = h * w;
  std::vector<unsigned char> px(size_t(plane * 3));
  for (int64_t i = 0; i < plane; ++i)
    for (int64_t c = 0; c < 3; ++c)
      px[size_t(i * 3 + c)] = static_cast<unsigned char>(std::lround(img[c * plane + i]));
  std::string out;
  const auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), size_t(size));
  };
  REQUIRE(stbi_write_jpg_to_func(append, &out, int(w), int(h), 3, px.data(), quality) != 0);
  return out;
}

// Collects the warnings issued during its lifetime instead of printing them.
class CapturedWarnings {
 public:
  CapturedWarnings()
      : previous_(set_warning_handler([this](const std::string& m) { messages.push_back(m); })) {}
  ~CapturedWarnings() { set_warning_handler(previous_); }
  CapturedWarnings(const CapturedWarnings&) = delete;
  CapturedWarnings& operator=(const CapturedWarnings&) = delete;
  std::vector<std::string> messages;

 private:
  WarningHandler previous_;
};

}  // namespace nst::testing
