// End-to-end tests of `nst loss` through the real binary: the terms it prints
// (text and --json) and the gradient it dumps (--dump-grad), checked against
// StyleObjective::evaluate run in this process on the same inputs.
#include <cstring>
#include <numeric>

#include "cli_util.hpp"
#include "io/npy.hpp"
#include "nst/style_objective.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// Content, style and evaluated image, all 32 x 24 (so nothing is resampled).
struct LossInputs {
  ScratchDir dir{"cli-loss"};
  std::string content = dir.file("content.png"), style = dir.file("style.png"),
              image = dir.file("image.png");
  LossInputs() {
    save_image(content, random_pixels(24, 32, 11));
    save_image(style, random_pixels(24, 32, 12));
    save_image(image, random_pixels(24, 32, 13));
  }
  std::vector<std::string> args() const {
    return {"loss",    "--content", content,     "--style",        style,
            "--image", image,       "--weights", default_weights()};
  }
};

std::vector<std::string> plus(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

}  // namespace

TEST_CASE("cli loss: --json has every term, per layer, and they add up", "[cli][cli-loss]") {
  NST_REQUIRE_WEIGHTS();
  const LossInputs in;
  const CliRun r = run_nst(plus(in.args(), {"--json", "--size", "24"}));
  check_clean_exit(r);
  const io::Json j = io::parse_json(r.out, "nst loss --json");
  for (const char* key :
       {"total", "content", "content_layers", "style", "style_total", "tv", "height", "width"}) {
    INFO("key " << key);
    CHECK(j.find(key) != nullptr);
  }
  CHECK(j.at("width").as_int() == 24);  // --size 24: long side 24
  CHECK(j.at("height").as_int() == 18);
  const std::vector<double> style = numbers(j.at("style")),
                            content = numbers(j.at("content_layers"));
  REQUIRE(style.size() == 5);
  REQUIRE(content.size() == 1);
  for (double s : style) CHECK(s > 0);
  const double style_sum = std::accumulate(style.begin(), style.end(), 0.0);
  CHECK(j.at("style_total").as_number() == Approx(style_sum).epsilon(1e-7));
  CHECK(j.at("content").as_number() == Approx(content[0]).epsilon(1e-7));
  CHECK(j.at("total").as_number() ==
        Approx(j.at("content").as_number() + style_sum + j.at("tv").as_number()).epsilon(1e-7));
}

TEST_CASE("cli loss: text output names each layer", "[cli][cli-loss]") {
  NST_REQUIRE_WEIGHTS();
  const LossInputs in;
  const CliRun r = run_nst(plus(in.args(), {"--content-layers", "relu3_2,relu4_2", "--style-layers",
                                            "relu1_1,relu2_1", "--tv-weight", "0"}));
  check_clean_exit(r);
  CHECK(r.out.find("image 32x24\n") == 0);
  CHECK(r.out.find("\ntotal    ") != std::string::npos);
  CHECK(r.out.find("\ncontent  relu3_2 ") != std::string::npos);
  CHECK(r.out.find("\ncontent  relu4_2 ") != std::string::npos);
  CHECK(r.out.find("\nstyle    relu1_1 ") != std::string::npos);
  CHECK(r.out.find("\nstyle    relu2_1 ") != std::string::npos);
  CHECK(r.out.find("relu3_1") == std::string::npos);
  CHECK(r.out.find("\ntv       0\n") != std::string::npos);
}

TEST_CASE("cli loss: --dump-grad writes the library's gradient as float32 (3, H, W)",
          "[cli][cli-loss]") {
  NST_REQUIRE_WEIGHTS();
  const LossInputs in;
  const std::string npy = in.dir.file("grad.npy");
  const CliRun r = run_nst(plus(in.args(), {"--json", "--dump-grad", npy, "--threads", "1"}));
  check_clean_exit(r);
  const std::string bytes = read_file(npy);
  REQUIRE(bytes.size() > 10);
  CHECK(bytes.find("'descr': '<f4'") != std::string::npos);
  const Tensor dumped = load_npy(npy);
  REQUIRE(dumped.shape() == Shape({3, 24, 32}));

  // The same evaluation in this process, on 2 threads (the binary ran on 1).
  const Vgg19 net = Vgg19::load(default_weights());
  StyleObjective objective(net, ObjectiveConfig());
  Tensor grad;
  LossTerms want;
  with_threads(2, [&] {
    objective.set_content(net.to_input(load_image(in.content)));
    objective.set_styles({net.to_input(load_image(in.style))}, {});
    want = objective.evaluate(net.to_input(load_image(in.image)), &grad);
  });
  REQUIRE(grad.numel() == dumped.numel());
  double norm = 0;
  for (int64_t i = 0; i < grad.numel(); ++i) norm += double(grad[i]) * grad[i];
  CHECK(norm > 0);
  check_close(dumped.data(), grad.data(), grad.numel(), 1e-6,
              1e-6 * std::sqrt(norm / double(grad.numel())), "dumped vs in-process gradient");
  // Same SIMD level, 1 or 2 threads: the very same bits.
  CHECK(std::memcmp(dumped.data(), grad.data(), size_t(grad.numel()) * sizeof(float)) == 0);
  const io::Json j = io::parse_json(r.out, "nst loss --json");
  CHECK(j.at("total").as_number() == Approx(want.total).epsilon(1e-7));
  CHECK(j.at("content").as_number() == Approx(want.content).epsilon(1e-7));
  CHECK(j.at("tv").as_number() == Approx(want.tv).epsilon(1e-7));
  const std::vector<double> style = numbers(j.at("style"));
  REQUIRE(style.size() == want.style_layers.size());
  for (size_t l = 0; l < style.size(); ++l)
    CHECK(style[l] == Approx(want.style_layers[l]).epsilon(1e-7));
}
