#include "convert/tfjs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include "io/checksum.hpp"
#include "io/json.hpp"
#include "tensor/check.hpp"

namespace nst::io {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p, uint64_t max_bytes) {
  std::error_code ec;
  const uint64_t size = fs::file_size(p, ec);
  NST_CHECK(!ec, "tfjs: cannot read '", p.string(), "': ", ec.message());
  NST_CHECK(size <= max_bytes, "tfjs: '", p.string(), "' is larger than ", max_bytes, " bytes");
  std::ifstream is(p, std::ios::binary);
  std::string s(size, '\0');
  is.read(s.data(), std::streamsize(size));
  NST_CHECK(is.good() || size == 0, "tfjs: cannot read '", p.string(), "'");
  return s;
}

// One manifest entry, before its bytes are read.
struct Spec {
  std::string name;
  Shape shape;
  DType dtype;
  double scale = 1.0, min = 0.0;
  uint64_t bytes = 0;
};

Spec parse_spec(const Json& w, const std::string& src) {
  Spec s;
  s.name = w.at("name").as_string("weight name");
  const std::string where = str("tfjs '", src, "': weight ", s.name, ": ");
  NST_CHECK(!s.name.empty(), "tfjs '", src, "': a weight has an empty name");
  NST_CHECK(w.at("dtype").as_string() == "float32", where, "dtype '",
            w.at("dtype").as_string(), "' is not supported (only float32)");
  const auto& dims = w.at("shape").items("shape");
  NST_CHECK(dims.size() >= 1 && dims.size() <= 5, where, "rank ", dims.size(),
            " is not 1 to 5");
  for (const Json& d : dims) {
    const int64_t v = d.as_int("shape entry");
    NST_CHECK(v >= 1 && v <= (int64_t(1) << 32), where, "dimension ", v, " out of range");
    s.shape.push_back(v);
  }
  NST_CHECK(s.shape.numel() <= (int64_t(1) << 36), where, "absurd size ", s.shape.to_string());
  s.dtype = DType::Float32;
  if (const Json* q = w.find("quantization")) {
    const std::string qd = q->at("dtype").as_string("quantization dtype");
    NST_CHECK(qd == "uint8", where, "quantization dtype '", qd,
              "' is not supported (only uint8)");
    s.dtype = DType::UInt8;
    s.scale = q->at("scale").as_number("quantization scale");
    s.min = q->at("min").as_number("quantization min");
    NST_CHECK(s.scale >= 0.0, where, "negative quantization scale");
  }
  s.bytes = uint64_t(s.shape.numel()) * uint64_t(dtype_size(s.dtype));
  return s;
}

}  // namespace

TfjsModel read_tfjs(const std::string& path) {
  fs::path json_path = path;
  if (fs::is_directory(json_path)) json_path /= "model.json";
  TfjsModel model;
  model.source = json_path.string();
  const std::string& src = model.source;
  const Json doc = parse_json(read_text(json_path, uint64_t(64) << 20), src);
  NST_CHECK(doc.is_object(), "tfjs '", src, "': not a JSON object");
  if (const Json* f = doc.find("format")) model.format = f->as_string("format");
  NST_CHECK(model.format.empty() || model.format == "layers-model", "tfjs '", src,
            "': format '", model.format, "' is not a layers model");
  const Json* manifest = doc.find("weightsManifest");
  NST_CHECK(manifest && manifest->is_array(), "tfjs '", src,
            "': no weightsManifest array (not a TF.js model.json)");

  Sha256 sha;
  for (const Json& group : manifest->items()) {
    std::vector<Spec> specs;
    uint64_t need = 0;
    for (const Json& w : group.at("weights").items("weights")) {
      specs.push_back(parse_spec(w, src));
      need += specs.back().bytes;
    }
    // Concatenate the group's shards.
    std::vector<uint8_t> buffer;
    for (const Json& p : group.at("paths").items("paths")) {
      const std::string rel = p.as_string("shard path");
      NST_CHECK(!rel.empty() && rel.find("..") == std::string::npos && rel[0] != '/', "tfjs '",
                src, "': suspicious shard path '", rel, "'");
      const fs::path shard = json_path.parent_path() / rel;
      const std::string bytes = read_text(shard, need + 1);
      NST_CHECK(buffer.size() + bytes.size() <= need, "tfjs '", src, "': shards hold more than the ",
                need, " bytes the manifest describes (at '", rel, "')");
      buffer.insert(buffer.end(), bytes.begin(), bytes.end());
    }
    NST_CHECK(buffer.size() == need, "tfjs '", src, "': shards hold ", buffer.size(),
              " bytes but the manifest needs ", need, " (missing or truncated shard)");
    sha.update(buffer.data(), buffer.size());
    uint64_t pos = 0;
    for (const Spec& s : specs) {
      WeightEntry e{s.name, s.dtype, s.shape, s.scale, s.min, {}};
      e.bytes.assign(buffer.begin() + int64_t(pos), buffer.begin() + int64_t(pos + s.bytes));
      pos += s.bytes;
      model.weights.push_back(std::move(e));
    }
  }
  model.weights_sha256 = sha.hex_digest();
  return model;
}

// ---------------------------------------------------------------- layouts

namespace {
// Calls permute(dst, src) with typed pointers into out's and e's bytes (uint8_t
// for uint8; uint32_t for float32: the values are moved, not computed on).
template <class F>
void with_element_type(const WeightEntry& e, WeightEntry& out, F&& permute) {
  if (e.dtype == DType::UInt8) {
    permute(out.bytes.data(), e.bytes.data());
  } else {
    std::vector<uint32_t> src(e.bytes.size() / 4), dst(src.size());
    std::memcpy(src.data(), e.bytes.data(), e.bytes.size());
    permute(dst.data(), static_cast<const uint32_t*>(src.data()));
    std::memcpy(out.bytes.data(), dst.data(), out.bytes.size());
  }
}
}  // namespace

WeightEntry hwio_to_oihw(const WeightEntry& e, const std::string& new_name) {
  NST_CHECK(e.shape.rank() == 4, "hwio_to_oihw: ", e.name, " has shape ", e.shape.to_string(),
            ", expected [KH][KW][C][OC]");
  const int64_t KH = e.shape[0], KW = e.shape[1], C = e.shape[2], OC = e.shape[3];
  WeightEntry out{new_name, e.dtype, Shape{OC, C, KH, KW}, e.scale, e.min, {}};
  out.bytes.resize(e.bytes.size());
  auto permute = [&](auto* dst, const auto* src) {
    // out[oc][c][kh][kw] = in[kh][kw][c][oc]
    for (int64_t oc = 0; oc < OC; ++oc)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t kh = 0; kh < KH; ++kh)
          for (int64_t kw = 0; kw < KW; ++kw)
            dst[((oc * C + c) * KH + kh) * KW + kw] = src[((kh * KW + kw) * C + c) * OC + oc];
  };
  with_element_type(e, out, permute);
  return out;
}

WeightEntry dense_to_out_in(const WeightEntry& e, const std::string& new_name,
                            const std::vector<int64_t>& hwc) {
  NST_CHECK(e.shape.rank() == 2, "dense_to_out_in: ", e.name, " has shape ",
            e.shape.to_string(), ", expected [in][out]");
  const int64_t IN = e.shape[0], OUT = e.shape[1];
  int64_t H = 1, W = 1, C = IN;
  if (!hwc.empty()) {
    NST_CHECK(hwc.size() == 3 && hwc[0] * hwc[1] * hwc[2] == IN, "dense_to_out_in: ", e.name,
              ": input ", IN, " is not H*W*C of the given feature map");
    H = hwc[0], W = hwc[1], C = hwc[2];
  }
  WeightEntry out{new_name, e.dtype, Shape{OUT, IN}, e.scale, e.min, {}};
  out.bytes.resize(e.bytes.size());
  auto permute = [&](auto* dst, const auto* src) {
    // out[o][(c*H + h)*W + w] = in[(h*W + w)*C + c][o]; blocked over o for locality.
    constexpr int64_t kBlock = 64;
    for (int64_t o0 = 0; o0 < OUT; o0 += kBlock)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          for (int64_t c = 0; c < C; ++c) {
            const int64_t i_src = (h * W + w) * C + c, i_dst = (c * H + h) * W + w;
            for (int64_t o = o0; o < std::min(OUT, o0 + kBlock); ++o)
              dst[o * IN + i_dst] = src[i_src * OUT + o];
          }
  };
  with_element_type(e, out, permute);
  return out;
}

std::vector<WeightEntry> vgg19_from_tfjs(const TfjsModel& model) {
  std::vector<WeightEntry> out;
  int64_t last_conv_channels = 0;
  for (const WeightEntry& e : model.weights) {
    const size_t slash = e.name.rfind('/');
    NST_CHECK(slash != std::string::npos, "tfjs '", model.source, "': weight ", e.name,
              ": expected a 'layer/kernel' or 'layer/bias' name");
    const std::string layer = e.name.substr(0, slash), kind = e.name.substr(slash + 1);
    NST_CHECK(kind == "kernel" || kind == "bias", "tfjs '", model.source, "': weight ", e.name,
              ": neither a kernel nor a bias");
    std::string ours;
    int b = 0, i = 0;
    if (std::sscanf(layer.c_str(), "block%d_conv%d", &b, &i) == 2 && b >= 1 && b <= 5 &&
        i >= 1 && i <= 4 && layer == str("block", b, "_conv", i))
      ours = str("conv", b, "_", i);
    else if (layer == "fc1") ours = "fc6";
    else if (layer == "fc2") ours = "fc7";
    else if (layer == "predictions") ours = "fc8";
    else fail("tfjs '", model.source, "': weight ", e.name, ": not a VGG-19 layer");
    const bool conv = ours[0] == 'c';
    if (kind == "bias") {
      NST_CHECK(e.shape.rank() == 1, "tfjs '", model.source, "': weight ", e.name,
                ": bias must have rank 1, got ", e.shape.to_string());
      WeightEntry bias = e;
      bias.name = ours + ".bias";
      out.push_back(std::move(bias));
    } else if (conv) {
      out.push_back(hwio_to_oihw(e, ours + ".weight"));
      last_conv_channels = e.shape.rank() == 4 ? e.shape[3] : 0;
    } else if (ours == "fc6") {
      NST_CHECK(e.shape.rank() == 2 && last_conv_channels > 0 &&
                    e.shape[0] % last_conv_channels == 0,
                "tfjs '", model.source, "': weight ", e.name, ": shape ", e.shape.to_string(),
                " does not follow a conv layer's output");
      const int64_t hw = e.shape[0] / last_conv_channels;
      const auto side = int64_t(std::llround(std::sqrt(double(hw))));
      NST_CHECK(side * side == hw, "tfjs '", model.source, "': weight ", e.name,
                ": input is not a square feature map");
      out.push_back(dense_to_out_in(e, "fc6.weight", {side, side, last_conv_channels}));
    } else {
      out.push_back(dense_to_out_in(e, ours + ".weight"));
    }
  }
  return out;
}

}  // namespace nst::io
