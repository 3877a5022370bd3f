#include "models/vgg19_names.hpp"

#include "tensor/check.hpp"

namespace nst::io {

Shape Vgg19Layer::weight_shape() const {
  return is_conv ? Shape{out, in, 3, 3} : Shape{out, in};
}

const std::vector<Vgg19Layer>& vgg19_layers() {
  // torch_index: position in torchvision's nn.Sequential (ReLU and pool layers
  // take the indices in between).
  static const std::vector<Vgg19Layer> layers = {
      {"conv1_1", true, 3, 64, 0},     {"conv1_2", true, 64, 64, 2},
      {"conv2_1", true, 64, 128, 5},   {"conv2_2", true, 128, 128, 7},
      {"conv3_1", true, 128, 256, 10}, {"conv3_2", true, 256, 256, 12},
      {"conv3_3", true, 256, 256, 14}, {"conv3_4", true, 256, 256, 16},
      {"conv4_1", true, 256, 512, 19}, {"conv4_2", true, 512, 512, 21},
      {"conv4_3", true, 512, 512, 23}, {"conv4_4", true, 512, 512, 25},
      {"conv5_1", true, 512, 512, 28}, {"conv5_2", true, 512, 512, 30},
      {"conv5_3", true, 512, 512, 32}, {"conv5_4", true, 512, 512, 34},
      {"fc6", false, 512 * 7 * 7, 4096, 0}, {"fc7", false, 4096, 4096, 3},
      {"fc8", false, 4096, 1000, 6},
  };
  return layers;
}

const Vgg19Layer* find_vgg19_layer(const std::string& name) {
  for (const Vgg19Layer& l : vgg19_layers())
    if (l.name == name) return &l;
  return nullptr;
}

const LayerWeights& Vgg19Weights::layer(const std::string& name) const {
  for (const auto* list : {&conv, &fc})
    for (const LayerWeights& l : *list)
      if (l.name == name) return l;
  fail("vgg19: no layer '", name, "' loaded", fc.empty() ? " (classifier not loaded)" : "");
}

void check_vgg19(const WeightFile& file, bool with_classifier) {
  for (const Vgg19Layer& l : vgg19_layers()) {
    if (!l.is_conv && !with_classifier) continue;
    for (const auto& [suffix, shape] :
         {std::pair{".weight", l.weight_shape()}, std::pair{".bias", l.bias_shape()}}) {
      const std::string name = l.name + suffix;
      NST_CHECK(file.contains(name), "weights '", file.path(), "': tensor ", name,
                ": missing (not a VGG-19 weight file", l.is_conv ? "" : ", or no classifier",
                ")");
      const Shape& got = file.info(name).shape;
      NST_CHECK(got == shape, "weights '", file.path(), "': tensor ", name, ": shape ",
                got.to_string(), " but VGG-19 expects ", shape.to_string());
    }
  }
}

Vgg19Weights load_vgg19(const std::string& path, bool with_classifier) {
  const WeightFile file = WeightFile::open(path);
  check_vgg19(file, with_classifier);
  Vgg19Weights out;
  out.input = file.metadata().input;
  for (const Vgg19Layer& l : vgg19_layers()) {
    if (!l.is_conv && !with_classifier) continue;
    LayerWeights w{l.name, file.tensor(l.name + ".weight"), file.tensor(l.name + ".bias")};
    (l.is_conv ? out.conv : out.fc).push_back(std::move(w));
  }
  return out;
}

}  // namespace nst::io
