#include "models/transformer_spec.hpp"

#include <cctype>
#include <cmath>
#include <limits>
#include <set>

#include "io/json.hpp"
#include "io/json_writer.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

constexpr int64_t kMaxChannels = 4096;
constexpr int64_t kMaxKernel = 31;
constexpr int64_t kMaxStride = 8;
constexpr size_t kMaxLayers = 256;

struct Parser {
  const std::string& source;

  template <class... Args>
  [[noreturn]] void bad(const Args&... args) const {
    fail("network description in '", source, "': ", args...);
  }

  int64_t integer(const io::Json& j, const char* key, const std::string& layer, int64_t lo,
                  int64_t hi) const {
    const io::Json* v = j.find(key);
    if (!v) bad("layer '", layer, "' has no \"", key, "\"");
    if (!v->is_number()) bad("layer '", layer, "': \"", key, "\" must be a number");
    const double d = v->as_number();
    if (!(d >= double(lo) && d <= double(hi)) || d != std::floor(d))
      bad("layer '", layer, "': \"", key, "\" is ", d, ", not a whole number in ", lo, "..", hi);
    return int64_t(d);
  }

  bool flag(const io::Json& j, const char* key, const std::string& layer) const {
    const io::Json* v = j.find(key);
    if (!v) return false;
    if (v->kind() != io::Json::Kind::Bool) bad("layer '", layer, "': \"", key, "\" must be true or false");
    return v->as_bool();
  }

  std::string text(const io::Json& j, const char* key, const std::string& layer) const {
    const io::Json* v = j.find(key);
    if (!v || !v->is_string()) bad("layer '", layer, "': \"", key, "\" must be a string");
    return v->as_string();
  }

  LayerSpec layer(const io::Json& j, size_t index, int depth) const {
    if (!j.is_object()) bad("layer ", index, " is not an object");
    LayerSpec L;
    const io::Json* name = j.find("name");
    if (!name || !name->is_string() || name->as_string().empty() || name->as_string().size() > 64)
      bad("layer ", index, " needs a \"name\" of 1 to 64 characters");
    L.name = name->as_string();
    for (char ch : L.name)
      if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_'))
        bad("layer name '", L.name, "' may hold only letters, digits and '_'");
    const std::string op = text(j, "op", L.name);
    if (op == "residual") {
      if (depth > 0) bad("layer '", L.name, "': a residual block inside a residual block");
      L.op = LayerOp::residual;
      const io::Json* body = j.find("layers");
      if (!body || !body->is_array() || body->items().empty())
        bad("residual '", L.name, "' needs a non-empty \"layers\" array");
      if (body->items().size() > kMaxLayers) bad("residual '", L.name, "' has too many layers");
      for (size_t i = 0; i < body->items().size(); ++i) {
        L.body.push_back(layer(body->items()[i], i, depth + 1));
        if (L.body.back().op != LayerOp::conv)
          bad("residual '", L.name, "': its layers must be stride-1 convs");
      }
      return L;
    }
    if (op == "conv")
      L.op = LayerOp::conv;
    else if (op == "conv_transpose")
      L.op = LayerOp::conv_transpose;
    else
      bad("layer '", L.name, "': unknown op \"", op, "\" (conv, conv_transpose or residual)");
    L.in = integer(j, "in", L.name, 1, kMaxChannels);
    L.out = integer(j, "out", L.name, 1, kMaxChannels);
    L.kernel = integer(j, "kernel", L.name, 1, kMaxKernel);
    L.stride = integer(j, "stride", L.name, 1, kMaxStride);
    L.bias = flag(j, "bias", L.name);
    L.relu = flag(j, "relu", L.name);
    const std::string padding = j.find("padding") ? text(j, "padding", L.name) : "zero";
    if (padding == "reflect")
      L.padding = Padding::reflect;
    else if (padding != "zero")
      bad("layer '", L.name, "': unknown padding \"", padding, "\" (zero or reflect)");
    if (L.padding == Padding::reflect && L.op != LayerOp::conv)
      bad("layer '", L.name, "': reflect padding is for conv layers only");
    if (j.find("upsample")) {
      L.upsample = integer(j, "upsample", L.name, 1, kMaxStride);
      if (L.op != LayerOp::conv) bad("layer '", L.name, "': \"upsample\" is for conv layers only");
    }
    const std::string norm = j.find("norm") ? text(j, "norm", L.name) : "none";
    if (norm == "instance")
      L.norm = NormKind::instance;
    else if (norm != "none")
      bad("layer '", L.name, "': unknown norm \"", norm, "\" (instance or none)");
    if (L.norm == NormKind::instance) {
      const io::Json* eps = j.find("eps");
      if (!eps || !eps->is_number()) bad("layer '", L.name, "': an instance norm needs \"eps\"");
      const double e = eps->as_number();
      if (!(e > 0.0 && e <= 1.0 && float(e) > 0.0f))
        bad("layer '", L.name, "': eps ", e, " is not in (0, 1] (as a float)");
      L.eps = float(e);
    }
    return L;
  }
};

// Channel counts chain from the input to the last layer.
void check_chain(const Parser& p, const TransformerSpec& s) {
  std::set<std::string> names;
  int64_t channels = s.input_channels;
  auto visit = [&](const LayerSpec& L) {
    if (!names.insert(L.name).second) p.bad("two layers are called '", L.name, "'");
    if (L.in != channels)
      p.bad("layer '", L.name, "' takes ", L.in, " channels but receives ", channels);
    channels = L.out;
  };
  for (const LayerSpec& L : s.layers) {
    if (L.op != LayerOp::residual) {
      visit(L);
      continue;
    }
    if (!names.insert(L.name).second) p.bad("two layers are called '", L.name, "'");
    const int64_t before = channels;
    for (const LayerSpec& b : L.body) {
      if (b.stride != 1) p.bad("layer '", b.name, "' in a residual block has stride ", b.stride);
      visit(b);
    }
    if (channels != before)
      p.bad("residual '", L.name, "' turns ", before, " channels into ", channels);
  }
  if (channels != 3) p.bad("the last layer gives ", channels, " channels, not 3 (RGB)");
}

// The strides cancel: the convs divide H and W by the product of theirs (rounding
// up), the transposed convs and upsampling multiply them by theirs, and the output must be the
// photo's size (Transformer::stylize crops it to the photo). Compared exactly
// on the exponents of 2, 3, 5 and 7 (strides are 1..8).
void check_strides(const Parser& p, const TransformerSpec& s) {
  const int64_t primes[4] = {2, 3, 5, 7};
  int64_t exponents[4] = {0, 0, 0, 0};
  double down = 1.0, up = 1.0;
  auto factor = [&](int64_t k, bool grows) {
    (grows ? up : down) *= double(k);
    for (int i = 0; i < 4; ++i)
      for (; k % primes[i] == 0; k /= primes[i]) exponents[i] += grows ? 1 : -1;
  };
  auto visit = [&](const LayerSpec& L) {
    factor(L.upsample, true);
    factor(L.stride, L.op == LayerOp::conv_transpose);
  };
  for (const LayerSpec& L : s.layers) {
    if (L.op != LayerOp::residual) visit(L);
    for (const LayerSpec& b : L.body) visit(b);
  }
  for (int64_t e : exponents)
    if (e != 0)
      p.bad("the strides do not cancel: the convs divide the picture by ", down,
            " and the transposed convs and upsampling multiply it by ", up,
            " (the output must be the photo's size)");
}

void write_layer(JsonWriter& j, const LayerSpec& L) {
  j.begin_object().key("op");
  if (L.op == LayerOp::residual) {
    j.value("residual").key("name").value(L.name).key("layers").begin_array();
    for (const LayerSpec& b : L.body) write_layer(j, b);
    j.end_array().end_object();
    return;
  }
  j.value(L.op == LayerOp::conv ? "conv" : "conv_transpose");
  j.key("name").value(L.name).key("in").value(L.in).key("out").value(L.out);
  j.key("kernel").value(L.kernel).key("stride").value(L.stride).key("bias").value(L.bias);
  j.key("norm").value(L.norm == NormKind::instance ? "instance" : "none");
  if (L.norm == NormKind::instance) j.key("eps").value(double(L.eps));
  j.key("relu").value(L.relu);
  if (L.padding == Padding::reflect) j.key("padding").value("reflect");  // zero: as before
  if (L.upsample > 1) j.key("upsample").value(L.upsample);
  j.end_object();
}

void add_shapes(std::vector<ParamShape>& out, const LayerSpec& L, int64_t styles) {
  if (L.op == LayerOp::residual) {
    for (const LayerSpec& b : L.body) add_shapes(out, b, styles);
    return;
  }
  const int64_t k = L.kernel;
  if (L.op == LayerOp::conv)
    out.push_back({L.name + ".weight", {L.out, L.in, k, k}});
  else
    out.push_back({L.name + ".weight", {L.in, L.out, k, k}});
  if (L.bias) out.push_back({L.name + ".bias", {L.out}});
  if (L.norm == NormKind::instance) {
    const std::vector<int64_t> shape = styles > 0 ? std::vector<int64_t>{styles, L.out}
                                                  : std::vector<int64_t>{L.out};
    out.push_back({L.name + ".norm.scale", shape});
    out.push_back({L.name + ".norm.shift", shape});
  }
}

LayerSpec conv_layer(const std::string& name, int64_t in, int64_t out, int64_t k, int64_t s,
                     bool relu, LayerOp op = LayerOp::conv) {
  LayerSpec L;
  L.op = op;
  L.name = name;
  L.in = in;
  L.out = out;
  L.kernel = k;
  L.stride = s;
  L.norm = NormKind::instance;
  L.eps = 1e-3f;
  L.relu = relu;
  return L;
}

}  // namespace

TransformerSpec parse_transformer_spec(const std::string& json, const std::string& source) {
  const Parser p{source};
  const io::Json doc = io::parse_json(json, source);
  if (!doc.is_object()) p.bad("not a JSON object");
  const io::Json* kind = doc.find("kind");
  if (!kind || !kind->is_string() || kind->as_string() != "feed-forward")
    p.bad("\"kind\" must be \"feed-forward\"");
  TransformerSpec s;
  s.input_channels = p.integer(doc, "input_channels", "(network)", 3, 3);
  const io::Json* layers = doc.find("layers");
  if (!layers || !layers->is_array() || layers->items().empty())
    p.bad("no \"layers\" array");
  if (layers->items().size() > kMaxLayers) p.bad("more than ", kMaxLayers, " layers");
  for (size_t i = 0; i < layers->items().size(); ++i)
    s.layers.push_back(p.layer(layers->items()[i], i, 0));
  const io::Json* out = doc.find("output");
  if (!out || !out->is_object()) p.bad("no \"output\" object");
  const std::string op = p.text(*out, "op", "output");
  if (op == "tanh")
    s.output.kind = OutputSpec::Kind::tanh;
  else if (op == "affine")
    s.output.kind = OutputSpec::Kind::affine;
  else
    p.bad("output: unknown op \"", op, "\" (tanh or affine)");
  auto number = [&](const char* key) {
    const io::Json* v = out->find(key);
    if (!v || !v->is_number() || !(std::abs(v->as_number()) <= std::numeric_limits<float>::max()))
      p.bad("output: \"", key, "\" must be a finite number (as a float)");
    return float(v->as_number());
  };
  s.output.scale = number("scale");
  s.output.offset = number("offset");
  s.output.min = number("min");
  s.output.max = number("max");
  if (!(s.output.min < s.output.max)) p.bad("output: min must be below max");
  if (const io::Json* styles = doc.find("styles")) {
    if (!styles->is_array() || styles->items().empty() ||
        int64_t(styles->items().size()) > kMaxStyles)
      p.bad("\"styles\" must be an array of 1 to ", kMaxStyles, " names");
    std::set<std::string> seen;
    for (const io::Json& name : styles->items()) {
      if (!name.is_string() || name.as_string().empty() || name.as_string().size() > 64)
        p.bad("\"styles\": each name must be a string of 1 to 64 characters");
      if (!seen.insert(name.as_string()).second)
        p.bad("\"styles\": '", name.as_string(), "' is there twice");
      for (char ch : name.as_string())
        if (static_cast<unsigned char>(ch) < 0x20)
          p.bad("\"styles\": a name holds a control character");
      s.styles.push_back(name.as_string());
    }
  }
  check_chain(p, s);
  check_strides(p, s);
  return s;
}

std::string transformer_spec_json(const TransformerSpec& spec) {
  JsonWriter j;
  j.begin_object().key("kind").value("feed-forward");
  j.key("input_channels").value(spec.input_channels).key("layers").begin_array();
  for (const LayerSpec& L : spec.layers) write_layer(j, L);
  j.end_array().key("output").begin_object();
  j.key("op").value(spec.output.kind == OutputSpec::Kind::tanh ? "tanh" : "affine");
  j.key("scale").value(double(spec.output.scale)).key("offset").value(double(spec.output.offset));
  j.key("min").value(double(spec.output.min)).key("max").value(double(spec.output.max));
  j.end_object();
  if (!spec.styles.empty()) {
    j.key("styles").begin_array();
    for (const std::string& name : spec.styles) j.value(name);
    j.end_array();
  }
  j.end_object();
  return j.str();
}

std::vector<ParamShape> transformer_param_shapes(const TransformerSpec& spec) {
  std::vector<ParamShape> out;
  for (const LayerSpec& L : spec.layers) add_shapes(out, L, int64_t(spec.styles.size()));
  return out;
}

TransformerSpec johnson_transformer(int64_t width, int64_t residual_blocks, Padding padding,
                                    Upsampling upsampling) {
  NST_CHECK(width >= 1 && width * 4 <= kMaxChannels, "transformer width ", width,
            " is out of range");
  NST_CHECK(residual_blocks >= 0 && residual_blocks <= 64, "residual block count ",
            residual_blocks, " is out of range");
  const int64_t w = width;
  TransformerSpec s;
  s.layers.push_back(conv_layer("conv1", 3, w, 9, 1, true));
  s.layers.push_back(conv_layer("conv2", w, 2 * w, 3, 2, true));
  s.layers.push_back(conv_layer("conv3", 2 * w, 4 * w, 3, 2, true));
  for (int64_t r = 1; r <= residual_blocks; ++r) {
    LayerSpec block;
    block.op = LayerOp::residual;
    block.name = "res" + std::to_string(r);
    block.body.push_back(conv_layer(block.name + "_conv1", 4 * w, 4 * w, 3, 1, true));
    block.body.push_back(conv_layer(block.name + "_conv2", 4 * w, 4 * w, 3, 1, false));
    s.layers.push_back(block);
  }
  if (upsampling == Upsampling::transposed) {
    s.layers.push_back(conv_layer("up1", 4 * w, 2 * w, 3, 2, true, LayerOp::conv_transpose));
    s.layers.push_back(conv_layer("up2", 2 * w, w, 3, 2, true, LayerOp::conv_transpose));
  } else {
    s.layers.push_back(conv_layer("up1", 4 * w, 2 * w, 3, 1, true));
    s.layers.push_back(conv_layer("up2", 2 * w, w, 3, 1, true));
    s.layers[s.layers.size() - 2].upsample = s.layers.back().upsample = 2;
  }
  s.layers.push_back(conv_layer("conv_out", w, 3, 9, 1, false));
  auto set_padding = [padding](LayerSpec& L) {
    if (L.op == LayerOp::conv) L.padding = padding;
  };
  for (LayerSpec& L : s.layers) {
    set_padding(L);
    for (LayerSpec& b : L.body) set_padding(b);
  }
  return s;
}

double transformer_macs(const TransformerSpec& spec, int64_t H, int64_t W) {
  double macs = 0.0;
  double h = double(H), w = double(W);
  auto visit = [&](const LayerSpec& L) {
    const double k2 = double(L.kernel * L.kernel);
    h *= double(L.upsample);
    w *= double(L.upsample);
    if (L.op == LayerOp::conv) {
      h = std::ceil(h / double(L.stride));
      w = std::ceil(w / double(L.stride));
      macs += h * w * double(L.out * L.in) * k2;
    } else {
      macs += h * w * double(L.out * L.in) * k2;  // each input pixel scatters a kernel
      h *= double(L.stride);
      w *= double(L.stride);
    }
  };
  for (const LayerSpec& L : spec.layers) {
    if (L.op == LayerOp::residual)
      for (const LayerSpec& b : L.body) visit(b);
    else
      visit(L);
  }
  return macs;
}

}  // namespace nst
