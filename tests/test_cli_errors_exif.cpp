// The EXIF rows of docs/errors.md through the real `nst` binary: a JPEG stored
// sideways with orientation 6 is stylised, evaluated and classified upright, and
// a corrupt EXIF block gives one warning and the image as stored.
#include "cli_errors.hpp"
#include "cli_stylize.hpp"
#include "exif_util.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// 150 wide x 200 tall as stored, orientation 6 (rotate 90 clockwise): displayed
// 200 x 150 with a bright left half and a dark right half. Displayed (y, x) shows
// stored (199 - x, y), so the stored bottom half (rows 100..199) is the bright one.
std::string sideways_jpeg(const ErrorSetup& s) {
  Tensor stored = Tensor::empty({1, 3, 200, 150});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 200; ++y)
      for (int64_t x = 0; x < 150; ++x) stored[(c * 200 + y) * 150 + x] = y >= 100 ? 230.0f : 25.0f;
  const std::string path = s.file("phone.jpg");
  write_text(path, with_exif(encode_jpeg(stored), tiff_block(kBigEndian, {orientation(6)})));
  return path;
}

float mean_of_columns(const Tensor& img, int64_t x0, int64_t x1) {
  double sum = 0;
  int64_t n = 0;
  for (int64_t p = 0; p < img.dim(0) * img.dim(1); ++p)
    for (int64_t y = 0; y < img.dim(2); ++y)
      for (int64_t x = x0; x < x1; ++x, ++n) sum += img[(p * img.dim(2) + y) * img.dim(3) + x];
  return float(sum / double(n));
}

}  // namespace

TEST_CASE("cli errors: JPEG with EXIF orientation 6 is stylised upright (landscape)",
          "[cli][cli-errors][exif]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  const std::string phone = sideways_jpeg(s);
  const CliRun r = run_nst(s.stylize({"--content", phone}));  // 1 iteration: near the content
  check_clean_exit(r);
  CHECK(r.err.find("warning") == std::string::npos);
  const Tensor out = load_image(s.output);
  REQUIRE(out.shape() == Shape{1, 3, 24, 32});  // --size 32: long side 32, landscape
  const float left = mean_of_columns(out, 0, 16), right = mean_of_columns(out, 16, 32);
  INFO("mean of the left half " << left << ", right half " << right);
  CHECK(left > right + 50);  // bright on the left, as displayed
}

TEST_CASE("cli errors: JPEG with EXIF orientation 6 is upright in nst loss and nst classify",
          "[cli][cli-errors][exif]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  const std::string phone = sideways_jpeg(s);
  const CliRun loss = run_nst({"loss", "--content", phone, "--style", phone, "--image", phone,
                               "--size", "24", "--json", "--weights", default_weights()});
  check_clean_exit(loss);
  const io::Json j = io::parse_json(loss.out, "stdout");
  CHECK(j.at("width").as_int() == 24);
  CHECK(j.at("height").as_int() == 18);
  check_clean_exit(run_nst({"classify", phone, "--json", "--weights", default_weights()}));
}

TEST_CASE("cli errors: JPEG with a corrupt EXIF orientation loads as stored, with a warning",
          "[cli][cli-errors][exif]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  const std::string bad = s.file("bad.jpg");  // 32 x 24 stored; says 6 at an IFD0 past the end
  write_text(bad, with_exif(encode_jpeg(random_pixels(24, 32, 5)),
                            tiff_block(kLittleEndian, {orientation(6)}, 4000)));
  const CliRun r = run_nst(s.stylize({"--content", bad}));
  check_clean_exit(r);
  CHECK(count_lines_with(r.err, "nst: warning:") == 1);
  CHECK(r.err.find("nst: warning: image '" + bad +
                   "': ignoring its EXIF orientation (IFD0 offset 4000 is past the end of the "
                   "26-byte block)\n") != std::string::npos);
  CHECK(load_image(s.output).shape() == Shape{1, 3, 24, 32});  // as stored
}
