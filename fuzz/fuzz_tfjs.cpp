// libFuzzer target: the TF.js reader. The input is model.json, then a NUL byte,
// then the bytes of the shard "shard.bin" (seeds name that shard in their paths).
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "convert/tfjs.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t json_size = nul ? size_t(nul - data) : size;
  const size_t shard_at = nul ? json_size + 1 : size;
  const std::string path = nst::fuzz::write_temp("model.json", data, json_size);
  nst::fuzz::write_temp("shard.bin", data + shard_at, size - shard_at);
  try {
    const nst::io::TfjsModel m = nst::io::read_tfjs(path);
    (void)nst::io::vgg19_from_tfjs(m);
  } catch (const nst::Error&) {
  }
  return 0;
}
