// The nst weight file (.nstw): a checksummed table of named tensors plus the
// input convention of the network, read through mmap. weights/FORMAT.md is the
// byte-level specification; this header is its reader and writer.
//
//   WeightFile f = WeightFile::open("build/vgg19.nstw");   // validates everything
//   Tensor w = f.tensor("conv1_1.weight");                  // dequantised float32
//   const InputConvention& in = f.metadata().input;         // BGR/RGB, range, mean, std
//
// Every failure (missing file, truncation, corruption, bad header) throws nst::Error
// with a message "weights 'PATH': [tensor NAME: ]what is wrong".
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "io/atomic_write.hpp"
#include "tensor/tensor.hpp"

namespace nst::io {

enum class DType : uint8_t { Float32 = 0, UInt8 = 1 };
enum class ChannelOrder : uint8_t { RGB = 0, BGR = 1 };

const char* dtype_name(DType d);  // "float32" | "uint8"
int dtype_size(DType d);          // bytes per element

// How an image must be prepared for the network:
// x[c] = (pixel[c] * pixel_range - mean[c]) / std[c], pixel in 0..1, channels in `order`.
struct InputConvention {
  ChannelOrder order = ChannelOrder::RGB;
  float pixel_range = 1.0f;  // 1 (pixels 0..1) or 255 (pixels 0..255)
  std::array<float, 3> mean{0.0f, 0.0f, 0.0f};  // in `order`
  std::array<float, 3> std{1.0f, 1.0f, 1.0f};   // in `order`
};
InputConvention caffe_convention();        // BGR, 0..255, mean (103.939, 116.779, 123.68), std 1
InputConvention torchvision_convention();  // RGB, 0..1, mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)

struct WeightMetadata {
  InputConvention input;
  std::string source;           // what it was converted from, free text
  std::string source_checksum;  // e.g. "sha256:<64 hex digits>" of the source
  // The network's description (JSON; models/transformer_spec.hpp), empty for a
  // file that holds only tensors (VGG-19). Stored from format version 2 on.
  std::string network;
};

// One tensor to write. uint8 tensors dequantise as w = q * scale + min.
struct WeightEntry {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  double scale = 1.0, min = 0.0;  // float32: 1 and 0
  std::vector<uint8_t> bytes;     // numel * dtype_size bytes, little-endian
};
WeightEntry make_float_entry(const std::string& name, const Tensor& t);
WeightEntry make_uint8_entry(const std::string& name, const Shape& shape, const uint8_t* q,
                             double scale, double min);
// uint8 -> float32 with w = q * scale + min (computed in double, rounded to float).
WeightEntry dequantize_entry(const WeightEntry& e);
// float32 -> uint8 with the tensor's own range: scale = (max - min) / 255, q = round((w - min) / scale).
WeightEntry quantize_entry(const WeightEntry& e);

// Writes the file through write_atomically (the old file stays unless the new
// one is complete). Throws nst::Error on invalid entries (bad name, size
// mismatch, duplicates) or I/O failure. Returns the size and checksum written.
WrittenFile write_weight_file(const std::string& path, const WeightMetadata& meta,
                       const std::vector<WeightEntry>& entries);

struct TensorInfo {
  std::string name;
  DType dtype = DType::Float32;
  Shape shape;
  double scale = 1.0, min = 0.0;
  uint64_t offset = 0, size = 0, checksum = 0;
};

class WeightFile {
 public:
  // mmaps the file and validates magic, version, header and index checksums,
  // every offset and size, dtype/shape consistency and every tensor's checksum.
  static WeightFile open(const std::string& path);

  WeightFile(WeightFile&&) noexcept;
  WeightFile& operator=(WeightFile&&) noexcept;
  ~WeightFile();

  const std::string& path() const;
  const WeightMetadata& metadata() const;
  std::vector<std::string> names() const;  // in file order
  bool contains(const std::string& name) const;
  const TensorInfo& info(const std::string& name) const;  // throws if absent
  Tensor tensor(const std::string& name) const;           // dequantised float32
  const uint8_t* raw(const std::string& name) const;      // the stored bytes (64-byte aligned)

 struct Impl;  // internal: the mapping and the parsed index

 private:
  explicit WeightFile(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nst::io
