// `nst stylize` and `nst loss` with region masks, end to end through the
// binary: a two-style masked run and its record, nst loss's per-style terms and
// exact gradient dump, and every mask error (each named, before any work, with
// nothing written).
#include "cli_errors.hpp"
#include "cli_stylize.hpp"
#include "io/npy.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// A grey mask: white where x < w * split (or >= when !left).
void write_half(const std::string& path, int64_t h, int64_t w, bool left, float split = 0.5f) {
  Tensor t = Tensor::zeros({1, 3, h, w});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x) t[(c * h + y) * w + x] = ((x < float(w) * split) == left) ? 255.0f : 0.0f;
  save_image(path, t);
}

}  // namespace

TEST_CASE("cli masks: a two-style run by region, its record and nst loss's per-style terms", "[cli][masks]") {
  NST_REQUIRE_SHARED("images/the_scream.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-masks");
  write_half(dir.file("left.png"), 30, 40, true);
  write_half(dir.file("right.png"), 45, 60, false);  // another size: resized
  write_half(dir.file("face.png"), 30, 40, true, 0.25f);
  const std::vector<std::string> masked{"--style",        shared_image("the_scream.jpg"),
                                        "--style-mask",   dir.file("left.png"),
                                        "--style-mask",   dir.file("right.png"),
                                        "--content-mask", dir.file("face.png"),
                                        "--content-mask-weight", "4"};
  // Two scales and --original-colors: the masks follow every scale, the colours are the photo's.
  std::vector<std::string> args =
      with(base_args(dir.file("out.png")), {"--iterations", "4", "--size", "48", "--scales", "32,48", "--original-colors"});
  args.insert(args.end(), masked.begin(), masked.end());
  stylize_ok(args);
  const io::Json rec = read_json(dir.file("out.png.json"));
  CHECK(rec.at("style_masks").items().size() == 2);
  CHECK(rec.at("content_mask").as_string() == dir.file("face.png"));
  CHECK(rec.at("content_mask_weight").as_number() == 4);
  CHECK(rec.at("inputs").items().size() == 6);  // content, 2 styles, 3 masks
  CHECK(rec.at("inputs").items()[3].at("fnv1a64").as_string().size() == 16);
  const std::vector<double> by_style = numbers(rec.at("result").at("saved_style_loss_by_style"));
  REQUIRE(by_style.size() == 2);
  CHECK(by_style[0] > 0);
  CHECK(by_style[1] > 0);

  // nst loss reads the same masks and splits the style term by style; it
  // agrees with the run's own measure of the written picture.
  std::vector<std::string> loss{"loss",   "--content", shared_image("tubingen.jpg"),
                                "--image", dir.file("out.png"), "--weights", default_weights(),
                                "--style", shared_image("starry_night.jpg"), "--json",
                                "--dump-grad", dir.file("g.npy")};
  loss.insert(loss.end(), masked.begin(), masked.end());
  const CliRun r = run_nst(loss);
  check_clean_exit(r);
  const io::Json j = io::parse_json(r.out, "stdout");
  const std::vector<double> split = numbers(j.at("style_by_style"));
  REQUIRE(split.size() == 2);
  CHECK(split[0] == Approx(by_style[0]).epsilon(1e-4));
  CHECK(split[1] == Approx(by_style[1]).epsilon(1e-4));
  CHECK(split[0] + split[1] == Approx(j.at("style_total").as_number()).epsilon(1e-6));
  CHECK(j.at("total").as_number() == Approx(rec.at("result").at("saved_loss").as_number()).epsilon(1e-4));
  CHECK(load_npy(dir.file("g.npy")).numel() == 3 * 36 * 48);
}

TEST_CASE("cli masks: bad masks are named before any work, nothing is written", "[cli][masks][errors]") {
  NST_REQUIRE_WEIGHTS();
  ErrorSetup s;
  write_half(s.file("left.png"), 24, 32, true);
  save_image(s.file("black.png"), Tensor::zeros({1, 3, 24, 32}));
  write_text(s.file("broken.png"), "\x89PNG\r\n\x1a\n not really");
  const std::string two = s.style + "," + s.style;
  expect_error(s, s.stylize({"--style", s.style, "--style-mask", s.file("left.png")}),
               "1 --style-mask for 2 --style");
  expect_error(s, s.stylize({"--style-image-mask", s.file("left.png") + "," + s.file("left.png")}),
               "2 --style-image-mask for 1 --style");
  expect_error(s, s.stylize({"--style-mask", s.file("black.png")}), "black everywhere");
  expect_error(s, s.stylize({"--content-mask", s.file("missing.png")}), "--content-mask: image");
  expect_error(s, s.stylize({"--style-mask", s.file("broken.png")}), s.file("broken.png"));
  expect_error(s, s.stylize({"--content-mask", s.file("left.png"), "--content-mask-weight", "-1"}),
               "--content-mask-weight");
  expect_error(s, s.stylize({"--style-mask", s.file("left.png"), "--output", s.file("left.png")}),
               "is also an input");
  expect_error(s, {"loss", "--content", s.content, "--style", s.style, "--image", s.content, "--weights",
                   default_weights(), "--style-mask", s.file("black.png")},
               "black everywhere");
}
