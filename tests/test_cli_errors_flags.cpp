// One test per flag row of docs/errors.md (images and weights: test_cli_errors.cpp):
// the run fails cleanly with the documented message and writes nothing.
#include <filesystem>

#include "cli_errors.hpp"

using namespace nst;
using namespace nst::testing;

// ---------------------------------------------------------------- flags

TEST_CASE("cli errors: unknown command", "[cli][cli-errors]") {
  const ErrorSetup s;
  const CliRun r = expect_error(s, {"paint"}, "nst: unknown command 'paint' (see nst --help)");
  CHECK(r.exit_code == 2);
}

TEST_CASE("cli errors: unknown option", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--colour", "blue"}),
               "nst stylize: unknown option '--colour' (see nst stylize --help)");
}

TEST_CASE("cli errors: option without its value", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--seed"}), "nst stylize: --seed needs a value (N)");
}

TEST_CASE("cli errors: option given twice", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--seed", "1", "--seed", "2"}),
               "nst stylize: --seed given more than once");
}

TEST_CASE("cli errors: required option missing", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, {"stylize", "--style", s.style, "--output", s.output},
               "nst stylize: --content is required");
  expect_error(s, {"loss", "--content", s.content, "--style", s.style},
               "nst loss: --image is required");
  expect_error(s, {"classify"}, "nst classify: missing IMAGE");
}

TEST_CASE("cli errors: not a number", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--size", "big"}),
               "nst stylize: --size expects a whole number, got 'big'");
  expect_error(s, s.stylize({"--style-weight", "1e400"}),
               "nst stylize: --style-weight expects a number, got '1e400'");
}

TEST_CASE("cli errors: negative weight", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--style-weight", "-1"}),
               "nst stylize: --style-weight must be from 0 to 1e+12, got -1");
  expect_error(s, s.stylize({"--style-layer-weights", "1,-2,1,1,1"}),
               "nst stylize: --style-layer-weights: negative weight -2");
}

TEST_CASE("cli errors: zero size", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--size", "0"}),
               "nst stylize: --size must be from 16 to 16384, got 0");
}

TEST_CASE("cli errors: size beyond the limit", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--size", "20000"}),
               "nst stylize: --size must be from 16 to 16384, got 20000");
}

TEST_CASE("cli errors: zero iterations", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--iterations", "0"}),
               "nst stylize: --iterations must be from 1 to 1000000, got 0");
}

TEST_CASE("cli errors: scales that do not increase or end at --size", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--scales", "64,32"}), "nst stylize: --scales must increase");
  expect_error(s, s.stylize({"--scales", "16,24", "--size", "32"}),
               "nst stylize: the last of --scales (24) must equal --size (32)");
}

TEST_CASE("cli errors: unknown optimiser or pooling", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--optimizer", "sgd"}),
               "nst stylize: --optimizer must be lbfgs or adam, got 'sgd'");
  expect_error(s, s.stylize({"--pooling", "min"}),
               "nst stylize: --pooling must be max or avg, got 'min'");
  expect_error(s, s.stylize({"--lbfgs-precision", "fp8"}),
               "nst stylize: --lbfgs-precision must be bf16 or float, got 'fp8'");
}

TEST_CASE("cli errors: unknown layer", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--style-layers", "relu1_1,relu9_1"}),
               "nst: error: nst stylize: --style-layers: unknown layer 'relu9_1' (layers are "
               "conv1_1..conv5_4, "
               "relu1_1..relu5_4, pool1..pool5)");
  expect_error(s,
               {"loss", "--content", s.content, "--style", s.style, "--image", s.content,
                "--content-layers", "relu4-2"},
               "nst loss: --content-layers: unknown layer 'relu4-2'");
}

TEST_CASE("cli errors: style blend count differs from the styles", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--style", s.content, "--style-blend", "0.5,0.3,0.2"}),
               "nst stylize: --style-blend has 3 weights for 2 style images");
}

TEST_CASE("cli errors: style blend negative or all zero", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--style", s.content, "--style-blend", "1,-1"}),
               "nst stylize: --style-blend weights must not be negative, got -1");
  expect_error(s, s.stylize({"--style", s.content, "--style-blend", "0,0"}),
               "nst stylize: --style-blend weights sum to zero");
}

TEST_CASE("cli errors: output in a missing folder", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s, s.stylize({"--output", s.file("no/such/out.png")}),
               "nst stylize: output folder '" + s.file("no/such") + "' does not exist");
}

TEST_CASE("cli errors: output equal to an input", "[cli][cli-errors]") {
  const ErrorSetup s;
  const std::string before = read_file(s.style);
  // Another spelling of the style's path.
  const std::string alias = s.file("sub/../style.png");
  std::filesystem::create_directory(s.file("sub"));
  expect_error(
      s, s.stylize({"--output", alias}),
      "nst stylize: the output '" + alias + "' is also an input: refusing to overwrite it");
  CHECK(read_file(s.style) == before);
}

TEST_CASE("cli errors: output of an unknown type", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(
      s, s.stylize({"--output", s.file("out.gif")}),
      "nst stylize: output '" + s.file("out.gif") + "': unknown image type (use .png or .jpg)");
}

TEST_CASE("cli errors: an image too small for the style layers", "[cli][cli-errors]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  // 16 x 12: pool4 gets a 1-pixel-high map, too small for relu5_1.
  expect_error(s, s.stylize({"--size", "16"}),
               "content image is 16 x 12 px, too small for layer relu5_1 (at least 16 px per side)");
  // A style image shrunk below what relu5_1 needs names itself and the remedy.
  expect_error(s, s.stylize({"--size", "32", "--style-scale", "0.25"}), "use a larger --style-scale");
}

TEST_CASE("cli errors: a size beyond --max-memory is refused with a suggestion", "[cli][cli-errors]") {
  NST_REQUIRE_WEIGHTS();
  const ErrorSetup s;
  expect_error(s, s.stylize({"--size", "4096", "--max-memory", "1"}), "but the limit is 1.00 GB");
}

TEST_CASE("cli errors: nst loss --dump-grad into a missing folder", "[cli][cli-errors]") {
  const ErrorSetup s;
  expect_error(s,
               {"loss", "--content", s.content, "--style", s.style, "--image", s.content,
                "--weights", default_weights(), "--dump-grad", s.file("no/g.npy")},
               "nst loss: --dump-grad folder '" + s.file("no") + "' does not exist");
}
