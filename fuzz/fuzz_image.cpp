// libFuzzer target: the image loading path (header checks, then stb decoding).
#include <cstddef>
#include <cstdint>
#include <string>

#include "io/image.hpp"
#include "tensor/check.hpp"
#include "tensor/tensor.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nst::ImageLimits limits;
  limits.max_pixels = 1 << 22;  // keep each run small; the check itself is what is tested
  try {
    nst::load_image_from_memory(std::string(reinterpret_cast<const char*>(data), size), "fuzz",
                                limits);
  } catch (const nst::Error&) {
  }
  nst::BufferPool::global().release_cached();  // one idle buffer per size would pile up
  return 0;
}
