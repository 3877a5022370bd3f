// VGG-19 (Simonyan & Zisserman 2015), the feature extractor of neural style
// transfer, and its ImageNet classifier for an end-to-end check.
//
// Layers, in order (all 3x3 convolutions, padding 1, each followed by ReLU):
//   conv1_1 (3→64)    conv1_2 (64→64)                       pool1
//   conv2_1 (64→128)  conv2_2                               pool2
//   conv3_1 (128→256) conv3_2  conv3_3  conv3_4             pool3
//   conv4_1 (256→512) conv4_2  conv4_3  conv4_4             pool4
//   conv5_1 (512→512) conv5_2  conv5_3  conv5_4             pool5
//   fc6 (25088→4096) relu, fc7 (4096→4096) relu, fc8 (4096→1000) softmax
// Activations are named conv{b}_{i}, relu{b}_{i} and pool{b}. Pooling is 2x2
// stride 2 (max, or average for style transfer if asked).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/weights.hpp"
#include "nn/channel_affine.hpp"
#include "tensor/autograd.hpp"

namespace nst {

enum class Pooling { max, avg };
Pooling parse_pooling(const std::string& name);  // "max" | "avg"

class Vgg19 {
 public:
  // Loads and checks the weights (names and shapes of every layer). The fully
  // connected layers are read only when with_classifier is true. With `layers`
  // (activation names) given, only the convolutions up to the deepest of them
  // are kept in memory (to relu5_1: 52 of the 80 MB), and forward() refuses
  // anything deeper.
  static Vgg19 load(const std::string& path, bool with_classifier = false,
                    const std::vector<std::string>& layers = {});

  // Every activation name in network order (conv1_1, relu1_1, ..., pool5).
  static const std::vector<std::string>& activation_names();
  static bool is_activation(const std::string& name);
  // The index in activation_names() of the deepest of `layers` (0 if none;
  // an unknown name throws), and the convolution that activation needs
  // (conv1_1 for relu1_1, conv5_4 for pool5).
  static size_t deepest_activation(const std::vector<std::string>& layers);
  static std::string last_conv_for(size_t activation);
  // The height and width of activation `layer` for an input of h x w: each
  // pool up to and including it halves them, rounding down (masks are resized
  // to this size to weight the activation's pixels).
  static void activation_size(const std::string& layer, int64_t h, int64_t w, int64_t& out_h, int64_t& out_w);

  // Runs x ([N, 3, H, W], in the network's input space) up to the deepest
  // activation in `wanted` and returns those activations by name.
  std::map<std::string, Var> forward(Tape& tape, const Var& x, const std::vector<std::string>& wanted,
                                     Pooling pooling = Pooling::max) const;

  // ImageNet class probabilities of an RGB 0..255 image [1, 3, 224, 224].
  std::vector<float> classify(const Tensor& rgb) const;

  // RGB 0..255 <-> the network's input space (channel order, range, mean, std).
  Tensor to_input(const Tensor& rgb) const;
  Tensor from_input(const Tensor& x) const;
  // to_input as a tape op, for pictures that carry a gradient (feed-forward
  // training: the loss reaches the transformer through it).
  Var to_input(Tape& tape, const Var& rgb) const;

  const io::InputConvention& convention() const { return convention_; }
  const std::string& path() const { return path_; }
  const std::string& checksum() const { return checksum_; }  // of the weight file's table

 private:
  struct Conv {
    std::string name;
    Tensor weight, bias;  // [OC][C][3][3], [OC]
  };
  struct Dense {
    Tensor weight, bias;  // [out][in], [out]
  };
  std::vector<Conv> convs_;
  std::vector<Dense> dense_;  // fc6, fc7, fc8 (empty without classifier)
  io::InputConvention convention_;
  std::string path_, checksum_;
};

}  // namespace nst
