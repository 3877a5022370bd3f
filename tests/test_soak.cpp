// Soak test (slow, outside the default suite): many short stylisations in one
// process through the driver API; after a warm-up neither the buffer pool's
// live bytes nor the resident set may grow.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "io/image.hpp"
#include "nst/stylize.hpp"
#include "testing.hpp"

namespace {

namespace fs = std::filesystem;

// Resident set size from /proc/self/statm, bytes.
int64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * int64_t(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("soak: 40 short stylisations, no growth of live buffers or RSS", "[soak][slow]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  const std::string weights = (fs::path(NST_BINARY_PATH).parent_path() / "vgg19.nstw").string();
  if (!fs::exists(weights)) {
    WARN("SKIPPED: " << weights << " is missing (run `make weights`)");
    return;
  }
  const nst::Vgg19 net = nst::Vgg19::load(weights);
  const nst::Tensor content = nst::load_image(nst::testing::shared_dir() + "/images/tubingen.jpg");
  const nst::Tensor style =
      nst::load_image(nst::testing::shared_dir() + "/images/starry_night.jpg");
  nst::StylizeConfig c;
  c.scales = {24, 40};
  c.iterations = 4;
  c.objective.content_layers = {"relu3_2"};
  c.objective.style_layers = {"relu1_1", "relu2_1", "relu3_1"};
  // Alternate the optimisers, and interrupt every third run, to cover every path.
  auto one_run = [&](int i) {
    nst::StylizeConfig ci = c;
    ci.optimizer = i % 2 ? "adam" : "lbfgs";
    int polls = 0;
    nst::StylizeCallbacks cb;
    if (i % 3 == 0) cb.interrupted = [&] { return ++polls > 5; };
    const nst::StylizeResult r = nst::stylize(ci, net, content, {style}, cb);
    REQUIRE(r.image.defined());
    if (r.interrupted) (void)nst::stylize(ci, net, content, {style}, {}, nst::Tensor(), &r.state);
  };
  for (int i = 0; i < 6; ++i) one_run(i);  // warm-up: fills the pool and the allocator
  const int64_t live0 = nst::BufferPool::global().live_bytes();
  const int64_t rss0 = resident_bytes();
  for (int i = 0; i < 40; ++i) {
    one_run(i);
    INFO("run " << i << ": live " << nst::BufferPool::global().live_bytes()
                << " bytes (after warm-up " << live0 << "), rss " << resident_bytes()
                << " (after warm-up " << rss0 << ")");
    REQUIRE(nst::BufferPool::global().live_bytes() == live0);
    REQUIRE(resident_bytes() <= rss0 + (int64_t(4) << 20));  // 4 MB of allocator noise
  }
}
