// The `nst stylize` end-to-end tests (test_cli_stylize*.cpp): a quick valid run on
// the shared images and ways to vary it.
#pragma once

#include <algorithm>

#include "cli_util.hpp"

namespace nst::testing {

// stylize on tubingen + starry_night at 32 px, 2 iterations, no printing.
inline std::vector<std::string> base_args(const std::string& output) {
  return {"stylize",
          "--content",
          shared_image("tubingen.jpg"),
          "--style",
          shared_image("starry_night.jpg"),
          "--output",
          output,
          "--weights",
          default_weights(),
          "--size",
          "32",
          "--iterations",
          "2",
          "--print-every",
          "0"};
}

// args with `more` appended; an option already in args gets the new value instead.
inline std::vector<std::string> with(std::vector<std::string> args,
                                     const std::vector<std::string>& more) {
  const auto given = static_cast<std::ptrdiff_t>(args.size());
  for (size_t i = 0; i < more.size(); ++i) {
    const bool has_value = i + 1 < more.size() && more[i + 1].rfind("--", 0) != 0;
    const auto it = std::find(args.begin(), args.begin() + given, more[i]);
    if (has_value && it != args.begin() + given && it + 1 != args.end()) {
      *(it + 1) = more[++i];
      continue;
    }
    args.push_back(more[i]);
    if (has_value) args.push_back(more[++i]);
  }
  return args;
}

inline CliRun stylize_ok(const std::vector<std::string>& args) {
  const CliRun r = run_nst(args);
  check_clean_exit(r);
  return r;
}

inline std::string bytes_of(const std::string& path) { return read_file(path); }

inline size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++n;
  return n;
}

}  // namespace nst::testing
