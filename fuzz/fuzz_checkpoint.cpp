// libFuzzer target: the checkpoint loader, then the optimiser state inside it
// (as L-BFGS and as Adam) and the arguments it stores.
#include <cstddef>
#include <cstdint>
#include <sstream>

#include "nst/adam.hpp"
#include "nst/checkpoint.hpp"
#include "nst/config.hpp"
#include "nst/lbfgs.hpp"
#include "tensor/check.hpp"
#include "temp_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const std::string path = nst::fuzz::write_temp("c.ckpt", data, size);
  try {
    const nst::Checkpoint c = nst::load_checkpoint(path);
    const int64_t n = c.state.x.numel();
    try {
      nst::LbfgsState lbfgs(n, nst::LbfgsOptions());
      std::istringstream in(c.state.optimizer_state);
      lbfgs.load_state(in);
    } catch (const nst::Error&) {
    }
    try {
      nst::AdamState adam(n, nst::AdamOptions());
      std::istringstream in(c.state.optimizer_state);
      adam.load_state(in);
    } catch (const nst::Error&) {
    }
    std::vector<const char*> argv{"stylize"};
    for (const std::string& a : c.args) {
      if (a == "--help" || a == "-h") return 0;
      argv.push_back(a.c_str());
    }
    nst::StylizeConfig config;
    nst::parse_stylize_args(int(argv.size()), argv.data(), config);
  } catch (const nst::Error&) {
  }
  return 0;
}
