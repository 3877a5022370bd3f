// The memory estimate of a stylisation: an upper bound of the measured peak RSS
// within 1.5x, and a refusal that names the limit and suggests what to change.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "io/image.hpp"
#include "nn/kernels/simd.hpp"
#include "nst/memory_estimate.hpp"
#include "nst/stylize.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

extern char** environ;

namespace {

constexpr int64_t kMB = int64_t(1) << 20;
constexpr int64_t kWeightFile = 143670568;  // build/vgg19.nstw from ../shared (uint8, with fc)

// tubingen.jpg 1024x768 in the style of starry_night.jpg 1024x640, default layers.
nst::StylizeConfig job(int64_t size, int64_t history) {
  nst::StylizeConfig c;
  c.styles = {"starry_night.jpg"};
  c.size = size;
  c.lbfgs_history = history;
  return c;
}

// As nst stylize asks: the photos already shrunk to what the largest scale reads.
int64_t estimate(const nst::StylizeConfig& c) {
  const std::vector<int64_t> sizes = nst::scale_sizes(c);
  const int64_t largest = *std::max_element(sizes.begin(), sizes.end());
  int64_t h = 0, w = 0, sh = 0, sw = 0;
  nst::fit_long_side(768, 1024, std::min<int64_t>(largest, 1024), h, w);
  nst::fit_long_side(640, 1024, std::min<int64_t>(largest, 1024), sh, sw);
  return nst::estimate_stylize_memory(c, h, w, sh, sw, kWeightFile).total();
}

}  // namespace

TEST_CASE("memory estimate: an upper bound of the measured peak RSS within 1.5x", "[memory]") {
  // Peak RSS (/usr/bin/time -v, "Maximum resident set size") of
  //   nst stylize --content tubingen.jpg --style starry_night.jpg --size S
  //               --iterations 5 --lbfgs-history 4 --threads 2
  // on the 2-core project machine, 2026-11-24 (session 3: 1-bit ReLU masks, pool
  // argmax, values freed after their last reader, weight pages dropped once checked,
  // photos shrunk to the largest scale on loading; session 4: Winograd scratch from
  // idle pool buffers):
  // and on an AVX2-only machine, 2026-12-03, at each SIMD level it has (NST_SIMD):
  // the smallest peaks (scalar at 128 px) and the largest (scalar at 384 px) bound
  // the estimate from both sides.
  struct Measured {
    const char* simd;
    int64_t size, rss_kb;
  };
  for (const Measured m : {Measured{"avx512", 128, 97072}, Measured{"avx512", 256, 151468},
                           Measured{"avx512", 384, 227952}, Measured{"avx2", 128, 91712},
                           Measured{"avx2", 256, 146356}, Measured{"avx2", 384, 222788},
                           Measured{"sse2", 128, 86940}, Measured{"sse2", 384, 221156},
                           Measured{"scalar", 128, 84132}, Measured{"scalar", 384, 255400}}) {
    const double rss = double(m.rss_kb) * 1024.0;
    const double est = double(estimate(job(m.size, 4)));
    INFO(m.simd << " at size " << m.size << ": estimate " << est / kMB << " MB, measured " << rss / kMB
                << " MB");
    CHECK(est >= rss);
    CHECK(est <= 1.5 * rss);
  }
}

TEST_CASE("memory estimate: grows with size, history and depth, less with Adam", "[memory]") {
  CHECK(estimate(job(512, 100)) > estimate(job(256, 100)));
  CHECK(estimate(job(512, 100)) > estimate(job(512, 5)));
  nst::StylizeConfig adam = job(512, 100);
  adam.optimizer = "adam";
  CHECK(estimate(adam) < estimate(job(512, 100)));
  nst::StylizeConfig shallow = job(512, 100);
  shallow.objective.content_layers = {"relu2_2"};
  shallow.objective.style_layers = {"relu1_1", "relu2_1"};
  CHECK(estimate(shallow) < estimate(job(512, 100)));
  nst::StylizeConfig multi = job(512, 100);
  multi.scales = {256, 1024};  // the largest scale counts
  CHECK(estimate(multi) == estimate(job(1024, 100)));
  // L-BFGS history: 2 m n values (+ 3 n floats of work space) at 1024 x 768,
  // bf16 by default, float32 on request.
  const auto e = nst::estimate_stylize_memory(job(1024, 100), 768, 1024, 640, 1024, kWeightFile);
  CHECK(e.optimizer >= 2 * 100 * 3 * 1024 * 768 * 2);
  nst::StylizeConfig f32 = job(1024, 100);
  f32.lbfgs_precision = "float";
  const auto e32 = nst::estimate_stylize_memory(f32, 768, 1024, 640, 1024, kWeightFile);
  CHECK(e32.optimizer >= 2 * 100 * 3 * 1024 * 768 * 4);
  CHECK(nst::available_memory_bytes() > 0);
}

TEST_CASE("memory estimate: over the limit, a clear refusal with suggestions", "[memory]") {
  const nst::StylizeConfig c = job(2048, 100);
  const auto e = nst::estimate_stylize_memory(c, 768, 1024, 640, 1024, kWeightFile);
  CHECK_NOTHROW(nst::check_memory_limit(c, e, e.total()));
  CHECK_NOTHROW(nst::check_memory_limit(c, e, 0));  // 0: no limit known
  const int64_t limit = int64_t(1) << 30;
  CHECK_THROWS_WITH(nst::check_memory_limit(c, e, limit),
                    Catch::Contains("needs about") && Catch::Contains("the limit is 1.00 GB") &&
                        Catch::Contains("--max-memory") && Catch::Contains("try --size") &&
                        Catch::Contains("--lbfgs-history") && Catch::Contains("fewer"));
  // The suggested size fits.
  try {
    nst::check_memory_limit(c, e, limit);
  } catch (const nst::Error& err) {
    const std::string what = err.what();
    const int64_t size = std::stoll(what.substr(what.find("try --size ") + 11));
    INFO(what);
    CHECK(size < 2048);
    CHECK(estimate(job(size, 100)) <= limit);
  }
  CHECK_THROWS_WITH(nst::estimate_stylize_memory(c, 0, 5, 5, 5, 0),
                    Catch::Contains("estimate_stylize_memory"));
}

// Re-measures the table above at every SIMD level the machine has (slow: three
// stylisations of several seconds per level).
TEST_CASE("memory estimate: measured again, the peak RSS of nst stylize", "[memory][slow]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  namespace fs = std::filesystem;
  const std::string weights = (fs::path(NST_BINARY_PATH).parent_path() / "vgg19.nstw").string();
  if (!fs::exists(weights)) {
    WARN("SKIPPED: " << weights << " is missing (run `make weights`)");
    return;
  }
  const std::string images = nst::testing::shared_dir() + "/images/";
  const std::string out =
      (fs::temp_directory_path() / ("nst_mem_" + std::to_string(::getpid()) + ".png")).string();
  for (const nst::kernels::SimdLevel level : nst::kernels::supported_simd_levels()) {
    for (int64_t size : {128, 256, 384}) {
      std::vector<std::string> args{NST_BINARY_PATH,   "stylize",
                                    "--content",       images + "tubingen.jpg",
                                    "--style",         images + "starry_night.jpg",
                                    "--output",        out,
                                    "--size",          std::to_string(size),
                                    "--iterations",    "5",
                                    "--lbfgs-history", "4",
                                    "--threads",       "2",
                                    "--print-every",   "0"};
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      // The child runs at this SIMD level (NST_SIMD); the rest of the environment is ours.
      std::vector<std::string> vars{std::string("NST_SIMD=") + nst::kernels::simd_level_name(level)};
      for (char** e = environ; *e; ++e)
        if (std::string(*e).rfind("NST_SIMD=", 0) != 0) vars.emplace_back(*e);
      std::vector<char*> envp;
      for (std::string& v : vars) envp.push_back(v.data());
      envp.push_back(nullptr);
      pid_t pid = -1;
      REQUIRE(posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data()) == 0);
      int status = 0;
      rusage usage{};
      REQUIRE(::wait4(pid, &status, 0, &usage) == pid);
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      const double rss = double(usage.ru_maxrss) * 1024.0;
      const double est = double(estimate(job(size, 4)));
      INFO(nst::kernels::simd_level_name(level) << " at size " << size << ": estimate " << est / kMB
                                                << " MB, measured " << rss / kMB << " MB");
      CHECK(est >= rss);
      CHECK(est <= 1.5 * rss);
    }
  }
  fs::remove(out);
  fs::remove(out + ".json");
}
