// `nst stylize` on a disk that fails: through the CLI, every operation of the
// run's writes fails in turn (NST_TEST_FAIL_IO, ENOSPC and EIO), a checkpoint
// written on SIGINT meets a full disk, and one real run writes into a tiny
// tmpfs. Whatever fails, the picture is the old one or the complete new one,
// a run record describes the picture beside it (its size and checksum), the
// message names the file and the cause, and the exit status is non-zero.
#include <signal.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_util.hpp"
#include "io/checksum.hpp"
#include "io/json.hpp"
#include "spawn_util.hpp"

namespace {

namespace fs = std::filesystem;
using namespace nst::testing;

// Shallow and tiny: an iteration takes milliseconds.
std::vector<std::string> job(const std::string& output, const std::string& iterations,
                             std::vector<std::string> extra = {}) {
  std::vector<std::string> a{"stylize", "--content", shared_image("tubingen.jpg"), "--style",
                             shared_image("starry_night.jpg"), "--output", output, "--size", "48",
                             "--iterations", iterations, "--content-layers", "relu2_2", "--style-layers",
                             "relu1_1,relu2_1", "--threads", "2"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

// A record, when there is one, describes the picture beside it.
void check_record_matches_picture(const std::string& record, const std::string& picture) {
  if (!fs::exists(record)) return;
  REQUIRE(fs::exists(picture));
  const nst::io::Json j = read_json(record);
  const std::string bytes = slurp(picture);
  CHECK(j.at("output_bytes").as_number() == double(bytes.size()));
  CHECK(j.at("output_fnv1a64").as_string() == hex64(nst::io::fnv1a64(bytes.data(), bytes.size())));
}

void check_no_temporaries(const std::string& dir) {
  for (const std::string& name : list_dir(dir)) CHECK(name.find(".tmp") == std::string::npos);
}

}  // namespace

TEST_CASE("stylize CLI: every failing write leaves the old picture or the new one, and a matching record",
          "[cli][atomic]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("full-disk");
  const std::string out = dir.file("out.png"), record = out + ".json";
  // The complete new picture, and an older run's picture and record.
  check_clean_exit(run_nst(job(dir.file("new.png"), "2")));
  const std::string fresh = slurp(dir.file("new.png"));
  check_clean_exit(run_nst(job(out, "1")));
  const std::string old_picture = slurp(out), old_record = slurp(record);
  REQUIRE(old_picture != fresh);
  check_record_matches_picture(record, out);

  for (const char* err : {"ENOSPC", "EIO"}) {
    const std::string cause = err == std::string("EIO") ? "input/output error" : "no space left on the device";
    int64_t n = 1;
    for (;; ++n) {
      INFO("operation " << n << " fails with " << err);
      nst::testing::write_text(out, old_picture);
      nst::testing::write_text(record, old_record);
      CliOptions opt;
      opt.env = {{"NST_TEST_FAIL_IO", std::to_string(n) + ":" + err}};
      const CliRun r = run_nst(job(out, "2"), opt);
      INFO(describe(r));
      REQUIRE(r.signal == 0);
      if (r.exit_code == 0) break;  // n is past the run's last operation
      CHECK(r.exit_code == 1);
      CHECK(r.err.find(cause) != std::string::npos);
      CHECK((r.err.find("'" + out + "'") != std::string::npos ||
             r.err.find("'" + record + "'") != std::string::npos));
      const std::string picture = slurp(out);
      CHECK((picture == old_picture || picture == fresh));
      check_record_matches_picture(record, out);
      check_no_temporaries(dir.file(""));
    }
    CHECK(n >= 13);  // picture and record: 6 operations each
    CHECK(slurp(out) == fresh);
    check_record_matches_picture(record, out);
  }
}

TEST_CASE("stylize CLI: a checkpoint on SIGINT into a full disk says so and exits non-zero",
          "[cli][atomic][resume]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("full-disk-ckpt");
  const std::string out = dir.file("cut.png"), ckpt = out + ".ckpt", err = dir.file("err.txt");
  const std::vector<std::string> run = job(out, "100000", {"--print-every", "1"});
  const std::pair<std::string, std::string> full_disk{"NST_TEST_FAIL_IO", "open:1:ENOSPC"};

  // No checkpoint before: none could be written.
  Child c = spawn_nst(run, err, {full_disk});
  wait_for_text(c, "iteration 2/");
  REQUIRE(::kill(c.pid, SIGINT) == 0);
  int code = wait_exit_code(c);
  std::string log = slurp(err);
  INFO(log);
  CHECK(code == 1);
  CHECK(log.find("cannot write '" + ckpt + "': no space left on the device") != std::string::npos);
  CHECK(log.find("no checkpoint of this run could be written") != std::string::npos);
  CHECK(!fs::exists(ckpt));
  check_no_temporaries(dir.file(""));

  // A good checkpoint, then a resumed run cut on a full disk: it names the good one, which stays.
  c = spawn_nst(run, dir.file("err2.txt"));
  wait_for_text(c, "iteration 2/");
  REQUIRE(::kill(c.pid, SIGINT) == 0);
  REQUIRE(wait_exit_code(c) == 130);
  const std::string good = slurp(ckpt);
  REQUIRE(!good.empty());
  c = spawn_nst({"stylize", "--resume", ckpt}, dir.file("err3.txt"), {full_disk});
  wait_for_text(c, "/100000");  // an iteration line (not "resuming at ..., iteration N")
  REQUIRE(::kill(c.pid, SIGINT) == 0);
  code = wait_exit_code(c);
  log = slurp(dir.file("err3.txt"));
  INFO(log);
  CHECK(code == 1);
  CHECK(log.find("no space left on the device") != std::string::npos);
  CHECK(log.find("the last good checkpoint is " + ckpt) != std::string::npos);
  CHECK(log.find("nst stylize --resume " + ckpt) != std::string::npos);
  CHECK(slurp(ckpt) == good);
  check_record_matches_picture(out + ".json", out);
  check_no_temporaries(dir.file(""));
}

// The scenario of the report, on a real file system: a 64 KiB tmpfs, a picture
// that needs about 150 KB. Needs the right to mount (root, or CAP_SYS_ADMIN);
// skips loudly without it.
TEST_CASE("stylize CLI: a real full disk (tmpfs) keeps the old picture", "[cli][atomic]") {
  NST_REQUIRE_SHARED("images/tubingen.jpg");
  NST_REQUIRE_WEIGHTS();
  ScratchDir dir("tmpfs");
  const std::string mnt = dir.file("small");
  fs::create_directories(mnt);
  if (::mount("nst-test", mnt.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k") != 0) {
    WARN("SKIPPED: cannot mount a tmpfs here (" << std::strerror(errno) << "): run as root to test a real full disk");
    return;
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const std::string out = mnt + "/out.png";
  const nst::Tensor small = random_pixels(16, 16, 7);
  nst::save_image(out, small);
  const std::string old_picture = slurp(out);
  std::vector<std::string> args = job(out, "2");
  args[8] = "256";  // --size 256
  const CliRun r = run_nst(args);
  INFO(describe(r));
  REQUIRE(r.signal == 0);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("cannot write '" + out + "': no space left on the device") != std::string::npos);
  CHECK(slurp(out) == old_picture);
  CHECK(!fs::exists(out + ".json"));
  CHECK(list_dir(mnt) == std::set<std::string>{"out.png"});
}

// Results printed to a standard output on a full disk (/dev/full answers every
// write with ENOSPC) are an error, not a silent success.
TEST_CASE("CLI: standard output on a full disk is an error", "[cli][atomic]") {
  if (!fs::exists("/dev/full")) {
    WARN("SKIPPED: no /dev/full on this system");
    return;
  }
  ScratchDir dir("stdout-full");
  const std::string err = dir.file("err.txt");
  const int status = std::system((std::string(NST_BINARY_PATH) + " --version > /dev/full 2> " + err).c_str());
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK(slurp(err).find("cannot write the standard output: no space left on the device") != std::string::npos);
}
