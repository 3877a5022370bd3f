// One test per row of docs/errors.md (images and weights here, flags in
// test_cli_errors_flags.cpp): each bad input, given to the real `nst` binary, must
// end it normally (no signal, no hang) with a non-zero exit code and the
// documented message, and leave no output, record or temporary file behind.
#include <sys/stat.h>

#include <fstream>

#include "cli_errors.hpp"
#include "io/weights.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// A tiny, valid weight file: conv1_1 only, with the given weight shape.
std::string small_weights(const ErrorSetup& s, const std::string& name, const Shape& weight_shape) {
  const std::string path = s.file(name);
  io::WeightMetadata meta;
  meta.input = io::caffe_convention();
  meta.source = "test";
  meta.source_checksum = "sha256:" + std::string(64, '0');
  io::write_weight_file(path, meta,
                        {io::make_float_entry("conv1_1.weight", random_tensor(weight_shape, 3)),
                         io::make_float_entry("conv1_1.bias", Tensor::zeros({64}))});
  return path;
}

std::string patched(const ErrorSetup& s, const std::string& from, const std::string& name,
                    const std::function<void(std::vector<uint8_t>&)>& patch) {
  std::vector<uint8_t> bytes = read_bytes(from);
  patch(bytes);
  write_bytes(s.file(name), bytes);
  return s.file(name);
}

// Inputs that load fine: `nst loss` at 16 px on the image as content, style and image.
void expect_loads_fine(const std::string& image) {
  const CliRun r = run_nst({"loss", "--content", image, "--style", image, "--image", image,
                            "--size", "16", "--json", "--weights", default_weights()});
  check_clean_exit(r);
  CHECK(io::parse_json(r.out, "stdout").at("width").as_int() == 16);
}

}  // namespace

// ---------------------------------------------------------------- images

TEST_CASE("cli errors: image missing", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--content", s.file("missing.png")}),
               "image '" + s.file("missing.png") + "': no such file");
}

TEST_CASE("cli errors: image without read permission", "[cli][cli-errors]") {
  const ErrorSetup s;
  REQUIRE(::chmod(s.content.c_str(), 0) == 0);
  // Root reads any file: the run drops to user "nobody", who needs the folder.
  REQUIRE(::chmod(s.file("").c_str(), 0777) == 0);
  CliOptions opt;
  opt.unprivileged = true;
  expect_error(s, s.stylize(), "image '" + s.content + "': cannot open (Permission denied)", opt);
}

TEST_CASE("cli errors: image is a folder", "[cli][cli-errors]") {
  const ErrorSetup s;
  std::filesystem::create_directory(s.file("folder.png"));
  expect_error(s, s.stylize({"--content", s.file("folder.png")}), "is a folder, not a file");
}

TEST_CASE("cli errors: image empty", "[cli][cli-errors]") {
  const ErrorSetup s;
  write_text(s.file("empty.png"), "");
  expect_error(s, s.stylize({"--content", s.file("empty.png")}),
               "image '" + s.file("empty.png") + "': the file is empty");
}

TEST_CASE("cli errors: image truncated (PNG)", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string bytes = read_file(s.content);
  write_text(s.file("cut.png"), bytes.substr(0, bytes.size() / 2));
  expect_error(s, s.stylize({"--content", s.file("cut.png")}),
               "image '" + s.file("cut.png") + "': cannot decode");
}

TEST_CASE("cli errors: image truncated (JPEG)", "[cli][cli-errors]") {
  const ErrorSetup s;
  save_image(s.file("full.jpg"), random_pixels(24, 32, 5));
  const std::string bytes = read_file(s.file("full.jpg"));
  write_text(s.file("cut.jpg"), bytes.substr(0, bytes.size() / 2));
  std::filesystem::remove(s.file("full.jpg"));
  expect_error(s, s.stylize({"--content", s.file("cut.jpg")}),
               "image '" + s.file("cut.jpg") + "': cannot decode");
}

TEST_CASE("cli errors: not an image", "[cli][cli-errors]") {
  const ErrorSetup s;
  write_text(s.file("notes.png"), "these are my notes, not a picture\n");
  expect_error(s, s.stylize({"--content", s.file("notes.png")}), "': not a readable image");
}

TEST_CASE("cli errors: image header claims 100000 x 100000", "[cli][cli-errors]") {
  const ErrorSetup s;
  write_text(s.file("liar.png"), png_lying_header_bytes(100000, 100000));
  expect_error(s, s.stylize({"--content", s.file("liar.png")}),
               "': 100000 x 100000 pixels is beyond the limit of 268435456 pixels");
}

TEST_CASE("cli errors: image file beyond 2 GiB", "[cli][cli-errors]") {
  const ErrorSetup s;
  {  // sparse: takes no space
    std::ofstream f(s.file("huge.png"), std::ios::binary);
    f.write("\x89PNG", 4);
  }
  std::filesystem::resize_file(s.file("huge.png"), uintmax_t{3} << 30);
  expect_error(s, s.stylize({"--content", s.file("huge.png")}),
               "': the file is 3221225472 bytes, beyond the limit");
}

TEST_CASE("cli errors: 1x1 image loads and is upsampled", "[cli][cli-errors]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  write_png_channels(s.file("dot.png"), 1, 1, 3, 7);
  expect_loads_fine(s.file("dot.png"));
}

TEST_CASE("cli errors: grey image loads as RGB", "[cli][cli-errors]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  write_png_channels(s.file("grey.png"), 16, 16, 1, 8);
  const Tensor g = load_image(s.file("grey.png"));
  CHECK((g[0] == g[256] && g[0] == g[512]));
  expect_loads_fine(s.file("grey.png"));
}

TEST_CASE("cli errors: RGBA image loads (alpha dropped)", "[cli][cli-errors]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  write_png_channels(s.file("rgba.png"), 16, 16, 4, 9);
  expect_loads_fine(s.file("rgba.png"));
}

TEST_CASE("cli errors: 16-bit image loads (reduced to 8 bits)", "[cli][cli-errors]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  write_text(s.file("deep.png"), png16_bytes(16, 16));
  const Tensor d = load_image(s.file("deep.png"));  // 257 v -> v
  CHECK(d[16 * 2 + 3] == float((3 * 40 + 2 * 20) % 256));
  CHECK(d[256 + 16 * 2 + 3] == float((3 * 40 + 2 * 20 + 60) % 256));
  expect_loads_fine(s.file("deep.png"));
}

TEST_CASE("cli errors: paletted image loads (expanded)", "[cli][cli-errors]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  write_text(s.file("palette.png"), png_paletted_bytes(16, 16));
  const Tensor p = load_image(s.file("palette.png"));          // index (x + y) % 4
  CHECK((p[0] == 255 && p[256] == 0 && p[512] == 0));          // (0, 0): red
  CHECK((p[1] == 0 && p[256 + 1] == 255 && p[512 + 1] == 0));  // (1, 0): green
  expect_loads_fine(s.file("palette.png"));
}

// ---------------------------------------------------------------- weights (--weights)

TEST_CASE("cli errors: weights missing", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--weights", s.file("none.nstw")}),
               "weights '" + s.file("none.nstw") + "': cannot open: No such file or directory");
}

TEST_CASE("cli errors: weights missing from NST_WEIGHTS", "[cli][cli-errors]") {
  const ErrorSetup s;
  CliOptions opt;
  opt.env = {{"NST_WEIGHTS", s.file("env.nstw")}};
  expect_error(s, {"stylize", "--content", s.content, "--style", s.style, "--output", s.output},
               "weights '" + s.file("env.nstw") + "': cannot open", opt);
}

TEST_CASE("cli errors: no weight file at all", "[cli][cli-errors]") {
  const ErrorSetup s;
  // A copy of nst in a folder without vgg19.nstw, and no $NST_WEIGHTS.
  const ScratchDir bin("cli-bin");
  std::filesystem::copy_file(NST_BINARY_PATH, bin.file("nst"));
  CliOptions opt;
  opt.binary = bin.file("nst");
  opt.env = {{"NST_WEIGHTS", ""}};
  expect_error(s, {"stylize", "--content", s.content, "--style", s.style, "--output", s.output},
               "nst: error: no weight file given and '" + bin.file("vgg19.nstw") +
                   "' does not exist: run `make weights`, or pass --weights FILE (or set "
                   "NST_WEIGHTS)",
               opt);
}

TEST_CASE("cli errors: weights truncated", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string good = small_weights(s, "good.nstw", {64, 3, 3, 3});
  const std::string cut = patched(s, good, "cut.nstw", [](auto& b) { b.erase(b.end() - 100, b.end()); });
  expect_error(s, s.stylize({"--weights", cut}), "bytes but the file has");
}

TEST_CASE("cli errors: weights shorter than the header", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string good = small_weights(s, "good.nstw", {64, 3, 3, 3});
  const std::string cut = patched(s, good, "stub.nstw", [](auto& b) { b.erase(b.begin() + 20, b.end()); });
  expect_error(s, s.stylize({"--weights", cut}), "shorter than the 64-byte header");
}

TEST_CASE("cli errors: weights corrupted (a flipped data byte)", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string good = small_weights(s, "good.nstw", {64, 3, 3, 3});
  const std::string bad = patched(s, good, "flip.nstw", [](auto& b) { b[b.size() - 300] ^= 0x10; });
  expect_error(s, s.stylize({"--weights", bad}),
               "tensor conv1_1.weight: checksum mismatch (data corrupted)");
}

TEST_CASE("cli errors: weights with a wrong magic", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string good = small_weights(s, "good.nstw", {64, 3, 3, 3});
  const std::string bad = patched(s, good, "magic.nstw", [](auto& b) { b[0] = 'X'; });
  expect_error(s, s.stylize({"--weights", bad}), "bad magic: not an nst weight file (.nstw)");
}

TEST_CASE("cli errors: weights that are an image", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--weights", s.style}), "weights '" + s.style + "': bad magic");
}

TEST_CASE("cli errors: weights of an unknown format version", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string good = small_weights(s, "good.nstw", {64, 3, 3, 3});
  const std::string bad = patched(s, good, "v3.nstw", [](auto& b) { b[8] = 3; });
  expect_error(s, s.stylize({"--weights", bad}),
               "unsupported format version 3 (this build reads versions 1 and 2)");
}

TEST_CASE("cli errors: weights with a wrong shape", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string w = small_weights(s, "shape.nstw", {64, 3, 5, 5});
  expect_error(s, s.stylize({"--weights", w}),
               "tensor conv1_1.weight: shape [64, 3, 5, 5] but VGG-19 expects [64, 3, 3, 3]");
}

TEST_CASE("cli errors: weights without the VGG-19 layers", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string w = small_weights(s, "partial.nstw", {64, 3, 3, 3});
  expect_error(s, s.stylize({"--weights", w}),
               "tensor conv1_2.weight: missing (not a VGG-19 weight file)");
}
