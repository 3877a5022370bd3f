// libFuzzer target: the .nstw weight-file loader (header, index, checksums,
// then every tensor dequantised). Each input is tried as it is and with the
// header's file size, index checksum and header checksum made right
// (weights/FORMAT.md), so that mutations reach the index parser behind them.
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/weights.hpp"
#include "nstw_header.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

namespace {

using nst::fuzz::with_fixed_header;

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
