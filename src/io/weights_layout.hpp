// Byte layout constants of the .nstw format shared by its reader and writer
// (weights/FORMAT.md). Internal to src/io.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace nst::io::nstw {

static_assert(std::endian::native == std::endian::little,
              "the .nstw reader and writer assume a little-endian host");

constexpr uint8_t kMagic[8] = {'N', 'S', 'T', 'W', 0x0D, 0x0A, 0x1A, 0x0A};
// Version 1: tensors + input convention. Version 2 adds one text after the
// source checksum: the network description (JSON, at most kMaxNetwork bytes).
// The writer uses version 1 when there is no description, so VGG-19 files keep
// their bytes; the reader takes both.
constexpr uint32_t kVersion = 1;
constexpr uint32_t kVersionNetwork = 2;
constexpr uint32_t kMaxNetwork = 1u << 20;
constexpr uint64_t kHeaderSize = 64;
constexpr uint64_t kAlign = 64;
constexpr uint32_t kMaxTensors = 100000;
constexpr uint32_t kMaxName = 256;
constexpr uint32_t kMaxText = 4096;
constexpr int kMaxRank = 5;
constexpr uint64_t kMaxNumel = uint64_t(1) << 40;

// Header field offsets.
constexpr size_t kOffVersion = 8, kOffCount = 12, kOffFileSize = 16, kOffIndexOffset = 24,
                 kOffIndexSize = 32, kOffDataOffset = 40, kOffIndexChecksum = 48,
                 kOffHeaderChecksum = 56;

inline uint64_t align_up(uint64_t x) { return (x + kAlign - 1) / kAlign * kAlign; }

template <class T>
T load(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <class T>
void store(uint8_t* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace nst::io::nstw
