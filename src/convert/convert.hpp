// Conversion of published VGG-19 releases into an .nstw file (what `nst convert`
// and `make weights` run).
#pragma once

#include <optional>
#include <string>

#include "io/weights.hpp"

namespace nst::io {

enum class SourceFormat { Tfjs, Pth };

struct ConvertOptions {
  SourceFormat from = SourceFormat::Tfjs;
  std::string input;   // model.json or its folder; a .pth file
  std::string output;  // the .nstw to write (atomically)
  std::optional<DType> dtype;                 // default: as stored in the source
  std::optional<InputConvention> convention;  // default: caffe for TF.js; from the .pth name
  bool check_vgg19_shapes = true;             // false only for tiny test nets
};

struct ConvertSummary {
  size_t tensors = 0;
  uint64_t bytes = 0;  // of tensor data
  bool has_classifier = false;
  std::string source_checksum;
};

// The convention a torchvision-hub style name implies: "vgg19-d01eb7cb.pth"
// (Caffe weights: BGR, 0..255, mean only) or "vgg19-dcbb9e9d.pth" (torchvision).
std::optional<InputConvention> convention_from_pth_name(const std::string& path);

ConvertSummary convert_vgg19(const ConvertOptions& options);

}  // namespace nst::io
