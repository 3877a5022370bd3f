#include "convert/ml5.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>

#include "io/checksum.hpp"
#include "io/file_util.hpp"
#include "io/json.hpp"
#include "tensor/check.hpp"

namespace nst::io {

namespace fs = std::filesystem;

namespace {

constexpr uint64_t kMaxManifestBytes = uint64_t(1) << 20;
constexpr int kMaxVariables = 1000;

// "Variable" -> 0, "Variable_K" -> K (K without leading zeros), else -1.
int variable_index(const std::string& name) {
  if (name == "Variable") return 0;
  const std::string prefix = "Variable_";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return -1;
  const std::string digits = name.substr(prefix.size());
  if (digits.size() > 4 || digits[0] == '0') return -1;
  int k = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;
    k = k * 10 + (c - '0');
  }
  return k;
}

// The variable ids of one layer: its kernel at id, norm shift id + 1, scale id + 2.
struct LayerIds {
  const LayerSpec* layer;
  int id;
};

std::vector<LayerIds> layer_ids(const TransformerSpec& spec) {
  std::vector<LayerIds> out;
  int id = 0;
  for (const LayerSpec& L : spec.layers) {
    if (L.op == LayerOp::residual) {
      for (const LayerSpec& b : L.body) {
        out.push_back({&b, id});
        id += 3;
      }
    } else {
      out.push_back({&L, id});
      id += 3;
    }
  }
  return out;
}

std::string shape_text(const std::vector<int64_t>& d) { return Shape(d.begin(), d.end()).to_string(); }

}  // namespace

std::vector<Ml5Variable> parse_ml5_manifest(const std::string& text, const std::string& source) {
  const Json doc = parse_json(text, source);
  NST_CHECK(doc.is_object(), "ml5 manifest '", source, "': not a JSON object");
  const auto& members = doc.members();
  NST_CHECK(!members.empty() && members.size() <= size_t(kMaxVariables), "ml5 manifest '", source,
            "': ", members.size(), " variables (expected 1 to ", kMaxVariables, ")");
  std::vector<Ml5Variable> vars;
  for (const auto& [name, entry] : members) {
    const int k = variable_index(name);
    NST_CHECK(k >= 0 && k < int(members.size()), "ml5 manifest '", source, "': unexpected entry '",
              name, "' (expected Variable, Variable_1, ... Variable_", members.size() - 1, ")");
    NST_CHECK(entry.is_object(), "ml5 manifest '", source, "': entry ", name, " is not an object");
    Ml5Variable v;
    v.index = k;
    const Json* file = entry.find("filename");
    NST_CHECK(file && file->is_string(), "ml5 manifest '", source, "': ", name,
              " has no \"filename\" string");
    v.filename = file->as_string();
    NST_CHECK(!v.filename.empty() && v.filename.size() <= 255 &&
                  v.filename.find('/') == std::string::npos &&
                  v.filename.find('\\') == std::string::npos && v.filename != "." &&
                  v.filename != ".." && v.filename.find('\0') == std::string::npos,
              "ml5 manifest '", source, "': ", name, ": file name '", v.filename,
              "' is not a plain name inside the folder");
    const Json* shape = entry.find("shape");
    NST_CHECK(shape && shape->is_array() && !shape->items().empty() && shape->items().size() <= 4,
              "ml5 manifest '", source, "': ", name, " needs a \"shape\" of 1 to 4 dimensions");
    for (const Json& d : shape->items()) {
      NST_CHECK(d.is_number() && d.as_number() >= 1 && d.as_number() <= 65536 &&
                    d.as_number() == double(int64_t(d.as_number())),
                "ml5 manifest '", source, "': ", name, ": bad dimension in its shape");
      v.shape.push_back(int64_t(d.as_number()));
    }
    vars.push_back(std::move(v));
  }
  std::sort(vars.begin(), vars.end(),
            [](const Ml5Variable& a, const Ml5Variable& b) { return a.index < b.index; });
  for (size_t i = 0; i < vars.size(); ++i)
    NST_CHECK(vars[i].index == int(i), "ml5 manifest '", source, "': Variable_", vars[i].index,
              " appears twice or Variable_", i, " is missing");
  return vars;
}

TransformerSpec ml5_network(const std::vector<Ml5Variable>& vars, const std::string& source) {
  // conv1..conv3 (9 variables), 6 per residual block, up1, up2, conv_out (9).
  const int64_t n = int64_t(vars.size());
  NST_CHECK(n >= 18 && (n - 18) % 6 == 0, "ml5 model '", source, "': ", n,
            " variables do not make a Johnson transformer (18 + 6 per residual block)");
  NST_CHECK(vars[0].shape.size() == 4 && vars[0].shape[0] == 9 && vars[0].shape[1] == 9 &&
                vars[0].shape[2] == 3 && vars[0].shape[3] <= 1024,
            "ml5 model '", source, "': Variable has shape ", shape_text(vars[0].shape),
            ", expected [9, 9, 3, width] (the first 9x9 conv)");
  const TransformerSpec spec = johnson_transformer(vars[0].shape[3], (n - 18) / 6);
  for (const LayerIds& l : layer_ids(spec)) {
    const LayerSpec& L = *l.layer;
    const std::vector<int64_t> kernel =
        L.op == LayerOp::conv ? std::vector<int64_t>{L.kernel, L.kernel, L.in, L.out}
                              : std::vector<int64_t>{L.kernel, L.kernel, L.out, L.in};
    const std::vector<int64_t> channels{L.out};
    const std::vector<int64_t>* want[3] = {&kernel, &channels, &channels};
    for (int j = 0; j < 3; ++j) {
      const Ml5Variable& v = vars[size_t(l.id + j)];
      NST_CHECK(v.shape == *want[j], "ml5 model '", source, "': Variable_", v.index, " (",
                j == 0 ? "kernel" : j == 1 ? "norm shift" : "norm scale", " of ", L.name,
                ") has shape ", shape_text(v.shape), ", expected ", shape_text(*want[j]));
    }
  }
  return spec;
}

Transformer read_ml5(const std::string& dir, std::string* checksum) {
  NST_CHECK(fs::is_directory(dir), "ml5 model '", dir, "': not a folder (expected a folder with ",
            "manifest.json and Variable files)");
  const fs::path manifest_path = fs::path(dir) / "manifest.json";
  const std::string manifest = read_file(manifest_path.string(), "ml5 manifest");
  NST_CHECK(manifest.size() <= kMaxManifestBytes, "ml5 manifest '", manifest_path.string(),
            "': larger than ", kMaxManifestBytes, " bytes");
  const std::vector<Ml5Variable> vars = parse_ml5_manifest(manifest, manifest_path.string());
  ml5_network(vars, dir);  // every shape checked before any data file is read

  Sha256 sha;
  sha.update(manifest.data(), manifest.size());
  std::vector<std::vector<float>> data(vars.size());
  for (const Ml5Variable& v : vars) {
    const fs::path p = fs::path(dir) / v.filename;
    int64_t numel = 1;
    for (int64_t d : v.shape) numel *= d;
    const std::string bytes = read_file(p.string(), "ml5 variable");
    NST_CHECK(bytes.size() == uint64_t(numel) * 4, "ml5 variable '", p.string(), "': ",
              bytes.size(), " bytes, but its shape ", shape_text(v.shape), " needs ", numel * 4,
              bytes.size() < uint64_t(numel) * 4 ? " (truncated)" : " (trailing bytes)");
    sha.update(bytes.data(), bytes.size());
    std::vector<float>& f = data[size_t(v.index)];
    f.resize(size_t(numel));
    std::memcpy(f.data(), bytes.data(), bytes.size());
    for (float x : f)
      NST_CHECK(std::isfinite(x), "ml5 variable '", p.string(), "': holds a NaN or infinity");
  }
  if (checksum) *checksum = "sha256:" + sha.hex_digest();
  return ml5_transformer(vars, data, dir);
}

namespace {

// TensorFlow's kernel layout [kh][kw][a][b] as [b][a][kh][kw].
Tensor taps_last(const std::vector<float>& k, int64_t K, int64_t a, int64_t b) {
  Tensor w = Tensor::empty(Shape{b, a, K, K});
  for (int64_t j = 0; j < b; ++j)
    for (int64_t i = 0; i < a; ++i)
      for (int64_t h = 0; h < K; ++h)
        for (int64_t x = 0; x < K; ++x)
          w[((j * a + i) * K + h) * K + x] = k[size_t(((h * K + x) * a + i) * b + j)];
  return w;
}

}  // namespace

Transformer ml5_transformer(const std::vector<Ml5Variable>& vars,
                            const std::vector<std::vector<float>>& data, const std::string& source) {
  const TransformerSpec spec = ml5_network(vars, source);
  NST_CHECK(data.size() == vars.size(), "ml5 model '", source, "': ", data.size(),
            " data arrays for ", vars.size(), " variables");
  for (const Ml5Variable& v : vars) {
    int64_t numel = 1;
    for (int64_t d : v.shape) numel *= d;
    NST_CHECK(int64_t(data[size_t(v.index)].size()) == numel, "ml5 model '", source,
              "': Variable_", v.index, " holds ", data[size_t(v.index)].size(), " values, its shape ",
              shape_text(v.shape), " needs ", numel);
  }
  std::map<std::string, Tensor> params;
  for (const LayerIds& l : layer_ids(spec)) {
    const LayerSpec& L = *l.layer;
    const std::vector<float>& k = data[size_t(l.id)];
    const int64_t K = L.kernel;
    // A conv's HWIO [kh][kw][in][out] becomes OIHW; a transposed conv's
    // [kh][kw][out][in] becomes [in][out][kh][kw].
    const Tensor w = L.op == LayerOp::conv ? taps_last(k, K, L.in, L.out)
                                           : taps_last(k, K, L.out, L.in);
    params.emplace(L.name + ".weight", w);
    auto vec = [&](int j) {
      Tensor t = Tensor::empty(Shape{L.out});
      std::memcpy(t.data(), data[size_t(l.id + j)].data(), size_t(L.out) * 4);
      return t;
    };
    params.emplace(L.name + ".norm.shift", vec(1));
    params.emplace(L.name + ".norm.scale", vec(2));
  }
  return Transformer(spec, std::move(params), Transformer::rgb255(), "ml5 model '" + source + "'");
}

Ml5Summary convert_ml5(const std::string& dir, const std::string& output) {
  Ml5Summary s;
  const Transformer net = read_ml5(dir, &s.source_checksum);
  net.save(output, "ml5 fast-style-transfer folder " + fs::path(dir).lexically_normal().string(),
           s.source_checksum);
  s.width = net.spec().layers.front().out;
  s.residual_blocks = 0;
  for (const LayerSpec& L : net.spec().layers) s.residual_blocks += L.op == LayerOp::residual;
  s.tensors = net.params().size();
  return s;
}

}  // namespace nst::io
