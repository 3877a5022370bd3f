// Reader of the PyTorch reference fixtures made by tests/fixtures/make_fixtures.py
// (format described there: magic "NSTFIX01", then named float32 tensors).
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>

#include "io/file_util.hpp"
#include "tensor/check.hpp"
#include "tensor/tensor.hpp"

namespace nst::testing {

inline std::map<std::string, Tensor> read_fixture(const std::string& name) {
  const std::string path = std::string(NST_SOURCE_DIR) + "/tests/fixtures/" + name;
  const std::string bytes = read_file(path, "fixture");
  size_t pos = 0;
  auto take = [&](void* dst, size_t n) {
    NST_CHECK(pos + n <= bytes.size(), "fixture '", path, "': truncated");
    std::memcpy(dst, bytes.data() + pos, n);
    pos += n;
  };
  char magic[8];
  take(magic, 8);
  NST_CHECK(std::memcmp(magic, "NSTFIX01", 8) == 0, "fixture '", path, "': bad magic");
  uint32_t count = 0;
  take(&count, 4);
  std::map<std::string, Tensor> out;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t len = 0, rank = 0;
    take(&len, 4);
    NST_CHECK(len < 256, "fixture '", path, "': bad name length");
    std::string tname(len, '\0');
    take(tname.data(), len);
    take(&rank, 4);
    NST_CHECK(rank <= 5, "fixture '", path, "': bad rank");
    Shape shape;
    for (uint32_t d = 0; d < rank; ++d) {
      int64_t dim = 0;
      take(&dim, 8);
      shape.push_back(dim);
    }
    Tensor t = Tensor::empty(shape);
    take(t.data(), size_t(t.numel()) * 4);
    out[tname] = t;
  }
  return out;
}

}  // namespace nst::testing
