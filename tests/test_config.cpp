#include <fstream>

#include "testing.hpp"

#include "tools/args.hpp"
#include "io/json_writer.hpp"
#include "io/npy.hpp"
#include "nst/config.hpp"
#include "nst/stylize.hpp"
#include "tools/options.hpp"
#include "tensor/check.hpp"

using namespace nst;

namespace {

StylizeConfig parse(std::vector<std::string> args) {
  args.insert(args.begin(), "stylize");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  StylizeConfig c;
  REQUIRE(cli::parse_stylize_args(int(argv.size()), argv.data(), c));
  return c;
}

}  // namespace

TEST_CASE("stylize flags: defaults and every option", "[config]") {
  StylizeConfig d = parse({"--content", "c.jpg", "--style", "s.jpg"});
  CHECK(d.size == 512);
  CHECK(d.iterations == 60);
  CHECK(d.first_iterations == 0);  // 4 x iterations at the coarsest scale
  CHECK(d.tolerance == 0.01);
  CHECK(d.scales.empty());  // auto
  CHECK(d.optimizer == "lbfgs");
  CHECK(d.objective.content_weight == 5.0);
  CHECK(d.objective.style_weight == 100.0);
  CHECK(d.objective.tv_weight == Approx(1e-3));
  CHECK(d.objective.content_layers == std::vector<std::string>{"relu4_2"});
  CHECK(d.objective.style_layers.size() == 5);
  CHECK(d.output == "out.png");
  CHECK(d.record == "out.png.json");

  StylizeConfig c = parse({"--content", "c.jpg", "--style", "a.jpg", "--style", "b.jpg",
                           "--style-blend", "0.7,0.3", "--output", "o.jpg", "--size", "300",
                           "--iterations", "7", "--optimizer", "adam", "--learning-rate", "2",
                           "--init", "noise", "--content-weight", "1", "--style-weight", "2",
                           "--tv-weight", "0", "--content-layers", "relu3_2",
                           "--style-layers", "relu1_1,relu2_1", "--style-layer-weights", "1,0.5",
                           "--style-scale", "0.5", "--pooling", "avg", "--original-colors",
                           "--match-histogram", "--seed", "42", "--threads", "1",
                           "--save-every", "3", "--print-every", "2", "--lbfgs-history", "5",
                           "--line-search", "--weights", "w.nstw", "--record", "r.json",
                           "--checkpoint", "k.ckpt", "--max-memory", "4"});
  CHECK(c.styles == std::vector<std::string>{"a.jpg", "b.jpg"});
  CHECK(c.style_blend == std::vector<double>{0.7, 0.3});
  CHECK(c.output == "o.jpg");
  CHECK(c.size == 300);
  CHECK(c.iterations == 7);
  CHECK(c.optimizer == "adam");
  CHECK(c.learning_rate == 2.0);
  CHECK(c.init == "noise");
  CHECK(c.objective.content_weight == 1.0);
  CHECK(c.objective.tv_weight == 0.0);
  CHECK(c.objective.content_layers == std::vector<std::string>{"relu3_2"});
  CHECK(c.objective.style_layer_weights == std::vector<double>{1.0, 0.5});
  CHECK(c.style_scale == 0.5);
  CHECK(c.objective.pooling == "avg");
  CHECK(c.original_colors);
  CHECK(c.match_histogram);
  CHECK(c.seed == 42);
  CHECK(c.threads == 1);
  CHECK(c.save_every == 3);
  CHECK(c.print_every == 2);
  CHECK(c.lbfgs_history == 5);
  CHECK(c.line_search);
  CHECK(c.weights == "w.nstw");
  CHECK(c.record == "r.json");
  CHECK(c.checkpoint == "k.ckpt");
  CHECK(c.max_memory_gb == 4.0);

  StylizeConfig m = parse({"--content", "c.jpg", "--style", "s.jpg", "--scales", "128,256"});
  CHECK(m.scales == std::vector<int64_t>{128, 256});
  CHECK(m.size == 256);
  // auto (the default) leaves the schedule to the photos' shapes.
  CHECK(parse({"--content", "c.jpg", "--style", "s.jpg", "--scales", "auto", "--size", "300"}).scales.empty());
  CHECK(parse({"--content", "c.jpg", "--style", "s.jpg"}).scales.empty());
}

TEST_CASE("stylize: the default coarse-to-fine schedule", "[config]") {
  CHECK(coarse_to_fine_scales(512) == std::vector<int64_t>{128, 181, 256, 362, 512});
  CHECK(coarse_to_fine_scales(1024) == std::vector<int64_t>{128, 181, 256, 362, 512, 724, 1024});
  CHECK(coarse_to_fine_scales(700) == std::vector<int64_t>{175, 247, 350, 495, 700});
  CHECK(coarse_to_fine_scales(181) == std::vector<int64_t>{128, 181});
  CHECK(coarse_to_fine_scales(180) == std::vector<int64_t>{180});
  CHECK(coarse_to_fine_scales(16) == std::vector<int64_t>{16});
  // A 4:1 panorama starts where its short side is 64 px.
  CHECK(coarse_to_fine_scales(512, 0.25) == std::vector<int64_t>{256, 362, 512});
  CHECK(coarse_to_fine_scales(512, 0.01) == std::vector<int64_t>{512});
  StylizeConfig c;
  c.size = 512;
  CHECK(scale_sizes(c, 0.75) == coarse_to_fine_scales(512, 0.75));
  c.scales = {512};
  CHECK(scale_sizes(c) == std::vector<int64_t>{512});
  CHECK(short_over_long({Tensor::zeros({1, 3, 30, 40}), Tensor::zeros({1, 3, 100, 25})}) == 0.25);
  CHECK(short_over_long({}) == 1.0);
}

TEST_CASE("stylize flags: classic neural-style spellings", "[config]") {
  StylizeConfig c = parse({"-content_image", "c.jpg", "-style_image", "a.jpg,b.jpg",
                           "-style_blend_weights", "3,1", "-output_image", "o.png",
                           "-image_size", "256", "-num_iterations", "9", "-original_colors", "1",
                           "-init", "random", "-print_iter", "5", "-save_iter", "0",
                           "-content_weight", "2", "-style_weight", "50", "-tv_weight", "0.01",
                           "-pooling", "avg", "-seed", "3", "-optimizer", "adam",
                           "-learning_rate", "5", "-lbfgs_num_correction", "10",
                           "-style_scale", "2", "-model_file", "m.nstw"});
  CHECK(c.content == "c.jpg");
  CHECK(c.styles == std::vector<std::string>{"a.jpg", "b.jpg"});
  CHECK(c.style_blend == std::vector<double>{3, 1});
  CHECK(c.size == 256);
  CHECK(c.iterations == 9);
  CHECK(c.original_colors);
  CHECK(c.init == "noise");
  CHECK(c.objective.style_weight == 50.0);
  CHECK(c.objective.pooling == "avg");
  CHECK(c.lbfgs_history == 10);
  CHECK(c.weights == "m.nstw");
}

TEST_CASE("stylize flags: bad input is refused with a clear message", "[config]") {
  auto fails = [](std::vector<std::string> args, const std::string& message) {
    args.insert(args.begin(), "stylize");
    std::vector<const char*> argv;
    for (auto& a : args) argv.push_back(a.c_str());
    StylizeConfig c;
    INFO("expected: " << message);
    CHECK_THROWS_WITH(cli::parse_stylize_args(int(argv.size()), argv.data(), c), Catch::Contains(message));
  };
  fails({"--style", "s.jpg"}, "--content is required");
  fails({"--content", "c.jpg"}, "--style is required");
  fails({"--content", "c", "--style", "s", "--bogus"}, "unknown option '--bogus'");
  fails({"--content", "c", "--style"}, "--style needs a value");
  fails({"--content", "c", "--style", "s", "--size", "0"}, "--size must be from 16");
  fails({"--content", "c", "--style", "s", "--size", "abc"}, "expects a whole number");
  fails({"--content", "c", "--style", "s", "--style-weight", "-1"}, "--style-weight must be from 0");
  fails({"--content", "c", "--style", "s", "--style-blend", "1,2"}, "2 weights for 1 style");
  fails({"--content", "c", "--style", "a,b", "--style-blend", "0,0"}, "sum to zero");
  fails({"--content", "c", "--style", "s", "--optimizer", "sgd"}, "lbfgs or adam");
  fails({"--content", "c", "--style", "s", "--pooling", "min"}, "max or avg");
  fails({"--content", "c", "--style", "s", "--scales", "512,256"}, "must increase");
  // Found by fuzz_args (an empty list used to read past the end of the scales).
  fails({"--content", "c", "--style", "s", "--scales="}, "--scales needs at least one size");
  fails({"--content", "c", "--style", "s", "--scales", ""}, "--scales needs at least one size");
  fails({"--content", "c", "--style", "s", "--scales", "256,512", "--size", "300"}, "must equal --size");
  fails({"--content", "c", "--style", "s", "--style-layers", "relu1_1,,relu2_1"}, "empty item");
  fails({"--content", "c", "--style", "s", "--style-layer-weights", "1,2"}, "2 values for 5 style layers");
  fails({"--content", "c", "--style", "s", "--size", "256", "--size", "512"}, "more than once");
  fails({"--content", "c", "--style", "s", "extra"}, "unexpected argument 'extra'");
  fails({"--content", "c", "--style", "s", "--tv-weight", "nan"}, "expects a number");
}

TEST_CASE("json writer and npy round trip", "[io]") {
  JsonWriter j;
  j.begin_object().key("a").value(1.5).key("b").array(std::vector<int64_t>{1, 2});
  j.key("s").value("q\"\n").key("n").value(std::nan("")).end_object();
  CHECK(j.str() == "{\"a\": 1.5, \"b\": [1, 2], \"s\": \"q\\\"\\n\", \"n\": null}");
  const std::string path = (std::filesystem::temp_directory_path() / "nst_test.npy").string();
  Tensor t = testing::random_tensor({3, 5, 7}, 9);
  save_npy(path, t);
  CHECK(testing::bit_identical(load_npy(path), t));
  save_npy(path, t, {105});
  CHECK(load_npy(path).shape() == Shape({105}));
  // A shape whose element count overflows (found by fuzz_npy): refused, naming the file.
  {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 33333333333333333333333), }";
    std::string bytes = std::string("\x93NUMPY\x01\x00", 8) + char(header.size()) + '\0' + header;
    std::ofstream(path, std::ios::binary) << bytes;
    CHECK_THROWS_WITH(load_npy(path), Catch::Contains(path) && Catch::Contains("shape too large"));
  }
  CHECK_THROWS_WITH(Shape({int64_t{1} << 30, int64_t{1} << 30}), Catch::Contains("2^48"));
  std::filesystem::remove(path);
}
