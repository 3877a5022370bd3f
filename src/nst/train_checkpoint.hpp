// Checkpoints of `nst train`: everything a run needs to continue and give the
// bits an uninterrupted run would (same thread count).
//
// Layout (optim/state_io.hpp: magic "NSTTRAIN", version, fields, FNV-1a 64):
// the command-line arguments (without --resume), the steps done, the training
// seconds so far, the photo list's fingerprint, the per-step records (version
// 2: with each painting's style term), the
// network (its description as JSON, then each tensor in name order), and the
// Adam state (NetworkAdam::save_state). The data order needs no state of its
// own: batch s is a function of the photo list, the seed and s
// (nst/photo_batches.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nst/train.hpp"

namespace nst {

struct TrainStepRecord {
  int64_t step = 0;  // 1-based
  TrainTerms terms;
  double seconds = 0;  // training time at the end of this step
};

struct TrainCheckpoint {
  std::vector<std::string> args;
  int64_t step = 0;
  double seconds = 0;
  uint64_t photos_fingerprint = 0;
  std::vector<TrainStepRecord> steps;
  std::optional<Transformer> net;
  std::optional<NetworkAdam> adam;
};

void save_train_checkpoint(const std::string& path, const TrainCheckpoint& ckpt);  // atomic
// nst::Error names the file and the problem (missing, not a checkpoint,
// truncated, corrupt).
TrainCheckpoint load_train_checkpoint(const std::string& path);

}  // namespace nst
