// Checkpoints of an interrupted stylisation: everything needed to continue it
// and reach the same result as a run that was never interrupted.
//
// File layout (little-endian): magic "NSTCKPT2", then length-prefixed fields:
// the command-line arguments of the run, the scale index, the iteration within
// the scale, the iterations done in all, the per-scale records so far, the
// image x (shape + float32 data, network input space), the optimiser's own
// saved state (see LbfgsState::save_state / AdamState::save_state), and last
// an FNV-1a 64 checksum of everything before it.
#pragma once

#include <string>
#include <vector>

#include "nst/stylize.hpp"

namespace nst {

struct Checkpoint {
  std::vector<std::string> args;  // the stylize arguments (without --resume)
  RunState state;
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);  // atomic
Checkpoint load_checkpoint(const std::string& path);  // nst::Error names the file and the problem

}  // namespace nst
