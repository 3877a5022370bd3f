// Helpers for the end-to-end CLI tests: run the real `nst` binary with
// arguments and capture its exit status, stdout and stderr; scratch folders;
// small generated images (PNG through stb; hand-built ones in png_util.hpp);
// the JSON of a run record.
//
//   nst::testing::ScratchDir dir("cli");
//   const CliRun r = run_nst({"loss", "--content", c, "--style", s, "--image", c, "--json"});
//   check_clean_exit(r);                                  // exit 0, no signal
//   const nst::io::Json j = nst::io::parse_json(r.out, "stdout");
#pragma once

#include <fcntl.h>
#include <stb_image_write.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "io/file_util.hpp"
#include "io/image.hpp"
#include "io/json.hpp"
#include "io_test_util.hpp"
#include "png_util.hpp"
#include "testing.hpp"

namespace nst::testing {

struct CliRun {
  int exit_code = -1;  // valid when signal == 0
  int signal = 0;      // the signal that ended the process (a crash or the timeout)
  std::string out, err;
};

struct CliOptions {
  int timeout_seconds = 60;   // SIGALRM ends a hung process: the test then fails
  bool unprivileged = false;  // when run as root, drop to user "nobody" (permission tests)
  std::vector<std::pair<std::string, std::string>> env;  // variables to set ("" value: unset)
  std::string binary = NST_BINARY_PATH;                  // another copy of nst
};

// fork + exec of NST_BINARY_PATH; stdout and stderr go to temporary files.
inline CliRun run_nst(const std::vector<std::string>& args, const CliOptions& opt = {}) {
  const ScratchDir io("cli-io");
  const std::string out_path = io.file("stdout"), err_path = io.file("stderr");
  std::vector<std::string> full{opt.binary};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : full) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (out < 0 || err < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(126);
    if (opt.unprivileged && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
      ::_exit(126);
    for (const auto& [name, value] : opt.env)
      if (value.empty() ? ::unsetenv(name.c_str()) != 0
                        : ::setenv(name.c_str(), value.c_str(), 1) != 0)
        ::_exit(126);
    ::alarm(unsigned(opt.timeout_seconds));  // survives exec
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
  }
  CliRun r;
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = read_file(out_path);
  r.err = read_file(err_path);
  return r;
}

inline std::string describe(const CliRun& r) {
  return "exit " + std::to_string(r.exit_code) + ", signal " + std::to_string(r.signal) +
         "\n--- stdout:\n" + r.out + "\n--- stderr:\n" + r.err;
}

// The run ended normally with exit code 0.
inline void check_clean_exit(const CliRun& r) {
  INFO(describe(r));
  REQUIRE(r.signal == 0);
  REQUIRE(r.exit_code == 0);
}

// The run ended normally (no crash, no timeout) with a non-zero exit code and
// a message containing `message` on stderr.
inline void check_error_exit(const CliRun& r, const std::string& message) {
  INFO(describe(r));
  REQUIRE(r.signal == 0);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find(message) != std::string::npos);
  CHECK(r.out.empty());
}

// The default weight file, next to the binary (`make weights` puts it there).
inline std::string default_weights() {
  return (std::filesystem::path(NST_BINARY_PATH).parent_path() / "vgg19.nstw").string();
}

inline std::string shared_image(const std::string& name) {
  return shared_dir() + "/images/" + name;
}

// Names of the entries of a folder (to check that nothing was left behind).
inline std::set<std::string> list_dir(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    names.insert(e.path().filename().string());
  return names;
}

inline io::Json read_json(const std::string& path) { return io::parse_json(read_file(path), path); }

inline std::vector<double> numbers(const io::Json& array) {
  std::vector<double> v;
  for (const io::Json& x : array.items()) v.push_back(x.as_number());
  return v;
}

// Random pixels [1, 3, h, w] in 0..255, whole numbers (exact through PNG).
inline Tensor random_pixels(int64_t h, int64_t w, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Tensor t = Tensor::empty({1, 3, h, w});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float(rng() % 256);
  return t;
}

// A PNG with 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) 8-bit channels.
inline void write_png_channels(const std::string& path, int w, int h, int channels, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<unsigned char> px(size_t(w * h * channels));
  for (unsigned char& p : px) p = static_cast<unsigned char>(rng() % 256);
  REQUIRE(stbi_write_png(path.c_str(), w, h, channels, px.data(), w * channels) != 0);
}

inline void write_text(const std::string& path, const std::string& bytes) {
  write_bytes(path, std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

}  // namespace nst::testing

// Skips the rest of a test, loudly, when the default weight file has not been made.
#define NST_REQUIRE_WEIGHTS()                                                                   \
  do {                                                                                          \
    if (!std::filesystem::exists(::nst::testing::default_weights())) {                          \
      WARN("SKIPPED: '" << ::nst::testing::default_weights() << "' is missing (make weights)"); \
      return;                                                                                   \
    }                                                                                           \
  } while (0)
