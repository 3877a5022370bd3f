// Helpers for the weight I/O tests: a scratch folder and whole-file byte access.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace nst::testing {

// A fresh folder, removed when the object dies: under $TMPDIR when set, else in
// /dev/shm when present (the corruption tests write hundreds of small files, which
// is slow on some disks), else the system temp dir.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& tag) {
    const char* tmpdir = std::getenv("TMPDIR");
    const bool shm = !(tmpdir && *tmpdir) && std::filesystem::is_directory("/dev/shm");
    path_ = (shm ? std::filesystem::path("/dev/shm") : std::filesystem::temp_directory_path()) /
            ("nst-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(is), {});
}

inline void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream os(path, std::ios::binary | std::ios::trunc);
  os.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

inline std::string fixture(const std::string& name) {
  return std::string(NST_SOURCE_DIR) + "/tests/data/" + name;
}

}  // namespace nst::testing
