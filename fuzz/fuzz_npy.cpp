// libFuzzer target: the .npy reader.
#include <cstddef>
#include <cstdint>

#include "io/npy.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const std::string path = nst::fuzz::write_temp("t.npy", data, size);
  try {
    (void)nst::load_npy(path);
  } catch (const nst::Error&) {
  }
  return 0;
}
