// Fuzz helper: the loaders read paths, so each input is written to a file in a
// private folder of this process (under $TMPDIR or /tmp), replaced on every run.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tensor/tensor.hpp"

namespace nst::fuzz {

inline std::filesystem::path temp_dir() {
  static const std::filesystem::path dir = [] {
    const char* env = std::getenv("TMPDIR");
    std::filesystem::path d = std::filesystem::path(env && *env ? env : "/tmp") /
                              ("nst_fuzz_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

// Writes bytes to temp_dir()/name and returns the path.
inline std::string write_temp(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = (temp_dir() / name).string();
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Frees the buffer pool's idle buffers at the end of a run: the pool keeps one
// per distinct size, and fuzzed shapes would otherwise grow it without bound.
struct ReleasePoolAtExit {
  ~ReleasePoolAtExit() { nst::BufferPool::global().release_cached(); }
};

}  // namespace nst::fuzz
