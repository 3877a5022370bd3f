// Helpers shared by the nst subcommands (no algorithm here).
#pragma once

#include <string>

namespace nst::cli {

// The weight file to use: the given path, else $NST_WEIGHTS, else vgg19.nstw
// next to the nst binary (where `make weights` puts it). Throws with a hint.
std::string resolve_weights(const std::string& given);

// Sets the kernel thread count (0 = all cores).
void apply_threads(int64_t threads);

}  // namespace nst::cli
