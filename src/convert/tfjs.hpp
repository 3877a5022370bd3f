// Reader of TensorFlow.js layers models (model.json + binary shards) and the
// conversion of Keras' VGG19 (the layout of ../shared/weights/vgg19-imagenet-uint8)
// to our layer names and layouts.
//
// model.json: {"format": "layers-model", "weightsManifest": [{"paths": [...],
//   "weights": [{"name", "shape", "dtype": "float32", "quantization"?: {"dtype":
//   "uint8", "scale", "min"}}]}]}. Each group's shards concatenate into one buffer in
//   which the tensors follow each other in manifest order without padding.
#pragma once

#include <string>
#include <vector>

#include "io/weights.hpp"

namespace nst::io {

struct TfjsModel {
  std::string source;             // the model.json path
  std::string format;             // "layers-model"
  std::vector<WeightEntry> weights;  // as stored: uint8 (scale, min) or float32; Keras names
  std::string weights_sha256;     // SHA-256 of all shard bytes, in manifest order
};

// Reads model.json (or a folder holding it) and its shards; validates the
// manifest (dtypes, shapes, sizes) and throws nst::Error naming the file and weight.
TfjsModel read_tfjs(const std::string& path);

// Keras HWIO [KH][KW][C][OC] -> OIHW [OC][C][KH][KW]; any dtype, quantisation kept.
WeightEntry hwio_to_oihw(const WeightEntry& e, const std::string& new_name);
// Keras dense [in][out] -> [out][in]. With hwc = {H, W, C} (a flattened H x W x C
// feature map), the input index is reordered from (h, w, c) to (c, h, w).
WeightEntry dense_to_out_in(const WeightEntry& e, const std::string& new_name,
                            const std::vector<int64_t>& hwc = {});

// Keras VGG19 names (block{b}_conv{i}, fc1, fc2, predictions) -> conv{b}_{i},
// fc6, fc7, fc8 with OIHW / [out][in] layouts; fc6's input is reordered from
// H, W, C to C, H, W with H = W = sqrt(in / C_last). Works for VGG-shaped nets of
// any width (tests use tiny ones); the exact VGG-19 shapes are checked on load.
std::vector<WeightEntry> vgg19_from_tfjs(const TfjsModel& model);

}  // namespace nst::io
