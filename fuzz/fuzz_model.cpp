// libFuzzer target: the feed-forward model loader (Transformer::load) and the
// network description parser (parse_transformer_spec). Every input is tried
//   - as an .nstw file, as it is and with its header's file size and checksums
//     made right (so that mutations reach the index and the description);
//   - as the JSON text of a network description. A description that parses must
//     survive its own JSON unchanged, and when it is small it is given
//     generated tensors, saved, loaded back and run on a 5 x 7 photo.
// A model that loads is run on the photo too when its cost is small. Only
// nst::Error may come out; a broken property aborts.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "models/transformer.hpp"
#include "nstw_header.hpp"
#include "temp_file.hpp"
#include "tensor/check.hpp"

namespace {

[[noreturn]] void broken(const char* what) {
  std::fprintf(stderr, "fuzz_model: property broken: %s\n", what);
  std::abort();
}

using nst::fuzz::with_fixed_header;

// The largest activation (elements), the multiply-adds and the parameters of a
// pass at H x W must all be small for the network to be run here.
bool cheap_to_run(const nst::TransformerSpec& s, int64_t H, int64_t W) {
  double h = double(H), w = double(W), peak = h * w * double(s.input_channels), params = 0;
  auto visit = [&](const nst::LayerSpec& L) {
    if (L.op == nst::LayerOp::conv) {
      h = std::ceil(h / double(L.stride));
      w = std::ceil(w / double(L.stride));
    } else {
      h *= double(L.stride);
      w *= double(L.stride);
    }
    peak = std::max(peak, h * w * double(L.out));
    params += double(L.in) * double(L.out) * double(L.kernel * L.kernel);
  };
  for (const nst::LayerSpec& L : s.layers) {
    if (L.op != nst::LayerOp::residual) visit(L);
    for (const nst::LayerSpec& b : L.body) visit(b);
  }
  return peak <= double(1 << 20) && params <= double(1 << 20) &&
         nst::transformer_macs(s, H, W) <= 2e7;
}

void paint(const nst::Transformer& net) {
  if (!cheap_to_run(net.spec(), 5, 7)) return;
  nst::Tensor photo = nst::Tensor::empty({1, 3, 5, 7});
  for (int64_t i = 0; i < photo.numel(); ++i) photo[i] = float((i * 41) % 256);
  const nst::Tensor out = net.stylize(photo);
  if (out.shape() != photo.shape()) broken("stylize changed the photo's shape");
}

void load_file(const std::string& bytes) {
  const std::string path =
      nst::fuzz::write_temp("m.nstw", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  try {
    paint(nst::Transformer::load(path));
  } catch (const nst::Error&) {
  }
}

// Generated tensors for a spec: small weights, unit norm scales, zero shifts.
nst::Transformer generated(const nst::TransformerSpec& spec) {
  std::map<std::string, nst::Tensor> params;
  for (const nst::ParamShape& p : nst::transformer_param_shapes(spec)) {
    nst::Tensor t = nst::Tensor::empty(nst::Shape(p.shape.begin(), p.shape.end()));
    const bool scale = p.name.ends_with(".norm.scale"), shift = p.name.ends_with(".norm.shift");
    for (int64_t i = 0; i < t.numel(); ++i)
      t[i] = scale ? 1.0f : shift ? 0.0f : float((i * 37) % 17 - 8) * 0.02f;
    params.emplace(p.name, t);
  }
  return nst::Transformer(spec, std::move(params));
}

void parse_spec(const std::string& text) {
  nst::TransformerSpec spec;
  try {
    spec = nst::parse_transformer_spec(text, "fuzz.json");
  } catch (const nst::Error&) {
    return;
  }
  const std::string json = nst::transformer_spec_json(spec);
  try {
    if (nst::transformer_spec_json(nst::parse_transformer_spec(json, "round trip")) != json)
      broken("a description changed through its own JSON");
  } catch (const nst::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    broken("a description that parsed was refused after its own JSON");
  }
  if (!cheap_to_run(spec, 5, 7)) return;
  const std::string path = (nst::fuzz::temp_dir() / "spec.nstw").string();
  try {
    generated(spec).save(path, "fuzz", "");
  } catch (const nst::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    broken("a valid description with its tensors could not be saved");
  }
  try {
    const nst::Transformer net = nst::Transformer::load(path);
    if (nst::transformer_spec_json(net.spec()) != json)
      broken("save + load changed the description");
    paint(net);
  } catch (const nst::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    broken("a saved model did not load or run");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nst::fuzz::ReleasePoolAtExit release;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  load_file(bytes);
  load_file(with_fixed_header(bytes));
  if (size > 0 && data[0] != 'N') parse_spec(bytes);  // 'N': the .nstw magic
  return 0;
}
