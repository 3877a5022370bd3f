// Binary optimiser-state files: a versioned, checksummed record.
//
//   magic (8 bytes) | version (u32) | fields ... | FNV-1a 64 of all bytes before
//
// Fields are written in the machine's byte order (little-endian on x86-64 and
// AArch64). Floats and doubles are stored bit for bit, so a restored state
// continues exactly as the uninterrupted run. Any failed read, wrong magic or
// version, out-of-range field or checksum mismatch throws nst::Error.
#pragma once

#include <cstdint>
#include <cstring>
#include <istream>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "tensor/check.hpp"

namespace nst {

// FNV-1a, 64 bit, updated byte by byte.
inline uint64_t fnv1a_update(uint64_t hash, const void* data, size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) {
    hash ^= bytes[i];
    hash *= 1099511628211ull;
  }
  return hash;
}
inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;

class StateWriter {
 public:
  StateWriter(std::ostream& out, const char (&magic)[9], uint32_t version) : out_(out) {
    bytes(magic, 8);
    value(version);
  }

  void bytes(const void* data, size_t size) {
    hash_ = fnv1a_update(hash_, data, size);
    out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  template <class T>
  void value(const T& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes(&v, sizeof(T));
  }
  void floats(const std::vector<float>& v) { bytes(v.data(), v.size() * sizeof(float)); }

  // Appends the checksum; throws if the stream failed.
  void finish(const char* what) {
    const uint64_t sum = hash_;
    out_.write(reinterpret_cast<const char*>(&sum), sizeof(sum));
    out_.flush();
    NST_CHECK(out_.good(), what, ": writing the state failed");
  }

 private:
  std::ostream& out_;
  uint64_t hash_ = kFnvOffset;
};

class StateReader {
 public:
  // Reads and checks the magic and the version.
  StateReader(std::istream& in, const char (&magic)[9], uint32_t version, const char* what)
      : StateReader(in, magic, version, version, what) {}
  // Any version from oldest to newest (version() tells which).
  StateReader(std::istream& in, const char (&magic)[9], uint32_t oldest, uint32_t newest,
              const char* what)
      : in_(in), what_(what) {
    char got[8];
    bytes(got, 8);
    NST_CHECK(std::memcmp(got, magic, 8) == 0, what_, ": not a state file (expected magic '", magic,
              "')");
    version_ = value<uint32_t>();
    NST_CHECK(version_ >= oldest && version_ <= newest, what_, ": state version ", version_,
              " is not supported (expected ", oldest == newest ? "" : std::to_string(oldest) + " to ",
              newest, ")");
  }
  uint32_t version() const { return version_; }

  void bytes(void* data, size_t size) {
    in_.read(static_cast<char*>(data), static_cast<std::streamsize>(size));
    NST_CHECK(in_.gcount() == static_cast<std::streamsize>(size), what_, ": state is truncated");
    hash_ = fnv1a_update(hash_, data, size);
  }
  template <class T>
  T value() {
    static_assert(std::is_trivially_copyable_v<T>);
    T v;
    bytes(&v, sizeof(T));
    return v;
  }
  // Reads exactly `count` floats into a fresh vector.
  std::vector<float> floats(int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    bytes(v.data(), v.size() * sizeof(float));
    return v;
  }
  // Throws unless `ok`, naming the field.
  void expect(bool ok, const std::string& field) {
    NST_CHECK(ok, what_, ": state field ", field, " is out of range (corrupt state)");
  }
  // Reads the checksum and compares it with the bytes read so far.
  void finish() {
    const uint64_t want = hash_;
    uint64_t got = 0;
    in_.read(reinterpret_cast<char*>(&got), sizeof(got));
    NST_CHECK(in_.gcount() == static_cast<std::streamsize>(sizeof(got)), what_,
              ": state is truncated (no checksum)");
    NST_CHECK(got == want, what_, ": state checksum mismatch (corrupt state)");
  }

 private:
  std::istream& in_;
  const char* what_;
  uint64_t hash_ = kFnvOffset;
  uint32_t version_ = 0;
};

}  // namespace nst
