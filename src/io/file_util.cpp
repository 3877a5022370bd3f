#include "io/file_util.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tensor/check.hpp"

namespace nst {

namespace fs = std::filesystem;

void write_atomically(const std::string& path, const std::function<bool(const std::string&)>& write) {
  NST_CHECK(!path.empty(), "output path is empty");
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  NST_CHECK(fs::is_directory(dir, ec), "cannot write '", path, "': folder '", dir.string(),
            "' does not exist");
  NST_CHECK(!fs::is_directory(target, ec), "cannot write '", path, "': it is a folder");
  static std::atomic<int> counter{0};
  std::string tmp_name = target.filename().string();
  tmp_name.insert(tmp_name.begin(), '.');
  tmp_name += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string tmp = (dir / tmp_name).string();
  bool ok = false;
  try {
    ok = write(tmp);
  } catch (...) {
    fs::remove(tmp, ec);
    throw;
  }
  if (!ok) {
    fs::remove(tmp, ec);
    fail("cannot write '", path, "': writing failed (disk full or no permission?)");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    fail("cannot write '", path, "': ", ec.message());
  }
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_atomically(path, [&](const std::string& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    return static_cast<bool>(out);
  });
}

std::string read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  NST_CHECK(fs::exists(path, ec), what, " '", path, "': no such file");
  NST_CHECK(!fs::is_directory(path, ec), what, " '", path, "': is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  NST_CHECK(in, what, " '", path, "': cannot open (", std::strerror(errno), ")");
  std::ostringstream ss;
  ss << in.rdbuf();
  NST_CHECK(!in.bad(), what, " '", path, "': read error");
  return ss.str();
}

std::string file_extension(const std::string& path) {
  std::string ext = fs::path(path).extension().string();
  if (!ext.empty()) ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

}  // namespace nst
