// libFuzzer target: the image loading path (header checks, stb decoding, then the
// EXIF orientation of JPEGs). The EXIF reader also runs on every input by itself,
// so it sees the inputs that stb refuses too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "io/exif.hpp"
#include "io/image.hpp"
#include "io/warning.hpp"
#include "tensor/check.hpp"
#include "tensor/tensor.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Warnings are expected here: each one must name the input; none is printed.
  nst::set_warning_handler([](const std::string& message) {
    if (message.rfind("image 'fuzz': ignoring its EXIF orientation (", 0) != 0) std::abort();
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const nst::ExifOrientation exif = nst::read_jpeg_orientation(bytes);
  if (exif.value < 1 || exif.value > 8 || (!exif.problem.empty() && exif.value != 1)) std::abort();
  nst::ImageLimits limits;
  limits.max_pixels = 1 << 22;  // keep each run small; the check itself is what is tested
  try {
    nst::load_image_from_memory(bytes, "fuzz", limits);
  } catch (const nst::Error&) {
  }
  nst::BufferPool::global().release_cached();  // one idle buffer per size would pile up
  return 0;
}
