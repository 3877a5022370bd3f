// libFuzzer target: the PyTorch .pth reader (zip or legacy container, pickle).
#include <cstddef>
#include <cstdint>

#include "convert/pth.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const std::string path = nst::fuzz::write_temp("m.pth", data, size);
  try {
    const nst::io::PthStateDict d = nst::io::read_pth(path);
    (void)nst::io::vgg19_from_pth(d);
  } catch (const nst::Error&) {
  }
  return 0;
}
