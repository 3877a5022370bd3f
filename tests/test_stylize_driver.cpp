// The multi-scale driver (nst::stylize) in process, on the real VGG-19 weights
// (build/vgg19.nstw, `make weights`) and a tiny image: NaN/Inf handling, the
// interrupt callback and resume, and 1 vs 2 threads.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>

#include "io/image.hpp"
#include "nn/kernels/parallel.hpp"
#include "nst/checkpoint.hpp"
#include "nst/stylize.hpp"
#include "testing.hpp"

namespace {

namespace fs = std::filesystem;

const std::string kWeights = (fs::path(NST_BINARY_PATH).parent_path() / "vgg19.nstw").string();

// A small, shallow job: milliseconds per iteration.
nst::StylizeConfig small_job(const std::string& optimizer, int64_t iterations) {
  nst::StylizeConfig c;
  c.size = 32;
  c.iterations = iterations;
  c.optimizer = optimizer;
  c.objective.content_layers = {"relu2_2"};
  c.objective.style_layers = {"relu1_1", "relu2_1"};
  return c;
}

bool same_bits(const nst::Tensor& a, const nst::Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), size_t(a.numel()) * sizeof(float)) == 0;
}

struct Inputs {
  nst::Vgg19 net;
  nst::Tensor content, style;
};

const Inputs& inputs() {
  static const Inputs in{nst::Vgg19::load(kWeights),
                         nst::load_image(nst::testing::shared_dir() + "/images/tubingen.jpg"),
                         nst::load_image(nst::testing::shared_dir() + "/images/starry_night.jpg")};
  return in;
}

nst::StylizeResult run(const nst::StylizeConfig& c, const nst::StylizeCallbacks& cb = {},
                       const nst::RunState* resume = nullptr) {
  return nst::stylize(c, inputs().net, inputs().content, {inputs().style}, cb, nst::Tensor(),
                      resume);
}

// The image before any iteration: a run interrupted at the first poll.
nst::Tensor start_image(const std::string& optimizer) {
  nst::StylizeCallbacks cb;
  cb.interrupted = [] { return true; };
  return run(small_job(optimizer, 5), cb).image;
}

}  // namespace

#define NST_REQUIRE_WEIGHTS()                                            \
  NST_REQUIRE_SHARED("images/tubingen.jpg");                             \
  if (!fs::exists(kWeights)) {                                           \
    WARN("SKIPPED: " << kWeights << " is missing (run `make weights`)"); \
    return;                                                              \
  }

TEST_CASE("stylize: an infinite loss stops at once and keeps the start image", "[stylize][nan]") {
  NST_REQUIRE_WEIGHTS();
  nst::StylizeConfig c = small_job("lbfgs", 5);
  c.objective.style_weight = 1e300;  // the weighted style loss overflows to inf
  const nst::StylizeResult r = run(c);
  CHECK(r.diverged);
  REQUIRE(r.scales.size() == 1);
  CHECK(r.scales[0].iterations == 0);
  CHECK(r.scales[0].stop_reason == "loss or gradient became NaN or infinite");
  CHECK(same_bits(r.image, start_image("lbfgs")));
}

TEST_CASE("stylize: Adam blowing up mid-run keeps the last image with a finite loss",
          "[stylize][nan]") {
  NST_REQUIRE_WEIGHTS();
  // lr 1e30: the first step (from a finite loss) throws x to ~1e30, whose
  // activations overflow, so the second evaluation is not finite.
  nst::StylizeConfig c = small_job("adam", 5);
  c.learning_rate = 1e30;
  c.bounds = "off";  // within the pixel box the step would be clamped, not blow up
  const nst::StylizeResult r = run(c);
  CHECK(r.diverged);
  REQUIRE(r.scales.size() == 1);
  CHECK(r.scales[0].iterations == 1);
  CHECK(std::isfinite(r.final_loss.total));
  // The last good image is the start: only it was evaluated with a finite loss.
  CHECK(same_bits(r.image, start_image("adam")));
}

TEST_CASE("stylize: interrupted and resumed equals uninterrupted, with 1 and 2 threads",
          "[stylize][threads]") {
  NST_REQUIRE_WEIGHTS();
  for (const char* optimizer : {"lbfgs", "adam"}) {
    nst::StylizeConfig c = small_job(optimizer, 6);
    c.scales = {24, 32};
    for (int threads : {1, 2})
      nst::testing::with_threads(threads, [&] {
        INFO(optimizer << ", threads " << threads);
        const nst::StylizeResult full = run(c);
        REQUIRE_FALSE(full.interrupted);
        for (int cut : {3, 6, 9}) {  // within scale 1, at the boundary, within scale 2
          int polls = 0;
          nst::StylizeCallbacks cb;
          cb.interrupted = [&] { return ++polls > cut; };
          const nst::StylizeResult part = run(c, cb);
          REQUIRE(part.interrupted);
          CHECK(part.state.done == cut);
          const nst::StylizeResult rest = run(c, {}, &part.state);
          CHECK_FALSE(rest.interrupted);
          CHECK(same_bits(rest.image, full.image));
          CHECK(rest.scales.size() == full.scales.size());
          CHECK(rest.scales.back().loss_trace == full.scales.back().loss_trace);
        }
      });
  }
}

// gemm's split-K path (2 threads, small Gram matrices: M = N = 64, K = 768) once
// rounded differently from the serial K loop when alpha != 1 (a contracted FMA;
// fixed by -ffp-contract=off): this run catches it.
TEST_CASE("stylize: the same image with 1 and 2 threads", "[stylize][threads]") {
  NST_REQUIRE_WEIGHTS();
  const nst::StylizeConfig c = small_job("lbfgs", 3);
  nst::Tensor one, two;
  nst::testing::with_threads(1, [&] { one = run(c).image; });
  nst::testing::with_threads(2, [&] { two = run(c).image; });
  CHECK(same_bits(one, two));
}

TEST_CASE("stylize: a checkpoint for other scales is refused", "[stylize]") {
  NST_REQUIRE_WEIGHTS();
  nst::StylizeConfig c = small_job("adam", 2);
  int polls = 0;
  nst::StylizeCallbacks cb;
  cb.interrupted = [&] { return ++polls > 1; };
  const nst::StylizeResult part = run(c, cb);
  REQUIRE(part.interrupted);
  c.size = 40;
  CHECK_THROWS_WITH(run(c, {}, &part.state), Catch::Contains("resume: the checkpoint's image is"));
  c.scales = {24, 32, 40};
  nst::RunState bad = part.state;
  bad.scale = 5;
  CHECK_THROWS_WITH(run(c, {}, &bad), Catch::Contains("does not match the scales"));
}

// The driver's optimiser runs for the run's iterations, not its own default:
// Adam's default limit of 1000 steps once froze the image of longer runs (every
// step after the 1000th returned at once). A quadratic, no network needed.
TEST_CASE("stylize driver: Adam runs every iteration of a long run", "[stylize][adam]") {
  nst::StylizeConfig c = small_job("adam", 1500);
  c.learning_rate = 1e-3;  // small steps: x moves at every one of the 1500
  std::vector<float> x(7, 100.0f);
  const nst::Objective f = [](const float* p, float* g) {
    double s = 0;
    for (int64_t i = 0; i < 7; ++i) {
      g[i] = 2.0f * p[i];
      s += double(p[i]) * p[i];
    }
    return s;
  };
  std::unique_ptr<nst::Optimizer> opt = nst::make_optimizer(c, 7, c.iterations);
  CHECK(!opt->loss_after_step());
  for (int64_t it = 0; it < 1500; ++it) {
    INFO("step " << it + 1);
    REQUIRE(!opt->stopped());
    const float before = x[0];
    opt->step(x.data(), f);
    REQUIRE(x[0] != before);
  }
  CHECK(opt->stopped());  // at the run's limit, not early
  CHECK(opt->early_stop_reason().empty());
  CHECK(opt->evaluations() == 1500);
  CHECK(nst::make_optimizer(small_job("lbfgs", 3), 7, 3)->loss_after_step());
}

TEST_CASE("stylize: --tolerance ends a scale once the loss stops falling", "[stylize]") {
  NST_REQUIRE_WEIGHTS();
  nst::StylizeConfig c = small_job("lbfgs", 60);
  c.tolerance = 0.05;  // less than 5 % over 3 iterations
  c.tolerance_window = 3;
  const nst::StylizeResult stopped = run(c);
  REQUIRE(stopped.scales.size() == 1);
  const nst::ScaleRecord& r = stopped.scales[0];
  CHECK(r.stop_reason.rfind("converged: the loss fell by", 0) == 0);
  REQUIRE(r.iterations > 3);
  REQUIRE(r.iterations < 60);
  const std::vector<double>& f = r.loss_trace;
  const size_t k = f.size() - 1;
  CHECK((f[k - 3] - f[k]) / f[k - 3] < 0.05);      // the rule held at the end...
  CHECK((f[k - 4] - f[k - 1]) / f[k - 4] >= 0.05);  // ...and not one iteration before
  c.tolerance = 0;  // off: every iteration
  CHECK(run(c).scales[0].iterations == 60);
}

TEST_CASE("stylize: --average writes the bias-corrected running mean and resumes bit-identical",
          "[stylize][average]") {
  NST_REQUIRE_WEIGHTS();
  nst::StylizeConfig c = small_job("adam", 6);
  c.scales = {24, 32};
  c.first_iterations = 6;
  const nst::StylizeResult plain = run(c);
  c.average = 0.5;
  const nst::StylizeResult full = run(c);
  // The optimiser's path is the same; only the picture is the average.
  CHECK(full.final_loss.total == plain.final_loss.total);
  CHECK_FALSE(same_bits(full.image, plain.image));
  // decay -> 0: the average is the last image.
  c.average = 1e-6;
  const nst::StylizeResult last = run(c);
  double worst = 0;
  for (int64_t i = 0; i < last.image.numel(); ++i)
    worst = std::max(worst, double(std::abs(last.image[i] - plain.image[i])));
  CHECK(worst < 0.01);
  // Cut within the second scale: the checkpoint holds the running average.
  c.average = 0.5;
  int polls = 0;
  nst::StylizeCallbacks cb;
  cb.interrupted = [&] { return ++polls > 9; };
  const nst::StylizeResult part = run(c, cb);
  REQUIRE(part.interrupted);
  REQUIRE(part.state.average.defined());
  CHECK(part.state.average_steps == 3);
  const std::string path = (fs::temp_directory_path() / ("nst_avg_" + std::to_string(::getpid()) + ".ckpt")).string();
  nst::save_checkpoint(path, {{"--average", "0.5"}, {}, part.state});
  const nst::Checkpoint back = nst::load_checkpoint(path);
  fs::remove(path);
  CHECK(back.state.average_steps == 3);
  CHECK(same_bits(back.state.average, part.state.average));
  const nst::StylizeResult rest = run(c, {}, &back.state);
  CHECK(same_bits(rest.image, full.image));
}
