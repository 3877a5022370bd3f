// Subcommands of the `nst` program register themselves here:
//
//   static const nst::cli::Command classify{"classify", "top-5 ImageNet classes of an image", run};
//
// The CLI holds no algorithm: each subcommand parses its flags and calls the library.
#pragma once

#include <string>
#include <vector>

namespace nst::cli {

using Main = int (*)(int argc, const char* const* argv);  // argv[0] is the subcommand

struct Command {
  Command(std::string name, std::string summary, Main run);
  std::string name, summary;
  Main run;
};

const std::vector<const Command*>& commands();

}  // namespace nst::cli
