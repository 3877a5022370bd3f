// libFuzzer target: the argument parser of `nst stylize` and `nst loss`.
// The input is split at NUL bytes into argv.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "nst/config.hpp"
#include "tools/options.hpp"
#include "tensor/check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"stylize"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += char(data[i]);
    }
  }
  args.push_back(cur);
  std::vector<const char*> argv;
  for (const auto& a : args) {
    if (a == "--help" || a == "-h") return 0;  // prints help; nothing to test
    argv.push_back(a.c_str());
  }
  try {
    nst::StylizeConfig c;
    nst::cli::parse_stylize_args(int(argv.size()), argv.data(), c);
  } catch (const nst::Error&) {
  }
  try {
    nst::LossConfig c;
    argv[0] = "loss";
    nst::cli::parse_loss_args(int(argv.size()), argv.data(), c);
  } catch (const nst::Error&) {
  }
  return 0;
}
