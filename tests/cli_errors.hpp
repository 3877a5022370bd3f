// The bad-input tests (test_cli_errors*.cpp, one test per row of docs/errors.md):
// a scratch folder with valid inputs that each row spoils, and the check that a
// run failed cleanly and left the folder as it was.
#pragma once

#include <algorithm>

#include "cli_util.hpp"

namespace nst::testing {

// A scratch folder with a 32 x 24 content and a style image. stylize(more) is a
// quick valid run into dir/out.png with `more` appended, which each row spoils;
// an option in `more` replaces its default here (--style adds a style).
struct ErrorSetup {
  ScratchDir dir{"cli-errors"};
  std::string content = dir.file("content.png"), style = dir.file("style.png"),
              output = dir.file("out.png");
  ErrorSetup() {
    save_image(content, random_pixels(24, 32, 1));
    save_image(style, random_pixels(24, 32, 2));
  }
  std::string file(const std::string& name) const { return dir.file(name); }
  std::vector<std::string> stylize(const std::vector<std::string>& more = {}) const {
    std::vector<std::string> a{"stylize", "--style", style};
    const std::vector<std::pair<std::string, std::string>> defaults{
        {"--content", content}, {"--output", output},  {"--weights", default_weights()},
        {"--size", "32"},       {"--iterations", "1"}, {"--print-every", "0"}};
    for (const auto& [name, value] : defaults)
      if (std::find(more.begin(), more.end(), name) == more.end()) a.insert(a.end(), {name, value});
    a.insert(a.end(), more.begin(), more.end());
    return a;
  }
};

// Runs nst and checks: normal exit, non-zero code, `message` on stderr, and the
// scratch folder holds exactly what it held before (nothing written, nothing left).
inline CliRun expect_error(const ErrorSetup& s, const std::vector<std::string>& args,
                           const std::string& message, const CliOptions& opt = {}) {
  const std::set<std::string> before = list_dir(s.file(""));
  const CliRun r = run_nst(args, opt);
  check_error_exit(r, message);
  CHECK(list_dir(s.file("")) == before);
  return r;
}

}  // namespace nst::testing
