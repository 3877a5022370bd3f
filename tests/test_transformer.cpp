// The feed-forward style network: its description, its forward from the nn
// ops (inference in place == the recorded tape), gradients through it, any
// photo size, and the published networks (when the shared data is there).
#include <cmath>

#include "convert/ml5.hpp"
#include "models/transformer.hpp"
#include "nst/colour.hpp"
#include "nst/fast.hpp"
#include "fixture.hpp"
#include "testing.hpp"
#include "transformer_util.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("transformer spec: the description survives its JSON, at any width",
          "[transformer]") {
  for (int64_t width : {1, 16, 32, 64}) {
    const TransformerSpec spec = johnson_transformer(width);
    const std::string json = transformer_spec_json(spec);
    const TransformerSpec back = parse_transformer_spec(json, "test");
    CHECK(transformer_spec_json(back) == json);
    const auto shapes = transformer_param_shapes(back);
    CHECK(shapes.size() == 48);
    CHECK(shapes.front().name == "conv1.weight");
    CHECK(shapes.front().shape == std::vector<int64_t>{width, 3, 9, 9});
  }
  // Zero padding writes no "padding" key (the files made before it stay byte
  // for byte); reflect padding is written on the convs and read back.
  CHECK(transformer_spec_json(johnson_transformer(4)).find("padding") == std::string::npos);
  const TransformerSpec reflect = johnson_transformer(4, 5, Padding::reflect);
  const std::string json = transformer_spec_json(reflect);
  const TransformerSpec back = parse_transformer_spec(json, "test");
  CHECK(transformer_spec_json(back) == json);
  CHECK(back.layers.front().padding == Padding::reflect);
  CHECK(back.layers[3].body[1].padding == Padding::reflect);
  CHECK(back.layers[8].op == LayerOp::conv_transpose);
  CHECK(back.layers[8].padding == Padding::zero);
  // Resize-convolution: a stride-1 conv after nearest upsampling, in the file as "upsample".
  const TransformerSpec resize = johnson_transformer(4, 5, Padding::reflect, Upsampling::nearest);
  const TransformerSpec resize_back = parse_transformer_spec(transformer_spec_json(resize), "test");
  CHECK(transformer_spec_json(resize_back) == transformer_spec_json(resize));
  CHECK(resize_back.layers[8].op == LayerOp::conv);
  CHECK(resize_back.layers[8].upsample == 2);
  CHECK(resize_back.layers[8].stride == 1);
  CHECK(transformer_param_shapes(resize_back)[39].shape == std::vector<int64_t>{8, 16, 3, 3});
  // 4 times the MACs of each transposed conv: 132 -> 161 GMAC at 1024 x 1024 (width 32).
  CHECK(transformer_macs(johnson_transformer(32, 5, Padding::reflect, Upsampling::nearest), 1024,
                         1024) == Approx(161.3e9).epsilon(0.01));
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string t = json;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  const std::string reflect_key = "\"padding\": \"reflect\"";
  CHECK_THROWS_WITH(parse_transformer_spec(replaced(reflect_key, "\"padding\": \"wrap\""), "m"),
                    Catch::Contains("unknown padding \"wrap\""));
  const std::string up = "\"name\": \"up1\"";
  CHECK_THROWS_WITH(parse_transformer_spec(replaced(up, up + ", " + reflect_key), "m"),
                    Catch::Contains("reflect padding is for conv layers only"));
  CHECK_THROWS_WITH(parse_transformer_spec(replaced(up, up + ", \"upsample\": 2"), "m"),
                    Catch::Contains("\"upsample\" is for conv layers only"));
  CHECK_THROWS_WITH(parse_transformer_spec(replaced(reflect_key, reflect_key + ", \"upsample\": 0"), "m"),
                    Catch::Contains("upsample"));
  // The published net: 132 GMAC at 1024 x 1024 (264.5 GFLOP).
  CHECK(transformer_macs(johnson_transformer(32), 1024, 1024) == Approx(132.3e9).epsilon(0.01));
}

TEST_CASE("transformer: inference in place gives the bits of the recorded tape", "[transformer]") {
  const int variant = GENERATE(0, 1, 2);
  const Transformer net = random_transformer(johnson_variant(variant, 4), 10);
  const Tensor photo = random_photo(13, 17, 11);
  const Tensor fast = net.stylize(photo);
  Tape tape;
  const auto vars = net.bind(tape, true);
  const Var y = net.forward(tape, vars, tape.constant(photo));
  REQUIRE(y.requires_grad());
  REQUIRE(y.shape() == (Shape{1, 3, 16, 20}));  // 13 x 17 rounded up to multiples of 4
  Tensor cropped = Tensor::empty({1, 3, 13, 17});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 13; ++i)
      for (int64_t j = 0; j < 17; ++j)
        cropped.at(0, c, i, j) = std::clamp(y.value().at(0, c, i, j), 0.0f, 255.0f);
  CHECK(bit_identical(fast, cropped));
}

TEST_CASE("transformer: any photo size, 1 x 1 included", "[transformer]") {
  const int variant = GENERATE(0, 1, 2);
  const Transformer net = random_transformer(johnson_variant(variant, 2), 20);
  for (const auto& [H, W] : std::vector<std::pair<int64_t, int64_t>>{
           {1, 1}, {1, 7}, {5, 1}, {2, 3}, {4, 4}, {9, 6}, {31, 2}}) {
    INFO(H << " x " << W);
    const Tensor out = net.stylize(random_photo(H, W, 21));
    REQUIRE(out.shape() == (Shape{1, 3, H, W}));
    for (int64_t i = 0; i < out.numel(); ++i) {
      REQUIRE(std::isfinite(out[i]));
      REQUIRE(out[i] >= 0.0f);
      REQUIRE(out[i] <= 255.0f);
    }
  }
}

TEST_CASE("transformer: 1 and 2 threads give the same bits", "[transformer][threads]") {
  const int variant = GENERATE(0, 1, 2);
  const Transformer net = random_transformer(johnson_variant(variant, 8), 30);
  const Tensor photo = random_photo(37, 45, 31);
  for_each_simd_level([&](kernels::SimdLevel) {
    Tensor out[2];
    for (int k = 0; k < 2; ++k) with_threads(k + 1, [&] { out[k] = net.stylize(photo); });
    CHECK(bit_identical(out[0], out[1]));
  });
}

TEST_CASE("transformer: weight and input gradients through the whole network match finite "
          "differences", "[transformer]") {
  // Without ReLUs the network is smooth, so central differences in float are
  // meaningful; each op's own gradient is checked in double in its test file.
  const int variant = GENERATE(0, 1, 2);
  TransformerSpec spec = johnson_variant(variant, 2, 1);
  for (LayerSpec& L : spec.layers) {
    L.relu = false;
    for (LayerSpec& b : L.body) b.relu = false;
  }
  spec.layers.back().norm = NormKind::none;  // a bias that is not normalised away
  spec.layers.back().bias = true;
  Transformer net = random_transformer(spec, 40);
  const Tensor photo = random_photo(8, 12, 41);
  const Tensor r = random_tensor({1, 3, 8, 12}, 42);
  auto loss = [&](const Transformer& n) {
    Tape tape;
    const Var y = n.forward(tape, n.bind(tape, false), tape.constant(photo));
    double s = 0.0;
    for (int64_t i = 0; i < r.numel(); ++i) s += double(y.value()[i]) * r[i];
    return s;
  };
  Tape tape;
  const auto vars = net.bind(tape, true);
  const Var y = net.forward(tape, vars, tape.constant(photo));
  tape.backward(dot_with(tape, y, r));
  for (const char* name : {"conv1.weight", "conv_out.bias", "conv3.norm.scale", "res1_conv2.weight",
                           "up1.weight", "up2.norm.shift", "conv_out.weight"}) {
    INFO(name);
    Tensor& w = net.params().at(name);
    const Tensor& g = vars.at(name).grad();
    REQUIRE(g.defined());
    for (int64_t i : {int64_t(0), w.numel() / 2, w.numel() - 1}) {
      const float keep = w[i];
      const float h = 1e-2f * std::max(1.0f, std::fabs(keep));
      w[i] = keep + h;
      const double fp = loss(net);
      w[i] = keep - h;
      const double fm = loss(net);
      w[i] = keep;
      const double numeric = (fp - fm) / (2.0 * double(h));
      CHECK(g[i] == Approx(numeric).epsilon(0.03).margin(1e-2 * std::fabs(numeric) + 1e-3));
    }
  }
}

TEST_CASE("fast_stylize: size, original colours and blend", "[transformer]") {
  const Transformer net = random_transformer(johnson_transformer(2), 50);
  const Tensor photo = random_photo(30, 40, 51);
  FastOptions o;
  o.size = 20;
  const FastResult small = fast_stylize(net, photo, o);
  CHECK(small.image.shape() == (Shape{1, 3, 15, 20}));
  o.size = 0;
  o.blend = 1.0;
  const FastResult all_photo = fast_stylize(net, photo, o);
  check_close(all_photo.image, photo, 0.0, 1e-3, "blend 1 gives the photo");
  o.blend = 0.0;
  const FastResult painted = fast_stylize(net, photo, o);
  o.original_colors = true;
  const FastResult coloured = fast_stylize(net, photo, o);
  REQUIRE(coloured.image.shape() == photo.shape());
  // The painting's luminance with the photo's colours, and not the painting.
  check_close(coloured.image, keep_content_colours(painted.image, photo), 0.0, 1e-4,
              "original colours = keep_content_colours(painting, photo)");
  double moved = 0;
  for (int64_t i = 0; i < photo.numel(); ++i)
    moved = std::max(moved, double(std::fabs(coloured.image[i] - painted.image[i])));
  CHECK(moved > 1.0);
  o.blend = 1.5;
  CHECK_THROWS_WITH(fast_stylize(net, photo, o), Catch::Contains("blend"));
  // A photo beyond the memory limit is refused before the network runs.
  o.blend = 0.0;
  o.max_memory_bytes = net.inference_peak_bytes(30, 40) - 1;
  CHECK_THROWS_WITH(fast_stylize(net, photo, o), Catch::Contains("40 x 30 picture needs about"));
  o.size = 20;  // smaller: fits
  CHECK(fast_stylize(net, photo, o).image.shape() == (Shape{1, 3, 15, 20}));
}

TEST_CASE("fast_stylize: --pad paints the mirrored photo and cuts the margin off", "[transformer]") {
  const Transformer net = random_transformer(johnson_transformer(2), 52);
  const Tensor photo = random_photo(13, 18, 53);
  FastOptions o;
  const Tensor plain = fast_stylize(net, photo, o).image;
  for (int64_t pad : {int64_t(5), int64_t(12), int64_t(100)}) {
    INFO("pad " << pad);
    const int64_t p = std::min<int64_t>(pad, 12);  // at most the short side - 1
    // The mirror written out here: index -i is i, index n - 1 + i is n - 1 - i.
    Tensor big = Tensor::empty({1, 3, 13 + 2 * p, 18 + 2 * p});
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 13 + 2 * p; ++y)
        for (int64_t x = 0; x < 18 + 2 * p; ++x) {
          int64_t sy = std::abs(y - p), sx = std::abs(x - p);
          if (sy > 12) sy = 24 - sy;
          if (sx > 17) sx = 34 - sx;
          big.data()[(c * (13 + 2 * p) + y) * (18 + 2 * p) + x] = photo.data()[(c * 13 + sy) * 18 + sx];
        }
    const Tensor whole = net.stylize(big, Tensor(), Tensor());
    o.pad = pad;
    const Tensor padded = fast_stylize(net, photo, o).image;
    REQUIRE(padded.shape() == photo.shape());
    double worst = 0, changed = 0;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < 13; ++y)
        for (int64_t x = 0; x < 18; ++x) {
          const int64_t i = (c * 13 + y) * 18 + x;
          const float want = whole.data()[(c * (13 + 2 * p) + y + p) * (18 + 2 * p) + x + p];
          worst = std::max(worst, double(std::fabs(padded.data()[i] - want)));
          changed = std::max(changed, double(std::fabs(padded.data()[i] - plain.data()[i])));
        }
    CHECK(worst == 0.0);
    CHECK(changed > 0.5);  // the edges (instance norm: everything) differ from the unpadded run
  }
  o.pad = -1;
  CHECK_THROWS_WITH(fast_stylize(net, photo, o), Catch::Contains("pad"));
}

TEST_CASE("transformer: the published networks convert and paint (shared data)",
          "[transformer][shared]") {
  NST_REQUIRE_SHARED("models/fast-style/la_muse/manifest.json");
  const std::string dir = shared_dir() + "/models/fast-style/la_muse";
  std::string checksum;
  const Transformer net = io::read_ml5(dir, &checksum);
  CHECK(checksum.rfind("sha256:", 0) == 0);
  CHECK(net.spec().layers.size() == 11);
  CHECK(net.params().at("conv1.weight").shape() == (Shape{32, 3, 9, 9}));
  CHECK(net.params().at("up1.weight").shape() == (Shape{128, 64, 3, 3}));
  // A flat grey photo stays finite and in range, and is painted (not flat).
  const Tensor out = net.stylize(Tensor::full({1, 3, 24, 32}, 128.0f));
  float lo = 255.0f, hi = 0.0f;
  for (int64_t i = 0; i < out.numel(); ++i) {
    lo = std::min(lo, out[i]);
    hi = std::max(hi, out[i]);
  }
  CHECK(hi - lo > 20.0f);
}

namespace {

// The fixture's Variable, Variable_1, ... as ml5 variables and their values.
Transformer fixture_network(const std::map<std::string, Tensor>& fx) {
  std::vector<io::Ml5Variable> vars;
  std::vector<std::vector<float>> data;
  for (int k = 0;; ++k) {
    const std::string name = k == 0 ? "Variable" : "Variable_" + std::to_string(k);
    const auto it = fx.find(name);
    if (it == fx.end()) break;
    io::Ml5Variable v;
    v.index = k;
    v.filename = name;
    v.shape.assign(it->second.shape().begin(), it->second.shape().end());
    vars.push_back(v);
    data.emplace_back(it->second.data(), it->second.data() + it->second.numel());
  }
  return io::ml5_transformer(vars, data, "fixture");
}

// The raw output (before the clip) at the network's own size.
Tensor raw_output(const Transformer& net, const Tensor& photo) {
  Tape tape;
  return net.forward(tape, net.bind(tape, false), tape.constant(photo)).value();
}

// ||a - b|| / ||b - 127.5||: relative to the tanh term, without the offset that
// would flatter the error.
double tanh_term_error(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  double num = 0, den = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += (double(b[i]) - 127.5) * (double(b[i]) - 127.5);
  }
  return std::sqrt(num / den);
}

}  // namespace

TEST_CASE("transformer: matches PyTorch (float64) on a width-4 network of the ml5 layout",
          "[transformer][fixture]") {
  const auto fx = read_fixture("fast_style.bin");
  const Transformer net = fixture_network(fx);
  CHECK(net.spec().layers.front().out == 4);
  for (const char* size : {"13x17", "1x1", "2x3"}) {
    INFO(size);
    const Tensor& photo = fx.at(std::string("tiny_input_") + size);
    const Tensor raw = raw_output(net, photo);
    const double err = tanh_term_error(raw, fx.at(std::string("tiny_raw_") + size));
    INFO("relative error " << err);
    CHECK(err < 1e-4);
    const Tensor out = net.stylize(photo);
    check_close(out, fx.at(std::string("tiny_output_") + size), 0.0, 1e-2, "output");
  }
}

TEST_CASE("transformer: the converted la_muse matches PyTorch (float64) within 1e-4",
          "[transformer][fixture][shared]") {
  NST_REQUIRE_SHARED("models/fast-style/la_muse/manifest.json");
  const auto fx = read_fixture("fast_style.bin");
  const Transformer net = io::read_ml5(shared_dir() + "/models/fast-style/la_muse");
  const Tensor& photo = fx.at("la_muse_input");
  const Tensor raw = raw_output(net, photo);
  REQUIRE(raw.shape() == fx.at("la_muse_raw").shape());
  const double err = tanh_term_error(raw, fx.at("la_muse_raw"));
  INFO("relative error " << err);
  CHECK(err < 1e-4);
  check_close(net.stylize(photo), fx.at("la_muse_output"), 0.0, 2e-2, "output");
}
