// End-to-end tests of `nst stylize` options through the real binary: several
// styles, colours, layers and weights, the classic flag names, output and input
// image kinds (see test_cli_stylize.cpp for the rest).
#include <cmath>

#include "cli_stylize.hpp"
#include "io/image.hpp"
#include "nst/colour.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// Mean |U_a - U_b| + |V_a - V_b| over the pixels (BT.601, 0..255 RGB).
double mean_chroma_difference(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  const Tensor ya = rgb_to_yuv(a), yb = rgb_to_yuv(b);
  const int64_t plane = a.dim(2) * a.dim(3);
  double sum = 0;
  for (int64_t i = plane; i < 3 * plane; ++i) sum += std::abs(double(ya[i]) - double(yb[i]));
  return sum / double(plane);
}

// A smooth image with moderate colours (little clamping when recoloured).
Tensor smooth_pixels(int64_t h, int64_t w) {
  Tensor t = Tensor::empty({1, 3, h, w});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        t[(c * h + y) * w + x] = float(70 + (c * 40 + x * 3 + y * 2) % 110);
  return t;
}

}  // namespace

TEST_CASE("cli stylize: several styles with --style-blend and --style-scale",
          "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/the_scream.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  // Blend 0,1 of (starry, scream) targets the scream's Grams exactly: same bytes
  // as the scream alone.
  const std::vector<std::string> common{"--content",     shared_image("tubingen.jpg"),
                                        "--weights",     default_weights(),
                                        "--size",        "32",
                                        "--iterations",  "2",
                                        "--optimizer",   "adam",
                                        "--print-every", "0",
                                        "--style-scale", "1.5"};
  stylize_ok(
      with(with({"stylize"}, common),
           {"--style", shared_image("starry_night.jpg"), "--style", shared_image("the_scream.jpg"),
            "--style-blend", "0,1", "--output", dir.file("blend.png")}));
  stylize_ok(with(with({"stylize"}, common),
                  {"--style", shared_image("the_scream.jpg"), "--output", dir.file("scream.png")}));
  stylize_ok(
      with(with({"stylize"}, common),
           {"--style", shared_image("starry_night.jpg") + "," + shared_image("the_scream.jpg"),
            "--style-blend", "0.7,0.3", "--output", dir.file("mix.png")}));
  CHECK(bytes_of(dir.file("blend.png")) == bytes_of(dir.file("scream.png")));
  CHECK(bytes_of(dir.file("mix.png")) != bytes_of(dir.file("scream.png")));
  const io::Json rec = read_json(dir.file("mix.png.json"));
  CHECK(rec.at("styles").items().size() == 2);
  CHECK(numbers(rec.at("style_blend")) == std::vector<double>{0.7, 0.3});
  CHECK(rec.at("style_scale").as_number() == 1.5);
}

TEST_CASE("cli stylize: --original-colors keeps the content's colours, --match-histogram",
          "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/starry_night.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const Tensor content = smooth_pixels(24, 32);  // the output size: no resampling
  save_image(dir.file("content.png"), content);
  const auto args = [&](const std::string& out) {
    return std::vector<std::string>{"stylize",
                                    "--content",
                                    dir.file("content.png"),
                                    "--style",
                                    shared_image("starry_night.jpg"),
                                    "--output",
                                    dir.file(out),
                                    "--weights",
                                    default_weights(),
                                    "--size",
                                    "32",
                                    "--iterations",
                                    "3",
                                    "--print-every",
                                    "0"};
  };
  stylize_ok(args("plain.png"));
  stylize_ok(with(args("orig.png"), {"--original-colors"}));
  stylize_ok(with(args("hist.png"), {"--match-histogram"}));
  const double plain = mean_chroma_difference(load_image(dir.file("plain.png")), content);
  const double orig = mean_chroma_difference(load_image(dir.file("orig.png")), content);
  INFO("mean chroma difference to the content: plain " << plain << ", original colours " << orig);
  CHECK(orig < 2.0);  // PNG rounding and a little clamping
  CHECK(plain > 3 * orig);
  CHECK(read_json(dir.file("orig.png.json")).at("original_colors").as_bool());
  CHECK(read_json(dir.file("hist.png.json")).at("match_histogram").as_bool());
  CHECK(bytes_of(dir.file("hist.png")) != bytes_of(dir.file("plain.png")));
}

TEST_CASE("cli stylize: layers, layer weights, objective weights and average pooling",
          "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const std::string out = dir.file("out.png");
  const CliRun r = stylize_ok(
      with(base_args(out),
           {"--content-layers", "relu3_2", "--content-layer-weights", "3", "--style-layers",
            "relu1_1,relu2_1", "--style-layer-weights", "1,0.5", "--content-weight", "2",
            "--style-weight", "50", "--tv-weight", "0", "--pooling", "avg", "--print-every", "2"}));
  // One printed line with two style terms: "[a b]".
  const size_t open = r.err.find('['), close = r.err.find(']');
  REQUIRE(open != std::string::npos);
  REQUIRE(close != std::string::npos);
  CHECK(count_lines_with(r.err.substr(open, close - open), " ") == 1);
  CHECK(r.err.find("tv 0 ") != std::string::npos);
  const io::Json rec = read_json(out + ".json");
  CHECK(rec.at("content_layers").items().at(0).as_string() == "relu3_2");
  CHECK(rec.at("style_layers").items().size() == 2);
  CHECK(numbers(rec.at("style_layer_weights")) == std::vector<double>{1, 0.5});
  CHECK(numbers(rec.at("content_layer_weights")) == std::vector<double>{3});
  CHECK(rec.at("content_weight").as_number() == 2);
  CHECK(rec.at("style_weight").as_number() == 50);
  CHECK(rec.at("tv_weight").as_number() == 0);
  CHECK(rec.at("pooling").as_string() == "avg");
}

TEST_CASE("cli stylize: the classic neural-style flag names", "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/the_scream.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const std::string out = dir.file("classic.png");
  const CliRun r =
      stylize_ok({"stylize",
                  "-content_image",
                  shared_image("tubingen.jpg"),
                  "-style_image",
                  shared_image("starry_night.jpg") + "," + shared_image("the_scream.jpg"),
                  "-style_blend_weights",
                  "3,1",
                  "-output_image",
                  out,
                  "-model_file",
                  default_weights(),
                  "-image_size",
                  "32",
                  "-num_iterations",
                  "2",
                  "-optimizer",
                  "adam",
                  "-learning_rate",
                  "5",
                  "-init",
                  "random",
                  "-seed",
                  "3",
                  "-original_colors",
                  "1",
                  "-print_iter",
                  "1",
                  "-save_iter",
                  "0",
                  "-content_weight",
                  "2",
                  "-style_weight",
                  "50",
                  "-tv_weight",
                  "0.01",
                  "-content_layers",
                  "relu4_2",
                  "-style_layers",
                  "relu1_1,relu2_1",
                  "-pooling",
                  "avg",
                  "-style_scale",
                  "1.5",
                  "-lbfgs_num_correction",
                  "7"});
  CHECK(count_lines_with(r.err, "iteration ") == 2);
  CHECK(load_image(out).shape() == Shape({1, 3, 24, 32}));
  const io::Json rec = read_json(out + ".json");
  CHECK(rec.at("styles").items().size() == 2);
  CHECK(numbers(rec.at("style_blend")) == std::vector<double>{3, 1});
  CHECK(rec.at("size").as_int() == 32);
  CHECK(rec.at("iterations").as_int() == 2);
  CHECK(rec.at("optimizer").as_string() == "adam");
  CHECK(rec.at("learning_rate").as_number() == 5);
  CHECK(rec.at("init").as_string() == "noise");
  CHECK(rec.at("seed").as_int() == 3);
  CHECK(rec.at("original_colors").as_bool());
  CHECK(rec.at("content_weight").as_number() == 2);
  CHECK(rec.at("style_weight").as_number() == 50);
  CHECK(rec.at("tv_weight").as_number() == Approx(0.01));
  CHECK(rec.at("style_layers").items().size() == 2);
  CHECK(rec.at("pooling").as_string() == "avg");
  CHECK(rec.at("style_scale").as_number() == 1.5);
  CHECK(rec.at("lbfgs_history").as_int() == 7);
  CHECK(rec.at("weights").as_string() == default_weights());
}

TEST_CASE("cli stylize: JPEG output, grey content, RGBA style, default weights",
          "[cli][cli-stylize]") {
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  write_png_channels(dir.file("grey.png"), 20, 30, 1, 3);
  write_png_channels(dir.file("rgba.png"), 40, 33, 4, 4);
  const std::string out = dir.file("out.jpg");
  std::vector<std::string> args{"stylize",
                                "--content",
                                dir.file("grey.png"),
                                "--style",
                                dir.file("rgba.png"),
                                "--output",
                                out,
                                "--size",
                                "30",
                                "--iterations",
                                "1",
                                "--print-every",
                                "0"};
  const bool env_weights = std::getenv("NST_WEIGHTS") != nullptr;
  if (env_weights) args = with(args, {"--weights", default_weights()});
  stylize_ok(args);
  const std::string bytes = bytes_of(out);
  REQUIRE(bytes.size() > 3);
  CHECK(bytes.compare(0, 3, "\xff\xd8\xff") == 0);  // JPEG SOI + marker
  CHECK(load_image(out).shape() == Shape({1, 3, 30, 20}));
  if (!env_weights)  // found next to the binary
    CHECK(std::filesystem::equivalent(read_json(out + ".json").at("weights").as_string(),
                                      default_weights()));
}

TEST_CASE("cli stylize: --style-loss mean-cov and w2 run, are recorded and measured by nst loss",
          "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const auto loss = [&](const std::string& image, const std::string& kind) {
    const CliRun r = run_nst({"loss", "--content", shared_image("tubingen.jpg"), "--style",
                              shared_image("starry_night.jpg"), "--image", image, "--weights",
                              default_weights(), "--style-loss", kind, "--json"});
    check_clean_exit(r);
    return io::parse_json(r.out, "stdout");
  };
  for (const std::string kind : {"mean-cov", "w2"}) {
    INFO(kind);
    const std::string out = dir.file(kind + ".png");
    stylize_ok(with(base_args(out), {"--style-loss", kind}));
    CHECK(read_json(out + ".json").at("style_loss").as_string() == kind);
    // w2's default style weight is a tenth of the others'; a given one is kept.
    CHECK(read_json(out + ".json").at("style_weight").as_number() == (kind == "w2" ? 10.0 : 100.0));
    const io::Json measured = loss(out, kind), gram = loss(out, "gram");
    CHECK(measured.at("total").as_number() ==
          Approx(read_json(out + ".json").at("result").at("saved_loss").as_number()).epsilon(1e-4));
    CHECK(measured.at("style_total").as_number() != gram.at("style_total").as_number());
  }
  const std::string w100 = dir.file("w2_100.png");
  stylize_ok(with(base_args(w100), {"--style-loss", "w2", "--style-weight", "100"}));
  CHECK(read_json(w100 + ".json").at("style_weight").as_number() == 100.0);
  const CliRun bad = run_nst(with(base_args(dir.file("x.png")), {"--style-loss", "w3"}));
  check_error_exit(bad, "--style-loss must be gram, mean-cov or w2, got 'w3'");
}

TEST_CASE("cli stylize: --style-weights sweeps the strength, each picture as its own run, and a strip",
          "[cli][cli-stylize][sweep]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  stylize_ok(with(base_args(dir.file("out.png")), {"--style-weights", "10,1000"}));
  stylize_ok(with(base_args(dir.file("single.png")), {"--style-weight", "1000"}));
  // The style targets are reused across the sweep: the same bytes as one run.
  CHECK(bytes_of(dir.file("out_w1000.png")) == bytes_of(dir.file("single.png")));
  CHECK(bytes_of(dir.file("out_w10.png")) != bytes_of(dir.file("single.png")));
  CHECK(read_json(dir.file("out_w10.png.json")).at("style_weight").as_number() == 10);
  const Tensor a = load_image(dir.file("out_w10.png")), strip = load_image(dir.file("out_strip.png"));
  CHECK(strip.dim(2) == a.dim(2));
  CHECK(strip.dim(3) == 2 * a.dim(3) + 4);
  CHECK(!std::filesystem::exists(dir.file("out.png")));
  check_error_exit(run_nst(with(base_args(dir.file("x.png")), {"--style-weights", "10", "--style-weight", "5"})),
                   "give --style-weight or --style-weights, not both");
  check_error_exit(run_nst(with(base_args(dir.file("x.png")), {"--style-weights", "10,-1"})),
                   "--style-weights values must be from 0 to 1e12, got -1");
  check_error_exit(run_nst(with(base_args(dir.file("x.png")), {"--style-weights", "10", "--record", dir.file("r.json")})),
                   "drop --record and --checkpoint");
}
