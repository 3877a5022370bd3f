// The one file writer under injected faults, the way SQLite tests its I/O: for
// every writer the program has (PNG, JPEG, npy, checkpoint, weight file, run
// record) and every N up to the number of operations it makes, the Nth
// operation fails with ENOSPC or EIO. After each failure the target must be the
// old file or the complete new one (never anything else), no temporary may be
// left in the folder, and the message must name the file and the cause.
#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <set>
#include <string>

#include "io/atomic_write.hpp"
#include "io/image.hpp"
#include "io/npy.hpp"
#include "io/weights.hpp"
#include "io_test_util.hpp"
#include "nst/checkpoint.hpp"
#include "testing.hpp"

namespace {

namespace fs = std::filesystem;
using nst::testing::ScratchDir;

struct Writer {
  std::string name;  // also the target's file name
  std::function<void(const std::string& path)> write;
};

// Turns injection off when the test ends, whatever happens.
struct FaultGuard {
  ~FaultGuard() { nst::set_io_fault({}); }
};

std::vector<Writer> every_writer() {
  const nst::Tensor picture = nst::testing::random_tensor({1, 3, 37, 53}, 3, 0.0f, 255.0f);
  // 20 MB: the sink writes in 8 MiB pieces, so a write fails in the middle of the file.
  const nst::Tensor big = nst::testing::random_tensor({5, 1000, 1000}, 4);
  nst::Checkpoint ckpt;
  ckpt.args = {"--content", "a.jpg", "--style", "b.jpg"};
  ckpt.state.done = 5;
  ckpt.state.x = nst::testing::random_tensor({1, 3, 9, 11}, 5);
  ckpt.state.optimizer_state = "optimiser state";
  std::vector<nst::io::WeightEntry> entries;
  entries.push_back(nst::io::make_float_entry("a.weight", nst::testing::random_tensor({4, 3, 3, 3}, 6)));
  entries.push_back(nst::io::make_float_entry("a.bias", nst::testing::random_tensor({4}, 7)));
  const nst::io::WeightMetadata meta{nst::io::caffe_convention(), "test", "sha256:00", ""};
  return {
      {"out.png", [=](const std::string& p) { nst::save_image(p, picture); }},
      {"out.jpg", [=](const std::string& p) { nst::save_image(p, picture, 90); }},
      {"grad.npy", [=](const std::string& p) { nst::save_npy(p, big); }},
      {"run.ckpt", [=](const std::string& p) { nst::save_checkpoint(p, ckpt); }},
      {"model.nstw", [=](const std::string& p) { nst::io::write_weight_file(p, meta, entries); }},
      {"out.png.json", [](const std::string& p) { nst::write_file_atomically(p, "{\"record\": 1}\n"); }},
  };
}

std::string slurp(const std::string& path) {
  const std::vector<uint8_t> b = nst::testing::read_bytes(path);
  return std::string(b.begin(), b.end());
}

// Runs `w` with the nth operation of `kind` failing with err; checks what is
// left. Returns false when the writer made fewer such operations (no failure).
bool check_one_fault(const Writer& w, const ScratchDir& dir, const std::string& kind, int64_t nth, int err,
                     const std::string* old, const std::string& complete) {
  const std::string target = dir.file(w.name);
  fs::remove(target);
  if (old) nst::testing::write_bytes(target, std::vector<uint8_t>(old->begin(), old->end()));
  INFO(w.name << ": operation " << nth << " of kind " << kind << " fails with "
              << nst::describe_errno(err) << (old ? ", old file present" : ", no old file"));
  nst::set_io_fault({kind, nth, err});
  bool in_place = false;
  try {
    w.write(target);
    nst::set_io_fault({});
    CHECK(slurp(target) == complete);
    return false;
  } catch (const nst::WriteError& e) {
    nst::set_io_fault({});
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("'" + target + "'") != std::string::npos);
    CHECK(what.find(nst::describe_errno(err)) != std::string::npos);
    CHECK(e.errno_value == err);
    in_place = e.new_file_in_place;
  }
  if (in_place) {
    CHECK(slurp(target) == complete);  // only the folder's sync failed
  } else if (old) {
    CHECK(slurp(target) == *old);
  } else {
    CHECK(!fs::exists(target));
  }
  const std::set<std::string> left = [&] {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(fs::path(target).parent_path()))
      names.insert(e.path().filename().string());
    return names;
  }();
  CHECK(left.size() == (fs::exists(target) ? 1u : 0u));  // no temporary left behind
  return true;
}

}  // namespace

TEST_CASE("atomic write: errno texts and the fault spec", "[io][atomic]") {
  CHECK(nst::describe_errno(ENOSPC) == "no space left on the device");
  CHECK(nst::describe_errno(EIO).find("input/output error") == 0);
  const nst::IoFault a = nst::parse_io_fault("3:ENOSPC");
  CHECK((a.kind == "any" && a.nth == 3 && a.err == ENOSPC));
  const nst::IoFault b = nst::parse_io_fault("rename:1:EIO");
  CHECK((b.kind == "rename" && b.nth == 1 && b.err == EIO));
  for (const char* bad : {"", "3", "x:3:EIO", "write:0:EIO", "write:-1:EIO", "write:2:EFOO", "write::EIO",
                          "1:2:3", "99999999999999999:EIO"})
    CHECK_THROWS_WITH(nst::parse_io_fault(bad), Catch::Contains("NST_TEST_FAIL_IO"));
}

TEST_CASE("atomic write: every writer, every failing operation, ENOSPC and EIO", "[io][atomic]") {
  FaultGuard guard;
  for (const Writer& w : every_writer()) {
    ScratchDir dir("atomic");
    // The complete file and the number of operations it takes.
    const std::string ref = dir.file("ref_" + w.name);
    nst::set_io_fault({});
    w.write(ref);
    const int64_t ops = nst::io_operation_count();
    const std::string complete = slurp(ref);
    fs::remove(ref);
    INFO(w.name << ": " << ops << " operations");
    REQUIRE(ops >= 6);  // open, write(s), fsync, close, rename, folder sync
    const std::string old = "an older, different file\n";
    for (int err : {ENOSPC, EIO})
      for (int64_t n = 1; n <= ops; ++n) {
        CHECK(check_one_fault(w, dir, "any", n, err, &old, complete));
        CHECK(check_one_fault(w, dir, "any", n, err, nullptr, complete));
      }
    // One more than it makes: nothing fails, the new file replaces the old.
    nst::set_io_fault({"any", ops + 1, EIO});
    w.write(dir.file(w.name));
    nst::set_io_fault({});
    CHECK(slurp(dir.file(w.name)) == complete);
  }
}

TEST_CASE("atomic write: each write of a large file can fail", "[io][atomic]") {
  FaultGuard guard;
  ScratchDir dir("atomic-writes");
  const Writer w = every_writer()[2];  // grad.npy, 20 MB
  REQUIRE(w.name == "grad.npy");
  const std::string ref = dir.file("ref.npy");
  w.write(ref);
  const std::string complete = slurp(ref);
  fs::remove(ref);
  const std::string old = "old";
  int64_t writes = 0;
  while (check_one_fault(w, dir, "write", writes + 1, ENOSPC, &old, complete)) ++writes;
  CHECK(writes == 4);  // the header, then 20 MB of data in 8 MiB pieces
}

TEST_CASE("atomic write: a missing folder or a folder as target are clear errors", "[io][atomic]") {
  ScratchDir dir("atomic-errors");
  CHECK_THROWS_WITH(nst::write_file_atomically(dir.file("no/such/x.json"), "{}"),
                    Catch::Contains("does not exist"));
  fs::create_directories(dir.file("sub"));
  CHECK_THROWS_WITH(nst::write_file_atomically(dir.file("sub"), "{}"), Catch::Contains("it is a folder"));
}
