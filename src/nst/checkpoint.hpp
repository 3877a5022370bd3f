// Checkpoints of an interrupted stylisation: everything needed to continue it
// and reach the same result as a run that was never interrupted.
//
// File layout (little-endian): magic "NSTCKPT3", then length-prefixed fields:
// the command-line arguments of the run, the files it read (path and FNV-1a 64
// of the bytes: photos, paintings, masks), the scale index, the iteration within
// the scale, the iterations done in all, the per-scale records so far, the
// image x (shape + float32 data, network input space), the optimiser's own
// saved state (see LbfgsState::save_state / AdamState::save_state), --average's
// running image (rank 0 when off) and its count, and last an FNV-1a 64 checksum
// of everything before it.
#pragma once

#include <string>
#include <vector>

#include "nst/stylize.hpp"

namespace nst {

struct InputFile {
  std::string path;
  uint64_t fnv1a64 = 0;  // of the file's bytes
};

struct Checkpoint {
  std::vector<std::string> args;  // the stylize arguments (without --resume)
  std::vector<InputFile> inputs;  // the files the run read (none in a format-2 checkpoint)
  RunState state;
};

void save_checkpoint(const std::string& path, const Checkpoint& ckpt);  // atomic
// nst::Error names the file and the problem. Reads formats 2 and 3.
Checkpoint load_checkpoint(const std::string& path);

// The files, each with the checksum of its bytes (a file that cannot be read
// is an error naming it).
std::vector<InputFile> checksum_inputs(const std::vector<std::string>& paths);
// Refuses to continue when a file the run read has changed since the
// checkpoint (a new mask or photo under the old name would mix two runs):
// `now` is checksum_inputs of the same files as they are.
void check_inputs_unchanged(const Checkpoint& ckpt, const std::vector<InputFile>& now,
                            const std::string& checkpoint_path);

}  // namespace nst
