// Checksums used by the weight format and the converters.
//   fnv1a64: FNV-1a, 64-bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3),
//            one byte at a time: h ^= byte; h *= prime.
//   crc32:   the zip / IEEE 802.3 CRC (reflected polynomial 0xEDB88320, init and
//            final xor 0xFFFFFFFF), used to check .pth (zip) entries.
//   Sha256:  FIPS 180-4 SHA-256, for the checksum of a converted source.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace nst::io {

constexpr uint64_t kFnv1a64Basis = 0xcbf29ce484222325ULL;

// Continue a running FNV-1a 64 hash `h` over n bytes (start with kFnv1a64Basis).
uint64_t fnv1a64(const void* data, size_t n, uint64_t h = kFnv1a64Basis);

// Continue a running CRC-32 (start with 0) over n bytes.
uint32_t crc32(const void* data, size_t n, uint32_t crc = 0);

class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t n);
  std::array<uint8_t, 32> digest();  // finishes the hash
  std::string hex_digest();          // 64 lowercase hex digits

 private:
  void block(const uint8_t* p);
  std::array<uint32_t, 8> state_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_ = 0;
};

}  // namespace nst::io
