// The EXIF orientation of JPEGs (io/exif.hpp): the committed files of
// tests/data/exif (made by make_exif_jpegs.py, which checks them against PIL's
// ImageOps.exif_transpose) load as displayed, blocks made from bytes in either byte
// order are read, and corrupt or lying blocks are ignored with one warning.
#include <algorithm>
#include <cmath>
#include <utility>

#include "exif_util.hpp"
#include "io/exif.hpp"
#include "io/file_util.hpp"
#include "io/image.hpp"
#include "io_test_util.hpp"
#include "png_util.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// The definition of the tag (TIFF 6.0 section 8, EXIF 2.3 4.6.4 A): for each
// value, the visual side where the stored 0th row and the stored 0th column appear.
enum class Side { Top, Bottom, Left, Right };
struct Definition {
  Side row0, column0;
};
const Definition kDefinition[9] = {
    {Side::Top, Side::Left},                                   // (0: unused)
    {Side::Top, Side::Left},     {Side::Top, Side::Right},     // 1, 2
    {Side::Bottom, Side::Right}, {Side::Bottom, Side::Left},   // 3, 4
    {Side::Left, Side::Top},     {Side::Right, Side::Top},     // 5, 6
    {Side::Right, Side::Bottom}, {Side::Left, Side::Bottom}};  // 7, 8

bool turned(int k) {
  return kDefinition[k].row0 == Side::Left || kDefinition[k].row0 == Side::Right;
}

// The stored (row, column) shown at displayed (y, x) of a dh x dw display: a
// stored row's index is its distance from the side where row 0 appears, and
// likewise for columns.
std::pair<int64_t, int64_t> stored_pixel(int k, int64_t y, int64_t x, int64_t dh, int64_t dw) {
  const auto distance = [&](Side s) {
    switch (s) {
      case Side::Top:
        return y;
      case Side::Bottom:
        return dh - 1 - y;
      case Side::Left:
        return x;
      case Side::Right:
        return dw - 1 - x;
    }
    return int64_t{-1};
  };
  return {distance(kDefinition[k].row0), distance(kDefinition[k].column0)};
}

// The stored pixels of tests/data/exif: 24 wide, 16 tall, four solid blocks
// (make_exif_jpegs.py draws the same).
constexpr int64_t kH = 16, kW = 24;
struct Rgb {
  float r, g, b;
};
Rgb stored_colour(int64_t row, int64_t column) {
  if (row < 8) return column < 16 ? Rgb{220, 30, 30} : Rgb{30, 200, 40};  // red, green
  return column < 16 ? Rgb{30, 40, 220} : Rgb{230, 220, 40};              // blue, yellow
}

// Largest difference between a displayed image and what orientation k shows.
float worst_difference(const Tensor& img, int k) {
  const int64_t dh = img.dim(2), dw = img.dim(3), plane = dh * dw;
  float worst = 0;
  for (int64_t y = 0; y < dh; ++y)
    for (int64_t x = 0; x < dw; ++x) {
      const auto [row, column] = stored_pixel(k, y, x, dh, dw);
      const Rgb want = stored_colour(row, column);
      const float* p = img.data() + y * dw + x;
      worst = std::max({worst, std::abs(p[0] - want.r), std::abs(p[plane] - want.g),
                        std::abs(p[2 * plane] - want.b)});
    }
  return worst;
}

// The committed image's stored pixels, encoded by stb (no EXIF block).
std::string plain_jpeg() {
  Tensor img = Tensor::empty({1, 3, kH, kW});
  for (int64_t y = 0; y < kH; ++y)
    for (int64_t x = 0; x < kW; ++x) {
      const Rgb c = stored_colour(y, x);
      img[y * kW + x] = c.r;
      img[kH * kW + y * kW + x] = c.g;
      img[2 * kH * kW + y * kW + x] = c.b;
    }
  return encode_jpeg(img, 100);
}

}  // namespace

TEST_CASE("exif: orientations 1..8 of the committed JPEGs load as TIFF 6.0 defines them",
          "[image][exif]") {
  for (int k = 1; k <= 8; ++k) {
    std::vector<std::string> files{"orientation_" + std::to_string(k) + ".jpg"};  // "MM" blocks
    if (k == 6) files.push_back("orientation_6_intel.jpg");                       // an "II" block
    for (const std::string& file : files) {
      INFO(file);
      const std::string path = fixture("exif/" + file);
      CHECK(read_jpeg_orientation(read_file(path)).value == k);
      const CapturedWarnings warnings;
      const Tensor img = load_image(path);
      CHECK(warnings.messages.empty());
      REQUIRE(img.shape() == (turned(k) ? Shape{1, 3, kW, kH} : Shape{1, 3, kH, kW}));
      CHECK(worst_difference(img, k) <= 12);  // JPEG loss at quality 100, 4:4:4
    }
  }
}

TEST_CASE("exif: orientation 6 (rotate 90 clockwise) and 8, spelled out", "[image][exif]") {
  // Stored red top-left, green top-right, blue bottom-left, yellow bottom-right.
  // 6: the stored top row is the right side and the stored left column the top, so
  // red (stored top-left) is displayed top-right, blue top-left, yellow bottom-left.
  const Tensor six = load_image(fixture("exif/orientation_6.jpg"));
  REQUIRE(six.shape() == Shape{1, 3, 24, 16});
  const auto red_at = [](const Tensor& t, int64_t y, int64_t x) { return t[y * t.dim(3) + x]; };
  const auto blue_at = [](const Tensor& t, int64_t y, int64_t x) {
    return t[2 * t.dim(2) * t.dim(3) + y * t.dim(3) + x];
  };
  CHECK(red_at(six, 2, 13) > 200);  // red: top-right
  CHECK(blue_at(six, 2, 2) > 200);  // blue: top-left
  CHECK(red_at(six, 21, 2) > 200);  // yellow (red + green): bottom-left
  CHECK(blue_at(six, 21, 2) < 60);
  // 8: the reverse turn; red is displayed bottom-left.
  const Tensor eight = load_image(fixture("exif/orientation_8.jpg"));
  REQUIRE(eight.shape() == Shape{1, 3, 24, 16});
  CHECK(red_at(eight, 21, 2) > 200);
  CHECK(blue_at(eight, 21, 2) < 60);
  CHECK(blue_at(eight, 21, 13) > 200);  // blue: bottom-right
}

TEST_CASE("exif: apply_orientation moves every value where the definition says", "[exif]") {
  // Small, then several of its 64 x 64 tiles with partial ones at both edges.
  for (const Shape& shape : {Shape{2, 3, 5, 7}, Shape{1, 2, 67, 130}}) {
    const int64_t planes = shape[0] * shape[1], h = shape[2], w = shape[3];
    Tensor img = Tensor::empty(shape);
    for (int64_t i = 0; i < img.numel(); ++i) img[i] = float(i);
    CHECK(apply_orientation(img, 1).data() == img.data());  // 1: the same tensor
    for (int k = 2; k <= 8; ++k) {
      INFO(shape.to_string() << ", orientation " << k);
      const Tensor out = apply_orientation(img, k);
      const int64_t dh = turned(k) ? w : h, dw = turned(k) ? h : w;
      REQUIRE(out.shape() == Shape{shape[0], shape[1], dh, dw});
      int64_t wrong = 0;
      for (int64_t p = 0; p < planes; ++p)
        for (int64_t y = 0; y < dh; ++y)
          for (int64_t x = 0; x < dw; ++x) {
            const auto [row, column] = stored_pixel(k, y, x, dh, dw);
            wrong += out[(p * dh + y) * dw + x] != img[(p * h + row) * w + column];
          }
      CHECK(wrong == 0);
    }
    CHECK_THROWS_WITH(apply_orientation(img, 0), Catch::Contains("not one of 1..8"));
    CHECK_THROWS_WITH(apply_orientation(img, 9), Catch::Contains("not one of 1..8"));
  }
}

TEST_CASE("exif: big- and little-endian blocks, among other entries and segments",
          "[image][exif]") {
  const std::string base = plain_jpeg();
  const TiffEntry width{0x0100, 4, 1, 24};        // ImageWidth, a LONG
  const TiffEntry software{0x0131, 2, 20, 1000};  // Software, ASCII at an offset
  for (const bool big : {kBigEndian, kLittleEndian}) {
    for (uint32_t k = 1; k <= 8; ++k) {
      INFO((big ? "MM" : "II") << ", orientation " << k);
      const std::string jpeg = with_exif(base, tiff_block(big, {width, orientation(k), software}));
      const ExifOrientation o = read_jpeg_orientation(jpeg);
      CHECK(o.value == int(k));
      CHECK(o.problem.empty());
      const CapturedWarnings warnings;
      const Tensor img = load_image_from_memory(jpeg, "x.jpg");
      CHECK(warnings.messages.empty());
      CHECK(img.shape() == (turned(int(k)) ? Shape{1, 3, kW, kH} : Shape{1, 3, kH, kW}));
    }
    // After an XMP APP1 segment (not EXIF): still found.
    const std::string xmp = std::string("http://ns.adobe.com/xap/1.0/\0", 29) + "<x:xmpmeta/>";
    CHECK(read_jpeg_orientation(with_app1(with_exif(base, tiff_block(big, {orientation(6)})), xmp))
              .value == 6);
    // IFD0's link to the next IFD points back at IFD0: not followed, no loop.
    std::string looped = tiff_block(big, {orientation(3)});
    looped.replace(looped.size() - 4, 4,
                   big ? std::string("\0\0\0\x08", 4) : std::string("\x08\0\0\0", 4));
    CHECK(read_jpeg_orientation(with_exif(base, looped)).value == 3);
  }
}

TEST_CASE("exif: no EXIF block, or none with the tag, is silent and changes nothing",
          "[image][exif]") {
  const std::string base = plain_jpeg();
  const std::vector<std::pair<std::string, std::string>> cases{
      {"no EXIF block", base},
      {"no entries", with_exif(base, tiff_block(kBigEndian, {}))},
      {"other tags only", with_exif(base, tiff_block(kLittleEndian, {{0x0100, 4, 1, 24}}))},
      {"EXIF after the first scan",
       base.substr(0, base.size() - 2) +
           with_exif("\xFF\xD8", tiff_block(kBigEndian, {orientation(6)})).substr(2) + "\xFF\xD9"}};
  for (const auto& [what, jpeg] : cases) {
    INFO(what);
    const ExifOrientation o = read_jpeg_orientation(jpeg);
    CHECK(o.value == 1);
    CHECK(o.problem.empty());
    const CapturedWarnings warnings;
    CHECK(load_image_from_memory(jpeg, "x.jpg").shape() == Shape{1, 3, kH, kW});
    CHECK(warnings.messages.empty());
  }
  for (const std::string& not_jpeg :
       {std::string(), std::string("\xFF\xD8", 2), std::string("\xFF\xD8\xFF\xE1\x00", 5),
        std::string("GIF89a")})
    CHECK(read_jpeg_orientation(not_jpeg).value == 1);
}

TEST_CASE("exif: corrupt or lying blocks load as stored, with one warning naming the file",
          "[image][exif]") {
  const std::string base = plain_jpeg();
  for (const bool big : {kBigEndian, kLittleEndian}) {
    const std::string good = tiff_block(big, {orientation(6)});  // 26 bytes
    const std::vector<std::pair<std::string, std::string>> cases{
        {good.substr(0, 14),
         "IFD0 at offset 8, with an entry count of 1, runs past the end of the 14-byte block"},
        {tiff_block(big, {orientation(6)}, 4000),
         "IFD0 offset 4000 is past the end of the 26-byte block"},
        {tiff_block(big, {orientation(6)}, 0xFFFFFFFF), "IFD0 offset 4294967295 is past the end"},
        {tiff_block(big, {orientation(6)}, 8, 0xFFFF),
         "with an entry count of 65535, runs past the end"},
        {tiff_block(big, {{0x0112, 3, 0xFFFFFFFF, 6}}),
         "has type 3 and count 4294967295 instead of SHORT (3) and 1"},
        {tiff_block(big, {{0x0112, 4, 1, 6}}), "has type 4 and count 1 instead of SHORT (3) and 1"},
        {tiff_block(big, {orientation(0)}), "orientation 0 is not one of 1..8"},
        {tiff_block(big, {orientation(9)}), "orientation 9 is not one of 1..8"},
        {tiff_block(big, {orientation(0xFFFF)}), "orientation 65535 is not one of 1..8"},
        {good.substr(0, 3), "the 3-byte block is too short for a TIFF header"},
        {"XX" + good.substr(2), "does not start with a TIFF header"}};
    for (const auto& [tiff, problem] : cases) {
      INFO((big ? "MM" : "II") << ": " << problem);
      const std::string jpeg = with_exif(base, tiff);
      const ExifOrientation o = read_jpeg_orientation(jpeg);
      CHECK(o.value == 1);
      CHECK_THAT(o.problem, Catch::Contains(problem));
      const CapturedWarnings warnings;
      CHECK(load_image_from_memory(jpeg, "x.jpg").shape() == Shape{1, 3, kH, kW});
      REQUIRE(warnings.messages.size() == 1);
      CHECK(warnings.messages[0] ==
            "image 'x.jpg': ignoring its EXIF orientation (" + o.problem + ")");
    }
  }
  // The exact message of the example.
  const CapturedWarnings warnings;
  load_image_from_memory(with_exif(base, tiff_block(kLittleEndian, {orientation(6)}, 4000)),
                         "x.jpg");
  REQUIRE(warnings.messages.size() == 1);
  CHECK(warnings.messages[0] ==
        "image 'x.jpg': ignoring its EXIF orientation (IFD0 offset 4000 is past the end of the "
        "26-byte block)");
  // A file that ends inside its EXIF segment: the block is what is there.
  const std::string cut =
      with_exif(base, tiff_block(kBigEndian, {orientation(6)})).substr(0, 2 + 4 + 6 + 20);
  CHECK_THAT(read_jpeg_orientation(cut).problem,
             Catch::Contains("past the end of the 20-byte block"));
}

TEST_CASE("exif: a PNG is untouched, even with an eXIf chunk", "[image][exif]") {
  // 3 x 2 RGB, then an eXIf chunk (PNG 1.5 extension) saying 6: not applied.
  std::vector<std::string> rows{"\x01\x02\x03\x04\x05\x06\x07\x08\x09",
                                "\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"};
  std::string ihdr;
  put_be32(ihdr, 3);
  put_be32(ihdr, 2);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  std::string raw;
  for (const std::string& row : rows) raw += '\0' + row;
  const std::string png = std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) +
                          png_chunk("eXIf", tiff_block(kBigEndian, {orientation(6)})) +
                          png_chunk("IDAT", zlib_stored(raw)) + png_chunk("IEND", "");
  CHECK(read_jpeg_orientation(png).value == 1);
  const CapturedWarnings warnings;
  const Tensor img = load_image_from_memory(png, "x.png");
  CHECK(warnings.messages.empty());
  REQUIRE(img.shape() == Shape{1, 3, 2, 3});
  CHECK((img[0] == 1 && img[6] == 2 && img[12] == 3));      // (0, 0) as stored
  CHECK((img[5] == 16 && img[11] == 17 && img[17] == 18));  // (1, 2) as stored
}

TEST_CASE("exif: warnings go to the handler in place, and the previous one comes back", "[exif]") {
  const CapturedWarnings outer;
  {
    const CapturedWarnings inner;
    warn("one");
    CHECK(inner.messages == std::vector<std::string>{"one"});
  }
  warn("two");
  CHECK(outer.messages == std::vector<std::string>{"two"});
}
