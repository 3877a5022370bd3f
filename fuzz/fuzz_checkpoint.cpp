// libFuzzer target: the checkpoint loader, then the optimiser state inside it
// (as L-BFGS and as Adam) and the arguments it stores. Each input is tried as
// it is and with its checksums made right (the file's, then the optimiser
// state's), so that mutations reach the field parsers behind them.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>

#include "nst/checkpoint.hpp"
#include "nst/config.hpp"
#include "tools/options.hpp"
#include "optim/adam.hpp"
#include "optim/lbfgs.hpp"
#include "optim/state_io.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

namespace {

// bytes with its last 8 bytes replaced by the FNV-1a 64 of the ones before.
std::string with_checksum(std::string bytes) {
  if (bytes.size() < 8) return bytes;
  const uint64_t h = nst::fnv1a_update(nst::kFnvOffset, bytes.data(), bytes.size() - 8);
  std::memcpy(bytes.data() + bytes.size() - 8, &h, 8);
  return bytes;
}

void load_all(const std::string& bytes) {
  const std::string path =
      nst::fuzz::write_temp("c.ckpt", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  try {
    const nst::Checkpoint c = nst::load_checkpoint(path);
    const int64_t n = c.state.x.numel();
    const std::string state = with_checksum(c.state.optimizer_state);
    try {
      nst::LbfgsState lbfgs(n, nst::LbfgsOptions());
      std::istringstream in(state);
      lbfgs.load_state(in);
    } catch (const nst::Error&) {
    }
    try {
      nst::AdamState adam(n, nst::AdamOptions());
      std::istringstream in(state);
      adam.load_state(in);
    } catch (const nst::Error&) {
    }
    std::vector<const char*> argv{"stylize"};
    for (const std::string& a : c.args) {
      if (a == "--help" || a == "-h") return;  // prints help; nothing to test
      argv.push_back(a.c_str());
    }
    nst::StylizeConfig config;
    nst::cli::parse_stylize_args(int(argv.size()), argv.data(), config);
  } catch (const nst::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  load_all(bytes);
  load_all(with_checksum(bytes));
  return 0;
}
