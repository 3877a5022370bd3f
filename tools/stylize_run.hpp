// One `nst stylize` run, as the single run, each value of a --style-weights
// sweep and each photo of a batch make it: the files read and checked before
// any work, the optimisation with its progress and snapshots, the files of the
// run written (picture, record, and the checkpoint when interrupted).
#pragma once

#include <string>
#include <vector>

#include "models/vgg19.hpp"
#include "nst/checkpoint.hpp"
#include "nst/config.hpp"
#include "nst/masks.hpp"
#include "nst/stylize.hpp"
#include "tensor/tensor.hpp"

namespace nst::cli {

// From here on SIGINT and SIGTERM only set a flag: the driver stops between two
// iterations, and a second signal cannot cut the writes short.
void catch_stop_signals();
void restore_stop_signals();
int stop_signal();  // the signal caught, 0 = none

// Every file a run reads (photo, paintings, masks, start image), in the order
// the record and the checkpoint list them.
std::vector<std::string> run_input_paths(const StylizeConfig& c);

// Refuses an output that is one of the inputs, not .png / .jpg, or in a
// folder that does not exist.
void check_output(const StylizeConfig& c, const std::vector<std::string>& inputs);

// The photo, shrunk to the size the largest scale reads.
Tensor load_content(const StylizeConfig& c);

// What a run reads besides the photo, at the sizes the largest scale reads
// (the same for every photo of a batch). The masks are checked here.
struct Paintings {
  std::vector<Tensor> styles;
  Tensor init;  // undefined: --init content or noise
  Masks masks;
};
Paintings load_paintings(const StylizeConfig& c);

// Resolves --scales auto for these photos' shapes (so the record names the
// scales that ran) and refuses a run estimated not to fit in memory, before
// the network and the optimiser allocate. Returns the weight file to load.
std::string plan_run(StylizeConfig& c, const Tensor& content, const std::vector<Tensor>& styles);

// Where an interrupted run continues from (path "" = a fresh run).
struct ResumePoint {
  std::string path;
  Checkpoint checkpoint;
};

// The run with its progress on stderr, then its files (written in the order
// that keeps them consistent, docs/reliability.md). `args` are the run's own
// arguments, kept in its checkpoint. status: 0, 1 (diverged, or a file not
// written; said on stderr) or 130 (interrupted; the checkpoint and how to
// continue are said).
struct RunOutcome {
  int status = 0;
  StylizeResult result;
};
RunOutcome run_and_write(const StylizeConfig& c, const Vgg19& net, const Tensor& content,
                         const Paintings& p, const std::vector<std::string>& args,
                         const std::vector<InputFile>& inputs, const ResumePoint& resume,
                         StyleTargetCache* targets);

}  // namespace nst::cli
