// End-to-end tests of `nst stylize` through the real binary on the real VGG-19
// weights: every option at least once, on tiny images (20-40 px, 1-4 iterations).
#include <algorithm>
#include <cstring>

#include "cli_util.hpp"
#include "io/image.hpp"
#include "nst/colour.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

const std::string kPrefix = "nst stylize: ";

// stylize on tubingen + starry_night at 32 px, 2 iterations, no printing.
std::vector<std::string> base_args(const std::string& output) {
  return {"stylize",
          "--content",
          shared_image("tubingen.jpg"),
          "--style",
          shared_image("starry_night.jpg"),
          "--output",
          output,
          "--weights",
          default_weights(),
          "--size",
          "32",
          "--iterations",
          "2",
          "--print-every",
          "0"};
}

// args with `more` appended; an option already in args gets the new value instead.
std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  const auto given = static_cast<std::ptrdiff_t>(args.size());
  for (size_t i = 0; i < more.size(); ++i) {
    const bool has_value = i + 1 < more.size() && more[i + 1].rfind("--", 0) != 0;
    const auto it = std::find(args.begin(), args.begin() + given, more[i]);
    if (has_value && it != args.begin() + given && it + 1 != args.end()) {
      *(it + 1) = more[++i];
      continue;
    }
    args.push_back(more[i]);
    if (has_value) args.push_back(more[++i]);
  }
  return args;
}

CliRun stylize_ok(const std::vector<std::string>& args) {
  const CliRun r = run_nst(args);
  check_clean_exit(r);
  return r;
}

std::string bytes_of(const std::string& path) { return read_file(path); }

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

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

TEST_CASE("cli stylize: size, iterations, print-every, save-every and the run record",
          "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const std::string out = dir.file("out.png");
  const CliRun r = stylize_ok(
      with(base_args(out), {"--iterations", "3", "--print-every", "1", "--save-every", "1"}));
  // tubingen is 1024 x 768: long side 32 -> 32 x 24.
  CHECK(load_image(out).shape() == Shape({1, 3, 24, 32}));
  CHECK(count_lines_with(r.err, "iteration ") == 3);
  CHECK(r.err.find("iteration 3/3  total") != std::string::npos);
  CHECK(r.err.find(kPrefix + "wrote " + out) != std::string::npos);
  for (int k = 1; k <= 3; ++k) {
    INFO("snapshot " << k);
    CHECK(load_image(dir.file("out_" + std::to_string(k) + ".png")).shape() ==
          Shape({1, 3, 24, 32}));
  }
  CHECK(list_dir(dir.file("")) ==
        std::set<std::string>{"out.png", "out.png.json", "out_1.png", "out_2.png", "out_3.png"});

  const io::Json rec = read_json(out + ".json");
  CHECK(rec.at("content").as_string() == shared_image("tubingen.jpg"));
  CHECK(rec.at("styles").items().at(0).as_string() == shared_image("starry_night.jpg"));
  CHECK(rec.at("output").as_string() == out);
  CHECK(rec.at("weights").as_string() == default_weights());
  CHECK(rec.at("weights_checksum").as_string().size() == 16);
  CHECK(rec.at("size").as_int() == 32);
  CHECK(numbers(rec.at("scales")) == std::vector<double>{32});
  CHECK(rec.at("iterations").as_int() == 3);
  CHECK(rec.at("optimizer").as_string() == "lbfgs");
  CHECK(rec.at("init").as_string() == "content");
  CHECK(rec.at("seed").as_int() == 0);
  CHECK(rec.at("content_weight").as_number() == 5);
  CHECK(rec.at("style_weight").as_number() == 100);
  CHECK(rec.at("tv_weight").as_number() == Approx(1e-3));
  CHECK(rec.at("pooling").as_string() == "max");
  CHECK(rec.at("threads").as_int() >= 1);
  CHECK(rec.at("engine").as_string().rfind("nst ", 0) == 0);
  const io::Json& res = rec.at("result");
  CHECK_FALSE(res.at("interrupted").as_bool());
  CHECK_FALSE(res.at("diverged").as_bool());
  const io::Json& scale = res.at("scales").items().at(0);
  CHECK(scale.at("width").as_int() == 32);
  CHECK(scale.at("height").as_int() == 24);
  const std::vector<double> trace = numbers(scale.at("loss_trace"));
  REQUIRE(trace.size() == 3);
  CHECK(trace[2] < trace[0]);
  CHECK(res.at("final_loss").as_number() == Approx(trace[2]).epsilon(1e-6));
}

TEST_CASE("cli stylize: --scales runs coarse to fine", "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const std::string out = dir.file("out.png");
  stylize_ok(with(base_args(out),
                  {"--scales", "32,40", "--size", "40", "--record", dir.file("run.json")}));
  CHECK(load_image(out).shape() == Shape({1, 3, 30, 40}));
  CHECK_FALSE(std::filesystem::exists(out + ".json"));
  const io::Json rec = read_json(dir.file("run.json"));
  CHECK(numbers(rec.at("scales")) == std::vector<double>{32, 40});
  const auto& scales = rec.at("result").at("scales").items();
  REQUIRE(scales.size() == 2);
  CHECK(scales[0].at("width").as_int() == 32);
  CHECK(scales[0].at("height").as_int() == 24);
  CHECK(scales[1].at("width").as_int() == 40);
  CHECK(numbers(scales[0].at("loss_trace")).size() == 2);
  CHECK(numbers(scales[1].at("loss_trace")).size() == 2);
}

TEST_CASE("cli stylize: adam, learning rate, noise init and seed determinism",
          "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const auto args = [&](const std::string& out, const std::string& seed) {
    return with(base_args(dir.file(out)),
                {"--optimizer", "adam", "--learning-rate", "4", "--init", "noise", "--seed", seed});
  };
  stylize_ok(args("a.png", "7"));
  stylize_ok(args("b.png", "7"));
  stylize_ok(args("c.png", "8"));
  CHECK(bytes_of(dir.file("a.png")) == bytes_of(dir.file("b.png")));
  CHECK(bytes_of(dir.file("a.png")) != bytes_of(dir.file("c.png")));
  const io::Json rec = read_json(dir.file("a.png.json"));
  CHECK(rec.at("optimizer").as_string() == "adam");
  CHECK(rec.at("learning_rate").as_number() == 4);
  CHECK(rec.at("init").as_string() == "noise");
  CHECK(rec.at("seed").as_int() == 7);
  CHECK(read_json(dir.file("c.png.json")).at("seed").as_int() == 8);
}

TEST_CASE("cli stylize: L-BFGS history and line search", "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const std::string out = dir.file("out.png");
  stylize_ok(with(base_args(out), {"--optimizer", "lbfgs", "--lbfgs-history", "3", "--line-search",
                                   "--iterations", "4"}));
  const io::Json rec = read_json(out + ".json");
  CHECK(rec.at("lbfgs_history").as_int() == 3);
  CHECK(rec.at("line_search").as_bool());
  const io::Json& scale = rec.at("result").at("scales").items().at(0);
  const std::vector<double> trace = numbers(scale.at("loss_trace"));
  REQUIRE(trace.size() == 4);
  for (size_t i = 1; i < trace.size(); ++i)
    CHECK(trace[i] < trace[i - 1]);  // strong Wolfe: monotone
  CHECK(scale.at("evaluations").as_int() >= 4);
}

TEST_CASE("cli stylize: 1 and 2 threads give identical bytes", "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  stylize_ok(with(base_args(dir.file("t1.png")), {"--threads", "1"}));
  stylize_ok(with(base_args(dir.file("t2.png")), {"--threads", "2"}));
  CHECK(bytes_of(dir.file("t1.png")) == bytes_of(dir.file("t2.png")));
  CHECK(read_json(dir.file("t1.png.json")).at("threads").as_int() == 1);
  CHECK(read_json(dir.file("t2.png.json")).at("threads").as_int() == 2);
}

TEST_CASE("cli stylize: an image of the requested size is not resampled; --init-image",
          "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/starry_night.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  // Content and init already 40 x 30 with --size 40: one Adam step of 1e-9 leaves
  // the starting image as it is, so the output is the starting image pixel for
  // pixel (any resampling would blur the random pixels).
  const Tensor content = random_pixels(30, 40, 1), init = random_pixels(30, 40, 2);
  save_image(dir.file("content.png"), content);
  save_image(dir.file("init.png"), init);
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
                                    "40",
                                    "--iterations",
                                    "1",
                                    "--optimizer",
                                    "adam",
                                    "--learning-rate",
                                    "1e-9",
                                    "--print-every",
                                    "0"};
  };
  stylize_ok(args("same.png"));
  CHECK(bit_identical(load_image(dir.file("same.png")), content));
  stylize_ok(with(args("from_init.png"), {"--init-image", dir.file("init.png")}));
  CHECK(bit_identical(load_image(dir.file("from_init.png")), init));
  CHECK(read_json(dir.file("from_init.png.json")).at("init").as_string() == dir.file("init.png"));
}

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

TEST_CASE("cli stylize: --original-colors keeps the content's colours; --match-histogram",
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

TEST_CASE("cli stylize: JPEG output, grey content, RGBA style; default weights",
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
