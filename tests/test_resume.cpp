// Interrupt and resume, end to end through the CLI with real signals: `nst
// stylize` is started as a child process, gets SIGINT (or SIGTERM) once its first
// iteration lines are on stderr, must exit 130 with the image and a checkpoint
// written, and `nst stylize --resume` must then produce the same bytes as a run
// that was never interrupted (same arguments, same thread count).
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "io/file_util.hpp"
#include "io/image.hpp"
#include "io/weights.hpp"
#include "nst/checkpoint.hpp"
#include "spawn_util.hpp"
#include "testing.hpp"

namespace {

namespace fs = std::filesystem;
using nst::testing::Child;
using nst::testing::slurp;
using nst::testing::spawn_nst;
using nst::testing::wait_exit_code;
using nst::testing::wait_for_text;

int run_nst(const std::vector<std::string>& args, const std::string& err_path) {
  return wait_exit_code(spawn_nst(args, err_path));
}

// Small and shallow so an iteration takes milliseconds; enough iterations that
// the signal always lands mid-run.
std::vector<std::string> job(const fs::path& dir, const std::string& output,
                             std::vector<std::string> extra) {
  const std::string images = nst::testing::shared_dir() + "/images/";
  std::vector<std::string> a{"stylize",
                             "--content",
                             images + "tubingen.jpg",
                             "--style",
                             images + "starry_night.jpg",
                             "--output",
                             (dir / output).string(),
                             "--content-layers",
                             "relu2_2",
                             "--style-layers",
                             "relu1_1,relu2_1",
                             "--threads",
                             "2",
                             "--print-every",
                             "1"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

bool weights_available() {
  return fs::exists(fs::path(NST_BINARY_PATH).parent_path() / "vgg19.nstw");
}

// Runs the job uninterrupted, then once per text in `cut_after`: interrupts it
// once that text is on stderr, checks what it left, resumes it and compares the
// final image with the uninterrupted run's.
void interrupt_and_resume(const std::vector<std::string>& extra,
                          const std::vector<std::string>& cut_after, int sig, bool second_signal) {
  const fs::path dir = fs::temp_directory_path() / ("nst_resume_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string err = (dir / "err.txt").string();
  REQUIRE(run_nst(job(dir, "full.png", extra), err) == 0);
  const std::string full = slurp((dir / "full.png").string());
  REQUIRE(!full.empty());

  for (const std::string& wait_text : cut_after) {
    INFO("interrupted after '" << wait_text << "'");
    Child c = spawn_nst(job(dir, "cut.png", extra), err);
    wait_for_text(c, wait_text);
    REQUIRE(::kill(c.pid, sig) == 0);
    if (second_signal) REQUIRE(::kill(c.pid, sig) == 0);  // must not cut the writes short
    const int code = wait_exit_code(c);
    const std::string log = slurp(err);
    INFO(log);
    REQUIRE(code == 130);
    CHECK(log.find("interrupted (signal " + std::to_string(sig) + ")") != std::string::npos);
    CHECK(log.find("nst stylize --resume " + (dir / "cut.png.ckpt").string()) != std::string::npos);
    REQUIRE(fs::exists(dir / "cut.png"));
    REQUIRE(fs::exists(dir / "cut.png.json"));
    const nst::Checkpoint ckpt = nst::load_checkpoint((dir / "cut.png.ckpt").string());
    CHECK(ckpt.state.done >= 1);
    CHECK(slurp((dir / "cut.png").string()) != full);
    for (const auto& e : fs::directory_iterator(dir))  // no temporary left behind
      CHECK(e.path().filename().string().find(".tmp") == std::string::npos);

    REQUIRE(run_nst({"stylize", "--resume", (dir / "cut.png.ckpt").string()}, err) == 0);
    CHECK(slurp(err).find("resuming at scale") != std::string::npos);
    CHECK(slurp((dir / "cut.png").string()) == full);  // bit-identical
  }
  fs::remove_all(dir);
}

}  // namespace

TEST_CASE("resume: SIGINT mid-run, L-BFGS, resumed bit-identical", "[resume][cli]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  if (!weights_available()) {
    WARN("SKIPPED: build/vgg19.nstw is missing (run `make weights`)");
    return;
  }
  interrupt_and_resume({"--size", "32", "--iterations", "60"}, {"iteration 1/60"}, SIGINT, false);
}

TEST_CASE("resume: SIGTERM twice, Adam, resumed bit-identical", "[resume][cli]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  if (!weights_available()) {
    WARN("SKIPPED: build/vgg19.nstw is missing (run `make weights`)");
    return;
  }
  interrupt_and_resume({"--size", "32", "--iterations", "60", "--optimizer", "adam"},
                       {"iteration 2/60"}, SIGTERM, true);
}

TEST_CASE("resume: across a scale boundary and within the second scale", "[resume][cli]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  if (!weights_available()) {
    WARN("SKIPPED: build/vgg19.nstw is missing (run `make weights`)");
    return;
  }
  // Cut in the first scale (the resumed run crosses into the second), then in
  // the second (the checkpoint holds the first scale's record).
  interrupt_and_resume({"--scales", "24,40", "--iterations", "40", "--line-search"},
                       {"scale 1/2 (24x18) iteration 1/", "scale 2/2 (40x30) iteration 1/"}, SIGINT,
                       false);
}

// Not a resume, but the same machinery: a weight file whose conv1_1 weights are
// scaled by 1e30 makes the first loss infinite; the command must stop, keep the
// start image, say so and exit 1.
TEST_CASE("stylize CLI: an infinite loss stops with the last good image and exit 1", "[cli][nan]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  if (!weights_available()) {
    WARN("SKIPPED: build/vgg19.nstw is missing (run `make weights`)");
    return;
  }
  const fs::path dir = fs::temp_directory_path() / ("nst_nan_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    const auto f = nst::io::WeightFile::open(
        (fs::path(NST_BINARY_PATH).parent_path() / "vgg19.nstw").string());
    std::vector<nst::io::WeightEntry> entries;
    for (const std::string& name : f.names()) {
      if (name.rfind("conv", 0) != 0) continue;  // the classifier is not needed
      const nst::io::TensorInfo& info = f.info(name);
      const double k = name == "conv1_1.weight" ? 1e30 : 1.0;
      entries.push_back(info.dtype == nst::io::DType::UInt8
                            ? nst::io::make_uint8_entry(name, info.shape, f.raw(name),
                                                        info.scale * k, info.min * k)
                            : nst::io::make_float_entry(name, f.tensor(name)));
      if (info.dtype == nst::io::DType::Float32 && k != 1.0)
        for (size_t i = 0; i < entries.back().bytes.size(); i += 4) {
          float v = 0;
          std::memcpy(&v, entries.back().bytes.data() + i, 4);
          v *= float(k);
          std::memcpy(entries.back().bytes.data() + i, &v, 4);
        }
    }
    nst::io::write_weight_file((dir / "huge.nstw").string(), f.metadata(), entries);
  }
  const std::string err = (dir / "err.txt").string();
  const std::vector<std::string> args =
      job(dir, "nan.png",
          {"--size", "32", "--iterations", "5", "--weights", (dir / "huge.nstw").string()});
  REQUIRE(run_nst(args, err) == 1);
  const std::string log = slurp(err);
  INFO(log);
  CHECK(log.find("NaN or infinite after 0 good iterations") != std::string::npos);
  CHECK(log.find("holds the last good image") != std::string::npos);
  REQUIRE(fs::exists(
      dir / "nan.png"));  // the start image (tests/test_stylize_driver.cpp checks the bits)
  CHECK(slurp((dir / "nan.png.json").string()).find("\"diverged\": true") != std::string::npos);
  fs::remove_all(dir);
}

namespace {

// Left and right halves as grey PNGs (any size: the run resizes them).
void write_half_masks(const fs::path& dir) {
  nst::Tensor left = nst::Tensor::zeros({1, 3, 30, 40}), right = nst::Tensor::zeros({1, 3, 30, 40});
  for (int64_t i = 0; i < 3 * 30 * 40; ++i) (i % 40 < 20 ? left : right)[i] = 255.0f;
  nst::save_image((dir / "left.png").string(), left);
  nst::save_image((dir / "right.png").string(), right);
}

}  // namespace

TEST_CASE("resume: with style masks bit-identical, and refused once a mask has changed",
          "[resume][cli][masks]") {
  NST_REQUIRE_SHARED("images/the_scream.jpg");
  if (!weights_available()) {
    WARN("SKIPPED: build/vgg19.nstw is missing (run `make weights`)");
    return;
  }
  const fs::path masks = fs::temp_directory_path() / ("nst_resume_masks_" + std::to_string(::getpid()));
  fs::create_directories(masks);
  write_half_masks(masks);
  const std::vector<std::string> extra{
      "--size", "32", "--iterations", "60", "--style", nst::testing::shared_dir() + "/images/the_scream.jpg",
      "--style-mask", (masks / "left.png").string(), "--style-mask", (masks / "right.png").string()};
  interrupt_and_resume(extra, {"iteration 1/60"}, SIGINT, false);

  // Interrupted again, then the right mask is replaced: resuming must refuse.
  const fs::path dir = masks / "run";
  fs::create_directories(dir);
  const std::string err = (dir / "err.txt").string();
  Child c = spawn_nst(job(dir, "cut.png", extra), err);
  wait_for_text(c, "iteration 1/60");
  REQUIRE(::kill(c.pid, SIGINT) == 0);
  REQUIRE(wait_exit_code(c) == 130);
  const nst::Checkpoint ckpt = nst::load_checkpoint((dir / "cut.png.ckpt").string());
  CHECK(ckpt.inputs.size() == 5);  // content, two styles, two masks
  nst::save_image((masks / "right.png").string(), nst::Tensor::full({1, 3, 30, 40}, 255.0f));
  REQUIRE(run_nst({"stylize", "--resume", (dir / "cut.png.ckpt").string()}, err) == 1);
  CHECK(slurp(err).find((masks / "right.png").string() + "' has changed since the checkpoint") !=
        std::string::npos);
  fs::remove_all(masks);
}
