// nst — neural style transfer on CPUs. `nst --help` lists the subcommands.
#include <cstring>
#include <exception>
#include <iostream>

#include "cli.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "tensor/check.hpp"

namespace nst::cli {

namespace {
std::vector<const Command*>& registry() {
  static std::vector<const Command*> list;
  return list;
}
}  // namespace

Command::Command(std::string name_, std::string summary_, Main run_)
    : name(std::move(name_)), summary(std::move(summary_)), run(run_) {
  registry().push_back(this);
}

const std::vector<const Command*>& commands() { return registry(); }

}  // namespace nst::cli

namespace {

void print_usage(std::ostream& os) {
  os << "usage: nst <command> [options]   (nst <command> --help for its options)\n\n"
        "Neural style transfer on CPUs.\n\ncommands:\n";
  for (const auto* c : nst::cli::commands())
    os << "  " << c->name << std::string(c->name.size() < 12 ? 12 - c->name.size() : 1, ' ')
       << c->summary << "\n";
  os << "\noptions:\n  --help      this help\n  --version   version, SIMD level and threads\n";
}

void print_version() {
  std::cout << "nst " << NST_VERSION << " (simd " << nst::kernels::simd_level_name(nst::kernels::simd_level())
            << ", supported:";
  for (auto l : nst::kernels::supported_simd_levels()) std::cout << " " << nst::kernels::simd_level_name(l);
  std::cout << "; threads " << nst::kernels::num_threads() << ")\n";
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc < 2) {
      print_usage(std::cerr);
      return 2;
    }
    const char* cmd = argv[1];
    if (!std::strcmp(cmd, "--help") || !std::strcmp(cmd, "-h") || !std::strcmp(cmd, "help")) {
      print_usage(std::cout);
      return 0;
    }
    if (!std::strcmp(cmd, "--version")) {
      print_version();
      return 0;
    }
    for (const auto* c : nst::cli::commands())
      if (c->name == cmd) return c->run(argc - 1, argv + 1);
    std::cerr << "nst: unknown command '" << cmd << "' (see nst --help)\n";
    return 2;
  } catch (const nst::Error& e) {
    std::cerr << "nst: error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "nst: internal error: " << e.what() << "\n";
    return 1;
  }
}
