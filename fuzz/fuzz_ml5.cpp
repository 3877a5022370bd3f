// libFuzzer target: the ml5 fast-style reader. The input is manifest.json's
// text, optionally followed by a NUL byte and the bytes that fill the Variable
// files. The manifest goes through parse_ml5_manifest and, when it parses,
// ml5_network; when that gives a small network, a folder is written (each file
// the size its shape needs, cut from the bytes after the NUL, repeated; the
// first of those bytes picks one file to cut one byte short) and read_ml5 reads
// it. Only nst::Error may come out; a broken property aborts.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "convert/ml5.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_ml5: property broken: %s\n", what);
  std::abort();
}

void read_folder(const std::string& manifest, const std::vector<nst::io::Ml5Variable>& vars,
                 const nst::TransformerSpec& spec, const uint8_t* fill, size_t fill_size) {
  const std::filesystem::path dir = nst::fuzz::temp_dir() / "ml5";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  nst::fuzz::write_temp("ml5/manifest.json", reinterpret_cast<const uint8_t*>(manifest.data()),
                        manifest.size());
  const size_t cut = fill_size > 0 ? fill[0] : vars.size();
  size_t at = 0;
  for (const nst::io::Ml5Variable& v : vars) {
    if (v.filename.find('/') != std::string::npos || v.filename == "..")
      broken("a file name outside the folder passed the manifest check");
    if (v.filename == "manifest.json") continue;
    int64_t numel = 1;
    for (int64_t d : v.shape) numel *= d;
    std::vector<uint8_t> bytes(size_t(numel) * 4 - (size_t(v.index) == cut ? 1 : 0));
    for (uint8_t& b : bytes) b = fill_size > 0 ? fill[at++ % fill_size] : 0;
    nst::fuzz::write_temp("ml5/" + v.filename, bytes.data(), bytes.size());
  }
  try {
    const nst::Transformer net = nst::io::read_ml5(dir.string());
    if (nst::transformer_spec_json(net.spec()) != nst::transformer_spec_json(spec))
      broken("read_ml5 built another network than ml5_network");
    if (net.params().size() != vars.size()) broken("not one tensor per variable");
    const nst::Tensor out = net.stylize(nst::Tensor::full({1, 3, 3, 2}, 100.0f));
    if (out.shape() != (nst::Shape{1, 3, 3, 2})) broken("stylize changed the photo's shape");
  } catch (const nst::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const auto* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t text_size = nul ? size_t(nul - data) : size;
  const std::string manifest(reinterpret_cast<const char*>(data), text_size);
  std::vector<nst::io::Ml5Variable> vars;
  nst::TransformerSpec spec;
  try {
    vars = nst::io::parse_ml5_manifest(manifest, "manifest.json");
    spec = nst::io::ml5_network(vars, "fuzz");
  } catch (const nst::Error&) {
    return 0;
  }
  if (nst::transformer_param_shapes(spec).size() != vars.size())
    broken("the network needs another number of tensors than the manifest has");
  int64_t total = 0;
  for (const nst::io::Ml5Variable& v : vars) {
    int64_t numel = 1;
    for (int64_t d : v.shape) numel *= d;
    total += numel;
  }
  if (total <= (int64_t(1) << 16)) {
    const size_t fill_at = nul ? text_size + 1 : size;
    read_folder(manifest, vars, spec, data + fill_at, size - fill_at);
  }
  return 0;
}
