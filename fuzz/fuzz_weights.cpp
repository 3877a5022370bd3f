// libFuzzer target: the .nstw weight-file loader (header, index, checksums,
// then every tensor dequantised).
#include <cstddef>
#include <cstdint>

#include "io/weights.hpp"
#include "tensor/check.hpp"
#include "temp_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const std::string path = nst::fuzz::write_temp("w.nstw", data, size);
  try {
    const nst::io::WeightFile f = nst::io::WeightFile::open(path);
    for (const std::string& name : f.names()) {
      if (f.info(name).shape.numel() > (1 << 22)) continue;  // keep each run small
      (void)f.tensor(name);
    }
  } catch (const nst::Error&) {
  }
  return 0;
}
