#include "io/file_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tensor/check.hpp"

namespace nst {

namespace fs = std::filesystem;

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
