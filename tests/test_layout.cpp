// The shape of the source tree, as docs/CONVENTIONS.md describes it, checked
// on the files themselves:
//   - a folder includes only from the folders below it (the table below), so
//     nothing reaches back up: kernels know no ops, ops know no models, the
//     library knows no CLI;
//   - xsimd and oneTBB are included only in src/nn/kernels, and only the
//     kernels call kernels::dispatch;
//   - no source file is longer than about 400 lines, except the few listed here
//     with the reason.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

// Folder (under src/, or "tools") -> the folders its files may include from,
// besides itself. Lower folders first.
const std::map<std::string, std::set<std::string>> kMayInclude = {
    {"tensor", {}},
    {"nn/kernels", {"tensor"}},
    {"nn", {"tensor", "nn/kernels"}},
    {"io", {"tensor"}},
    {"optim", {"tensor", "nn/kernels"}},
    {"models", {"tensor", "nn/kernels", "nn", "io"}},
    {"nst", {"tensor", "nn/kernels", "nn", "io", "optim", "models"}},
    {"convert", {"tensor", "io", "models"}},
    {"tools", {"tensor", "nn/kernels", "nn", "io", "optim", "models", "nst", "convert"}},
};

// Files allowed beyond ~400 lines, and why.
const std::map<std::string, std::string> kLongFiles = {
    {"src/optim/lbfgs.cpp", "L-BFGS: the two-loop recursion, the step and its stopping rules, and the "
                            "state record, kept together as one algorithm (Nocedal & Wright 7.4, 7.5)"},
};
constexpr int kMaxLines = 420;

struct Source {
  std::string path;   // relative to the repository, "src/nn/gram.cpp"
  std::string folder; // "nn", "nn/kernels", "tools"
  std::vector<std::string> lines;
};

std::vector<Source> sources() {
  const fs::path root(NST_SOURCE_DIR);
  std::vector<Source> out;
  for (const char* top : {"src", "tools"})
    for (const auto& e : fs::recursive_directory_iterator(root / top)) {
      const std::string ext = e.path().extension().string();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp")) continue;
      Source s;
      s.path = fs::relative(e.path(), root).generic_string();
      const std::string dir = fs::relative(e.path().parent_path(), root).generic_string();
      s.folder = dir.rfind("src/", 0) == 0 ? dir.substr(4) : dir;
      std::ifstream in(e.path());
      for (std::string line; std::getline(in, line);) s.lines.push_back(line);
      out.push_back(std::move(s));
    }
  REQUIRE(out.size() > 50);
  return out;
}

// The folder of a quoted include ("nn/kernels/gemm.hpp" -> "nn/kernels"), or "".
std::string include_folder(const std::string& line) {
  const std::string tag = "#include \"";
  if (line.rfind(tag, 0) != 0) return "";
  const std::string path = line.substr(tag.size(), line.find('"', tag.size()) - tag.size());
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

}  // namespace

TEST_CASE("layout: no folder includes from a folder above it", "[layout]") {
  for (const Source& s : sources()) {
    INFO(s.path);
    const auto rule = kMayInclude.find(s.folder);
    REQUIRE(rule != kMayInclude.end());  // a new folder needs its row in the table
    for (const std::string& line : s.lines) {
      const std::string folder = include_folder(line);
      if (folder.empty() || folder == s.folder) continue;
      INFO(line);
      CHECK(rule->second.count(folder) == 1);
    }
  }
}

TEST_CASE("layout: xsimd, oneTBB and dispatch only in src/nn/kernels", "[layout]") {
  for (const Source& s : sources()) {
    if (s.folder == "nn/kernels") continue;
    for (const std::string& line : s.lines) {
      INFO(s.path << ": " << line);
      CHECK(line.find("#include <xsimd") == std::string::npos);
      CHECK(line.find("#include <tbb") == std::string::npos);
      CHECK(line.find("#include <oneapi/tbb") == std::string::npos);
      CHECK(line.find("kernels::dispatch") == std::string::npos);
    }
  }
}

TEST_CASE("layout: source files stay short", "[layout]") {
  for (const Source& s : sources()) {
    INFO(s.path << ": " << s.lines.size() << " lines");
    if (kLongFiles.count(s.path)) continue;
    CHECK(s.lines.size() <= size_t(kMaxLines));
  }
}
