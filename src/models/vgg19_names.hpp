// The canonical VGG-19 layer list (Simonyan & Zisserman 2015, configuration E)
// and the loader of its weights from an .nstw file.
//
//   conv1_1 .. conv5_4: weight [OC][C][3][3] (OIHW), bias [OC]
//   fc6: weight [4096][25088] (input flattened from 512x7x7 in C, H, W order), bias [4096]
//   fc7: weight [4096][4096], fc8: weight [1000][4096], biases [out]
// Tensor names in the file: "<layer>.weight" and "<layer>.bias".
#pragma once

#include <string>
#include <vector>

#include "io/weights.hpp"
#include "tensor/tensor.hpp"

namespace nst::io {

struct Vgg19Layer {
  std::string name;  // "conv1_1", ..., "fc8"
  bool is_conv;
  int64_t in, out;  // channels (conv) or features (fc)
  int torch_index;  // N in torchvision's features.N / classifier.N
  Shape weight_shape() const;  // OIHW for conv, [out][in] for fc
  Shape bias_shape() const { return Shape{out}; }
};

const std::vector<Vgg19Layer>& vgg19_layers();  // 16 convs then fc6, fc7, fc8
const Vgg19Layer* find_vgg19_layer(const std::string& name);

struct LayerWeights {
  std::string name;
  Tensor weight, bias;
};

struct Vgg19Weights {
  InputConvention input;
  std::vector<LayerWeights> conv;  // conv1_1 .. conv5_4, in order
  std::vector<LayerWeights> fc;    // fc6, fc7, fc8 (empty unless asked)
  const LayerWeights& layer(const std::string& name) const;  // throws if absent
};

// Checks that every expected VGG-19 tensor is present with its shape, then
// dequantises the convolutions (and the classifier when with_classifier).
Vgg19Weights load_vgg19(const std::string& path, bool with_classifier = false);

// Checks the names and shapes of an opened file (fc only when with_classifier).
void check_vgg19(const WeightFile& file, bool with_classifier);

}  // namespace nst::io
