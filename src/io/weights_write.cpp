// .nstw writer and the WeightEntry helpers (layout: weights/FORMAT.md).
#include <algorithm>
#include <cmath>
#include <set>

#include "io/atomic_write.hpp"
#include "io/checksum.hpp"
#include "io/weights.hpp"
#include "io/weights_layout.hpp"
#include "tensor/check.hpp"

namespace nst::io {

using namespace nstw;

const char* dtype_name(DType d) { return d == DType::UInt8 ? "uint8" : "float32"; }
int dtype_size(DType d) { return d == DType::UInt8 ? 1 : 4; }

InputConvention caffe_convention() {
  return {ChannelOrder::BGR, 255.0f, {103.939f, 116.779f, 123.68f}, {1.0f, 1.0f, 1.0f}};
}
InputConvention torchvision_convention() {
  return {ChannelOrder::RGB, 1.0f, {0.485f, 0.456f, 0.406f}, {0.229f, 0.224f, 0.225f}};
}

WeightEntry make_float_entry(const std::string& name, const Tensor& t) {
  WeightEntry e;
  e.name = name;
  e.dtype = DType::Float32;
  e.shape = t.shape();
  e.bytes.resize(size_t(t.numel()) * 4);
  std::memcpy(e.bytes.data(), t.data(), e.bytes.size());
  return e;
}

WeightEntry make_uint8_entry(const std::string& name, const Shape& shape, const uint8_t* q,
                             double scale, double min) {
  WeightEntry e;
  e.name = name;
  e.dtype = DType::UInt8;
  e.shape = shape;
  e.scale = scale;
  e.min = min;
  e.bytes.assign(q, q + shape.numel());
  return e;
}

WeightEntry dequantize_entry(const WeightEntry& e) {
  if (e.dtype == DType::Float32) return e;
  WeightEntry out{e.name, DType::Float32, e.shape, 1.0, 0.0, {}};
  out.bytes.resize(e.bytes.size() * 4);
  for (size_t i = 0; i < e.bytes.size(); ++i)
    store<float>(out.bytes.data() + 4 * i, float(double(e.bytes[i]) * e.scale + e.min));
  return out;
}

WeightEntry quantize_entry(const WeightEntry& e) {
  if (e.dtype == DType::UInt8) return e;
  const size_t n = e.bytes.size() / 4;
  double lo = 0.0, hi = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double w = load<float>(e.bytes.data() + 4 * i);
    NST_CHECK(std::isfinite(w), "quantize: tensor ", e.name, " holds a non-finite value");
    lo = i == 0 ? w : std::min(lo, w);
    hi = i == 0 ? w : std::max(hi, w);
  }
  WeightEntry out{e.name, DType::UInt8, e.shape, hi > lo ? (hi - lo) / 255.0 : 1.0, lo, {}};
  out.bytes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double w = load<float>(e.bytes.data() + 4 * i);
    out.bytes[i] = uint8_t(std::clamp(std::round((w - lo) / out.scale), 0.0, 255.0));
  }
  return out;
}

namespace {

void put_bytes(std::vector<uint8_t>& out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}
template <class T>
void put(std::vector<uint8_t>& out, T v) {
  put_bytes(out, &v, sizeof(T));
}
void put_text(std::vector<uint8_t>& out, const std::string& s) {
  put<uint32_t>(out, uint32_t(s.size()));
  put_bytes(out, s.data(), s.size());
}

void check_entry(const std::string& path, const WeightEntry& e) {
  const std::string where = str("weights '", path, "': tensor ", e.name, ": ");
  NST_CHECK(!e.name.empty() && e.name.size() <= kMaxName, "weights '", path,
            "': tensor name '", e.name, "' must have 1 to ", kMaxName, " characters");
  for (char c : e.name)
    NST_CHECK(c > 0x20 && c < 0x7F, where, "name must be printable ASCII without spaces");
  NST_CHECK(e.shape.rank() >= 1, where, "rank must be 1 to ", kMaxRank);
  NST_CHECK(e.bytes.size() == size_t(e.shape.numel()) * size_t(dtype_size(e.dtype)), where,
            "holds ", e.bytes.size(), " bytes but shape ", e.shape.to_string(), " of ",
            dtype_name(e.dtype), " needs ", e.shape.numel() * dtype_size(e.dtype));
  if (e.dtype == DType::Float32)
    NST_CHECK(e.scale == 1.0 && e.min == 0.0, where, "float32 tensors have scale 1 and min 0");
  NST_CHECK(std::isfinite(e.scale) && e.scale >= 0.0 && std::isfinite(e.min), where,
            "scale and min must be finite with scale >= 0");
}

}  // namespace

WrittenFile write_weight_file(const std::string& path, const WeightMetadata& meta,
                       const std::vector<WeightEntry>& entries) {
  NST_CHECK(entries.size() <= kMaxTensors, "weights '", path, "': too many tensors");
  NST_CHECK(meta.source.size() <= kMaxText && meta.source_checksum.size() <= kMaxText,
            "weights '", path, "': source text longer than ", kMaxText, " bytes");
  NST_CHECK(meta.network.size() <= kMaxNetwork, "weights '", path,
            "': network description longer than ", kMaxNetwork, " bytes");
  std::set<std::string> seen;
  for (const WeightEntry& e : entries) {
    check_entry(path, e);
    NST_CHECK(seen.insert(e.name).second, "weights '", path, "': tensor ", e.name,
              " appears twice");
  }

  // Index: metadata, then one record per tensor. Offsets need the index size
  // first, so lay out records with placeholder offsets and patch them.
  std::vector<uint8_t> index;
  const InputConvention& in = meta.input;
  put<uint8_t>(index, uint8_t(in.order));
  put_bytes(index, "\0\0\0", 3);
  put<float>(index, in.pixel_range);
  for (float m : in.mean) put<float>(index, m);
  for (float s : in.std) put<float>(index, s);
  put_text(index, meta.source);
  put_text(index, meta.source_checksum);
  const bool has_network = !meta.network.empty();
  if (has_network) put_text(index, meta.network);
  std::vector<size_t> offset_field(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const WeightEntry& e = entries[i];
    put_text(index, e.name);
    put<uint8_t>(index, uint8_t(e.dtype));
    put<uint8_t>(index, uint8_t(e.shape.rank()));
    put<uint16_t>(index, 0);
    for (int64_t d : e.shape) put<uint64_t>(index, uint64_t(d));
    put<double>(index, e.scale);
    put<double>(index, e.min);
    offset_field[i] = index.size();
    put<uint64_t>(index, 0);  // offset, patched below
    put<uint64_t>(index, e.bytes.size());
    put<uint64_t>(index, fnv1a64(e.bytes.data(), e.bytes.size()));
  }
  const uint64_t data_offset = align_up(kHeaderSize + index.size());
  uint64_t end = data_offset;
  std::vector<uint64_t> offsets(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    offsets[i] = align_up(end);
    store<uint64_t>(index.data() + offset_field[i], offsets[i]);
    end = offsets[i] + entries[i].bytes.size();
  }

  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, 8);
  store<uint32_t>(header + kOffVersion, has_network ? kVersionNetwork : kVersion);
  store<uint32_t>(header + kOffCount, uint32_t(entries.size()));
  store<uint64_t>(header + kOffFileSize, end);
  store<uint64_t>(header + kOffIndexOffset, kHeaderSize);
  store<uint64_t>(header + kOffIndexSize, index.size());
  store<uint64_t>(header + kOffDataOffset, data_offset);
  store<uint64_t>(header + kOffIndexChecksum, fnv1a64(index.data(), index.size()));
  store<uint64_t>(header + kOffHeaderChecksum, fnv1a64(header, kOffHeaderChecksum));

  return write_atomically(path, [&](FileSink& out) {
    const std::vector<char> zeros(kAlign, 0);
    uint64_t pos = 0;
    const auto pad_to = [&](uint64_t target) {
      out.write(zeros.data(), size_t(target - pos));
      pos = target;
    };
    out.write(header, kHeaderSize);
    out.write(index.data(), index.size());
    pos = kHeaderSize + index.size();
    for (size_t i = 0; i < entries.size(); ++i) {
      pad_to(offsets[i]);
      out.write(entries[i].bytes.data(), entries[i].bytes.size());
      pos += entries[i].bytes.size();
    }
  });
}

}  // namespace nst::io
