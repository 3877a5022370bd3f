// The command-line options of `nst stylize` and `nst loss`, turned into the
// library's plain config structs (nst/config.hpp). Each stylize option is one
// entry of a table (options.cpp) that says how it is declared, read and shown
// in the run record, so adding an option touches its field in StylizeConfig,
// its use, and its entry here.
#pragma once

#include "io/json_writer.hpp"
#include "nst/config.hpp"
#include "tools/batch.hpp"

namespace nst::cli {

// Parses `nst stylize` arguments (argv[0] is the subcommand name). Accepts the
// classic neural-style spellings (-content_image, -style_image, ...) as
// aliases. Returns false when --help was printed. Throws nst::Error on bad input.
// A batch (--output-dir) fills `batch` (the --content values, files or
// folders, are its inputs); without `batch` it is refused.
bool parse_stylize_args(int argc, const char* const* argv, StylizeConfig& config, BatchFlags* batch = nullptr);

// `nst loss`: same rules, its own options.
bool parse_loss_args(int argc, const char* const* argv, LossConfig& config);

// Writes every recorded stylize option as "key": value into an open JSON
// object (the key is the option's name with '_' for '-': "content_weight").
void record_stylize_options(JsonWriter& json, const StylizeConfig& config);

}  // namespace nst::cli
