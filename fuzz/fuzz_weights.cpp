// libFuzzer target: the .nstw weight-file loader (header, index, checksums,
// then every tensor dequantised). Each input is tried as it is and with the
// header's file size, index checksum and header checksum made right
// (weights/FORMAT.md), so that mutations reach the index parser behind them.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "io/weights.hpp"
#include "optim/state_io.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

namespace {

void put_u64(std::string& b, size_t at, uint64_t v) { std::memcpy(b.data() + at, &v, 8); }

std::string with_fixed_header(std::string b) {
  if (b.size() < 64) return b;
  put_u64(b, 16, b.size());
  uint64_t index_size = 0;
  std::memcpy(&index_size, b.data() + 32, 8);
  if (index_size <= b.size() - 64)
    put_u64(b, 48, nst::fnv1a_update(nst::kFnvOffset, b.data() + 64, size_t(index_size)));
  put_u64(b, 56, nst::fnv1a_update(nst::kFnvOffset, b.data(), 56));
  return b;
}

void open_all(const std::string& bytes) {
  const std::string path =
      nst::fuzz::write_temp("w.nstw", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  try {
    const nst::io::WeightFile f = nst::io::WeightFile::open(path);
    for (const std::string& name : f.names()) {
      if (f.info(name).shape.numel() > (1 << 22)) continue;  // keep each run small
      (void)f.tensor(name);
    }
  } catch (const nst::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  open_all(bytes);
  open_all(with_fixed_header(bytes));
  return 0;
}
