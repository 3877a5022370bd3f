// End-to-end tests of `nst stylize` through the real binary on the real VGG-19
// weights: the run record, progress lines and snapshots, scales, optimisers,
// determinism and sizes (test_cli_stylize_options.cpp: the other options), on
// tiny images (20-40 px, 1-4 iterations).
#include "cli_stylize.hpp"
#include "io/image.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

const std::string kPrefix = "nst stylize: ";

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
  // saved_loss is the objective of the file as written: what `nst loss` finds in it.
  const CliRun loss = run_nst({"loss", "--content", shared_image("tubingen.jpg"), "--style",
                               shared_image("starry_night.jpg"), "--image", out, "--json"});
  REQUIRE(loss.exit_code == 0);
  CHECK(res.at("saved_loss").as_number() ==
        Approx(io::parse_json(loss.out, "nst loss").at("total").as_number()).epsilon(1e-6));
  const double clipped = res.at("saved_clipped_fraction").as_number();
  CHECK(clipped >= 0.0);
  CHECK(clipped <= 1.0);
  // With the pixels kept in 0..255 (the default --bounds on), the written picture
  // scores what the optimiser reached, up to the 8-bit rounding.
  CHECK(rec.at("bounds").as_string() == "on");
  CHECK(res.at("saved_loss").as_number() ==
        Approx(res.at("final_loss").as_number()).epsilon(0.05));
}

TEST_CASE("cli stylize: the default schedule runs coarse to fine", "[cli][cli-stylize]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("cli-stylize");
  const std::string out = dir.file("out.png");
  // 200 px: 141 px first (200 / sqrt 2 is at least 128 px long and the 4:3
  // photo 106 px high); 100 px would be below 128.
  stylize_ok(with(base_args(out), {"--size", "200", "--iterations", "2"}));
  CHECK(load_image(out).shape() == Shape({1, 3, 150, 200}));
  const io::Json rec = read_json(out + ".json");
  CHECK(numbers(rec.at("scales")) == std::vector<double>{141, 200});
  const auto& scales = rec.at("result").at("scales").items();
  REQUIRE(scales.size() == 2);
  CHECK(scales[0].at("width").as_int() == 141);
  CHECK(scales[1].at("width").as_int() == 200);
}

TEST_CASE("cli stylize: --scales runs coarse to fine with --first-iterations and --last-iterations", "[cli][cli-stylize]") {
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
  // The coarsest scale runs 4 x --iterations (2 here), unless --first-iterations says.
  CHECK(numbers(scales[0].at("loss_trace")).size() == 8);
  CHECK(numbers(scales[1].at("loss_trace")).size() == 2);
  stylize_ok(with(base_args(out), {"--scales", "32,40", "--size", "40", "--first-iterations", "3",
                                   "--record", dir.file("run.json")}));
  const io::Json rec3 = read_json(dir.file("run.json"));
  CHECK(rec3.at("first_iterations").as_int() == 3);
  CHECK(numbers(rec3.at("result").at("scales").items().at(0).at("loss_trace")).size() == 3);
  // ... and the finest --iterations, unless --last-iterations says.
  stylize_ok(with(base_args(out), {"--scales", "32,36,40", "--size", "40", "--last-iterations", "5",
                                   "--record", dir.file("run.json")}));
  const io::Json rec5 = read_json(dir.file("run.json"));
  CHECK(rec5.at("last_iterations").as_int() == 5);
  const auto& scales5 = rec5.at("result").at("scales").items();
  REQUIRE(scales5.size() == 3);
  CHECK(numbers(scales5[0].at("loss_trace")).size() == 8);
  CHECK(numbers(scales5[1].at("loss_trace")).size() == 2);
  CHECK(numbers(scales5[2].at("loss_trace")).size() == 5);
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
  const io::Json r1 = read_json(dir.file("t1.png.json")), r2 = read_json(dir.file("t2.png.json"));
  CHECK(r1.at("threads").as_int() == 1);
  CHECK(r2.at("threads").as_int() == 2);
  // A closer look than the rounded PNG: the losses, to 9 digits (the bit-exact check
  // of the gradient is in test_cli_loss.cpp).
  const auto trace = [](const io::Json& r) {
    return numbers(r.at("result").at("scales").items().at(0).at("loss_trace"));
  };
  CHECK(trace(r1) == trace(r2));
  CHECK(r1.at("result").at("final_loss").as_number() ==
        r2.at("result").at("final_loss").as_number());
}

TEST_CASE("cli stylize: an image of the requested size is not resampled, --init-image",
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
