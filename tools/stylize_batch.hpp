// nst stylize --output-dir DIR: a batch of photos painted with one network
// load (docs/batch.md). Each photo is the run `nst stylize` would make of it
// alone, with its picture DIR/<name>.<format>, record and checkpoint.
#pragma once

#include <string>
#include <vector>

#include "nst/config.hpp"
#include "tools/batch.hpp"

namespace nst::cli {

// `c` and `flags` as parse_stylize_args read them from `args` (the command's
// arguments after "stylize"). Returns the exit status: 0, 1 when a photo
// failed (the others are painted), 130 on SIGINT / SIGTERM.
int run_stylize_batch(const StylizeConfig& c, const BatchFlags& flags,
                      const std::vector<std::string>& args);

}  // namespace nst::cli
