#include "convert/convert.hpp"

#include <filesystem>

#include "convert/pth.hpp"
#include "convert/tfjs.hpp"
#include "models/vgg19_names.hpp"
#include "tensor/check.hpp"

namespace nst::io {

namespace {

std::string file_stem(const std::string& path) {
  return std::filesystem::path(path).stem().string();
}

// torch hub names end in "-<first 8 hex digits of the file's SHA-256>".
void check_hub_hash(const std::string& path, const std::string& sha256) {
  const std::string stem = file_stem(path);
  const size_t dash = stem.rfind('-');
  if (dash == std::string::npos || stem.size() - dash - 1 != 8) return;
  const std::string prefix = stem.substr(dash + 1);
  if (prefix.find_first_not_of("0123456789abcdef") != std::string::npos) return;
  NST_CHECK(sha256.compare(0, 8, prefix) == 0, "convert: '", path, "': its name says SHA-256 ",
            prefix, "... but the file hashes to ", sha256, " (corrupted or incomplete download)");
}

void check_shapes(const std::vector<WeightEntry>& entries, const std::string& source) {
  for (const WeightEntry& e : entries) {
    const Vgg19Layer* l = find_vgg19_layer(e.name.substr(0, e.name.find('.')));
    NST_CHECK(l != nullptr, "convert: '", source, "': unexpected tensor ", e.name);
    const bool is_weight = e.name.size() > 7 && e.name.substr(e.name.size() - 7) == ".weight";
    const Shape want = is_weight ? l->weight_shape() : l->bias_shape();
    NST_CHECK(e.shape == want, "convert: '", source, "': tensor ", e.name, " has shape ",
              e.shape.to_string(), " but VGG-19 expects ", want.to_string());
  }
}

}  // namespace

std::optional<InputConvention> convention_from_pth_name(const std::string& path) {
  const std::string stem = file_stem(path);
  if (stem.find("d01eb7cb") != std::string::npos) return caffe_convention();
  if (stem.find("dcbb9e9d") != std::string::npos) return torchvision_convention();
  return std::nullopt;
}

ConvertSummary convert_vgg19(const ConvertOptions& o) {
  WeightMetadata meta;
  std::vector<WeightEntry> entries;
  if (o.from == SourceFormat::Tfjs) {
    const TfjsModel model = read_tfjs(o.input);
    entries = vgg19_from_tfjs(model);
    meta.source = str("TF.js ", model.format.empty() ? "model" : model.format, " '",
                      model.source, "' (Keras VGG19 ImageNet)");
    meta.source_checksum = "sha256:" + model.weights_sha256;
    meta.input = o.convention.value_or(caffe_convention());
  } else {
    const PthStateDict dict = read_pth(o.input);
    check_hub_hash(o.input, dict.sha256);
    entries = vgg19_from_pth(dict);
    meta.source = str("PyTorch state_dict '", o.input, "'");
    meta.source_checksum = "sha256:" + dict.sha256;
    const auto convention = o.convention ? o.convention : convention_from_pth_name(o.input);
    NST_CHECK(convention.has_value(), "convert: '", o.input,
              "': cannot tell the input convention from the file name; pass --convention "
              "caffe (vgg19-d01eb7cb.pth) or torchvision (vgg19-dcbb9e9d.pth)");
    meta.input = *convention;
  }
  if (o.check_vgg19_shapes) check_shapes(entries, o.input);
  ConvertSummary summary;
  for (WeightEntry& e : entries) {
    if (o.dtype == DType::Float32) e = dequantize_entry(e);
    if (o.dtype == DType::UInt8) e = quantize_entry(e);
    summary.bytes += e.bytes.size();
    summary.has_classifier = summary.has_classifier || e.name.rfind("fc", 0) == 0;
  }
  write_weight_file(o.output, meta, entries);
  summary.tensors = entries.size();
  summary.source_checksum = meta.source_checksum;
  return summary;
}

}  // namespace nst::io
