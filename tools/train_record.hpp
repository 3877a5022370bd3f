// The run record of `nst train` (--record, default OUTPUT.json) and the small
// text helpers its progress lines share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/vgg19.hpp"
#include "nst/photo_batches.hpp"
#include "nst/train_checkpoint.hpp"
#include "tools/args.hpp"

namespace nst::train_cli {

// 90s, 12m05s, 3h07m.
std::string format_seconds(double s);
// OUTPUT without its extension: the stem of the sample pictures.
std::string output_stem(const std::string& output);

// The record: the options, the machine, the photos, the model's checksums and
// one entry per step (loss terms; each painting's style term for several).
void write_record(const std::string& path, const Args& a, const std::vector<std::string>& styles,
                  const TrainCheckpoint& c, const PhotoBatches& photos, const Vgg19& vgg,
                  const WrittenFile& model, int64_t resumed_from, double run_seconds,
                  bool interrupted);

}  // namespace nst::train_cli
