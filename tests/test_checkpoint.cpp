// Checkpoint files: a round trip keeps every field bit for bit; a truncated,
// flipped, empty or foreign file gives an nst::Error naming the file and the
// problem, never a crash.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <filesystem>
#include <string>

#include "io/atomic_write.hpp"
#include "io/checksum.hpp"
#include "io/file_util.hpp"
#include "nst/checkpoint.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

namespace {

namespace fs = std::filesystem;

nst::Checkpoint sample_checkpoint() {
  nst::Checkpoint c;
  c.args = {"--content", "a.jpg", "--style", "b.jpg", "--size", "32"};
  c.state.scale = 1;
  c.state.iteration = 7;
  c.state.done = 37;
  nst::ScaleRecord r;
  r.height = 24;
  r.width = 32;
  r.iterations = 30;
  r.evaluations = 31;
  r.seconds = 1.25;
  r.stop_reason = "iterations done";
  r.loss_trace = {3.0, 2.0, 1.5};
  c.state.scales = {r, r};
  c.state.x = nst::testing::random_tensor({1, 3, 5, 7}, 11);
  c.state.optimizer_state = std::string("opt\0state", 9);
  return c;
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / (name + std::to_string(::getpid()))).string();
}

void require_error(const std::string& path, const std::string& text) {
  try {
    (void)nst::load_checkpoint(path);
    FAIL("no error for " << text);
  } catch (const nst::Error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find(path) != std::string::npos);
    CHECK(what.find(text) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("checkpoint: round trip keeps every field", "[checkpoint]") {
  const std::string path = temp_path("nst_ckpt_rt");
  const nst::Checkpoint c = sample_checkpoint();
  nst::save_checkpoint(path, c);
  const nst::Checkpoint d = nst::load_checkpoint(path);
  CHECK(d.args == c.args);
  CHECK(d.state.scale == 1);
  CHECK(d.state.iteration == 7);
  CHECK(d.state.done == 37);
  REQUIRE(d.state.scales.size() == 2);
  CHECK(d.state.scales[1].loss_trace == c.state.scales[1].loss_trace);
  CHECK(d.state.scales[1].stop_reason == "iterations done");
  CHECK(d.state.scales[1].evaluations == 31);
  REQUIRE(d.state.x.shape() == c.state.x.shape());
  CHECK(std::memcmp(d.state.x.data(), c.state.x.data(), size_t(c.state.x.numel()) * 4) == 0);
  CHECK(d.state.optimizer_state == c.state.optimizer_state);
  fs::remove(path);
}

TEST_CASE("checkpoint: truncated, flipped, foreign and missing files are clear errors",
          "[checkpoint]") {
  const std::string good = temp_path("nst_ckpt_good");
  nst::save_checkpoint(good, sample_checkpoint());
  const std::string bytes = nst::read_file(good);
  const std::string bad = temp_path("nst_ckpt_bad");

  SECTION("missing") { require_error(bad + ".absent", "no such file"); }
  SECTION("empty") {
    nst::write_file_atomically(bad, "");
    require_error(bad, "bad magic");
  }
  SECTION("wrong magic") {
    std::string b = bytes;
    b[3] = 'X';
    nst::write_file_atomically(bad, b);
    require_error(bad, "bad magic");
  }
  SECTION("truncated at every length") {
    for (size_t n = 16; n < bytes.size(); n += 7) {
      nst::write_file_atomically(bad, bytes.substr(0, n));
      require_error(bad, "checkpoint");
    }
  }
  SECTION("one flipped byte anywhere after the magic") {
    for (size_t i = 8; i < bytes.size(); i += 5) {
      std::string b = bytes;
      b[i] = char(b[i] ^ 0x10);
      nst::write_file_atomically(bad, b);
      require_error(bad, "checksum mismatch");
    }
  }
  fs::remove(good);
  fs::remove(bad);
}

TEST_CASE("checkpoint: a wrong checksum-consistent field is still refused", "[checkpoint]") {
  // A file whose checksum is right but whose image rank is not 4.
  nst::Checkpoint c = sample_checkpoint();
  c.state.x = nst::testing::random_tensor({3, 5}, 1);
  const std::string path = temp_path("nst_ckpt_rank");
  nst::save_checkpoint(path, c);
  require_error(path, "not [1, 3, H, W]");
  fs::remove(path);
}

TEST_CASE("checkpoint: an impossible position or an old format is refused", "[checkpoint]") {
  const std::string path = temp_path("nst_ckpt_pos");
  nst::Checkpoint c = sample_checkpoint();
  c.state.iteration = -1;
  nst::save_checkpoint(path, c);
  require_error(path, "corrupt position");
  c = sample_checkpoint();
  c.state.done = 3;  // fewer than the iterations of the current scale
  nst::save_checkpoint(path, c);
  require_error(path, "corrupt position");
  std::string old = nst::read_file(path);
  old[7] = '1';
  nst::write_file_atomically(path, old);
  require_error(path, "older nst");
  fs::remove(path);
}

TEST_CASE("checkpoint: format 3 keeps the inputs and the average, format 2 still loads", "[checkpoint]") {
  const std::string path = temp_path("nst_ckpt_v3");
  nst::Checkpoint c = sample_checkpoint();
  nst::save_checkpoint(path, c);  // no inputs, no average: what format 2 held
  std::string bytes = nst::read_file(path);
  // The same checkpoint as format 2 wrote it: magic ...2, no input count after
  // the arguments, no average rank and count before the checksum.
  size_t after_args = 16;
  for (const std::string& a : c.args) after_args += 8 + a.size();
  std::string v2 = bytes.substr(0, after_args) + bytes.substr(after_args + 8, bytes.size() - after_args - 8 - 24);
  v2[7] = '2';
  const uint64_t sum = nst::io::fnv1a64(v2.data(), v2.size());
  v2.append(reinterpret_cast<const char*>(&sum), 8);
  nst::write_file_atomically(path, v2);
  const nst::Checkpoint old = nst::load_checkpoint(path);
  CHECK(old.args == c.args);
  CHECK(old.inputs.empty());
  CHECK(old.state.optimizer_state == c.state.optimizer_state);
  CHECK_FALSE(old.state.average.defined());

  c.inputs = {{"a.jpg", 0x0123456789abcdefULL}, {"mask.png", 7}};
  c.state.average = nst::testing::random_tensor({1, 3, 5, 7}, 12);
  c.state.average_steps = 5;
  nst::save_checkpoint(path, c);
  const nst::Checkpoint d = nst::load_checkpoint(path);
  REQUIRE(d.inputs.size() == 2);
  CHECK(d.inputs[0].path == "a.jpg");
  CHECK(d.inputs[0].fnv1a64 == 0x0123456789abcdefULL);
  CHECK(d.state.average_steps == 5);
  REQUIRE(d.state.average.defined());
  CHECK(std::memcmp(d.state.average.data(), c.state.average.data(), size_t(c.state.average.numel()) * 4) == 0);
  fs::remove(path);
}
