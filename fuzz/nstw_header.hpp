// Fuzz helper for .nstw inputs: the header's file size, index checksum and
// header checksum made right (weights/FORMAT.md), so that mutated bytes get
// past the header to the index and the tensors behind it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "io/checksum.hpp"

namespace nst::fuzz {

inline void put_u64(std::string& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }

// b with header fields 16 (file size), 48 (index checksum, when the index size
// at 32 fits) and 56 (header checksum) recomputed; shorter than a header: b.
inline std::string with_fixed_header(std::string b) {
  if (b.size() < 64) return b;
  put_u64(b, 16, b.size());
  uint64_t index_size = 0;
  std::memcpy(&index_size, b.data() + 32, 8);
  if (index_size <= b.size() - 64) put_u64(b, 48, nst::io::fnv1a64(b.data() + 64, size_t(index_size)));
  put_u64(b, 56, nst::io::fnv1a64(b.data(), 56));
  return b;
}

}  // namespace nst::fuzz
