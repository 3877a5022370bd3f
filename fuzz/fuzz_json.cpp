// libFuzzer target: the JSON parser (src/io/json.hpp) on any text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "io/json.hpp"
#include "tensor/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    (void)nst::io::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const nst::Error&) {
  }
  return 0;
}
