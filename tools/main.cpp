// nst — neural style transfer on CPUs. `nst --help` lists the subcommands.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>

#include "cli.hpp"
#include "io/atomic_write.hpp"
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

namespace {

// Standard output may be a file on a full disk (`nst loss --json > out.json`):
// a result that did not reach it is an error, not a success.
int check_stdout(int status) {
  std::cout.flush();
  if (std::fflush(stdout) == 0 && !std::cout.fail() && !std::ferror(stdout)) return status;
  // errno still holds the failed write's cause when it is one a write can have.
  const int err = errno;
  const bool known = err == ENOSPC || err == EDQUOT || err == EIO || err == EFBIG || err == EPIPE;
  std::cerr << "nst: error: cannot write the standard output: "
            << (known ? nst::describe_errno(err) : std::string("write failed")) << "\n";
  return status == 0 ? 1 : status;
}

int run_command(int argc, char** argv) {
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
}  // namespace

int main(int argc, char** argv) { return check_stdout(run_command(argc, argv)); }
