#include "common.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst::cli {

std::string resolve_weights(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("NST_WEIGHTS"); env && *env) return env;
  char buf[4096];
  const ssize_t len = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::filesystem::path dir = ".";
  if (len > 0) dir = std::filesystem::path(std::string(buf, size_t(len))).parent_path();
  // Beside the program (the build tree), or where `cmake --install` / the Debian
  // package put it (PREFIX/bin/nst, PREFIX/share/nst/vgg19.nstw).
  const std::filesystem::path candidate = dir / "vgg19.nstw";
  const std::filesystem::path installed = dir.parent_path() / "share" / "nst" / "vgg19.nstw";
  if (!std::filesystem::exists(candidate) && std::filesystem::exists(installed)) return installed.string();
  NST_CHECK(std::filesystem::exists(candidate), "no weight file given and '", candidate.string(),
            "' does not exist: run `make weights`, or pass --weights FILE (or set NST_WEIGHTS)");
  return candidate.string();
}

void apply_threads(int64_t threads) { kernels::set_num_threads(int(threads)); }

}  // namespace nst::cli
