// Multi-style networks (conditional instance norm, Dumoulin et al. 2017): the
// "styles" of a network description, style selection and mixing in the
// forward pass, model files with styles, and nst fast's --style-index,
// --style-mix and --list.
#include <filesystem>
#include <set>

#include "cli_util.hpp"
#include "io/json.hpp"
#include "models/transformer.hpp"
#include "nn/instance_norm.hpp"
#include "nst/fast.hpp"
#include "ops_testing.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"
#include "transformer_util.hpp"

using namespace nst;
using namespace nst::testing;
namespace fs = std::filesystem;

namespace {

TransformerSpec styled(int64_t width, std::vector<std::string> styles) {
  TransformerSpec spec = johnson_transformer(width);
  spec.styles = std::move(styles);
  return spec;
}

// A multi-style network whose style k's norm rows are network k's norms, and
// whose convolutions are network 0's (the others' convolutions are ignored).
Transformer stack_styles(const std::vector<const Transformer*>& nets, std::vector<std::string> names) {
  const TransformerSpec spec = styled(nets[0]->spec().layers[0].out, std::move(names));
  std::map<std::string, Tensor> params = nets[0]->params();
  const int64_t S = int64_t(nets.size());
  for (auto& [name, t] : params) {
    if (name.find(".norm.") == std::string::npos) continue;
    const int64_t C = t.numel();
    Tensor table = Tensor::empty({S, C});
    for (int64_t s = 0; s < S; ++s)
      for (int64_t c = 0; c < C; ++c) table[s * C + c] = nets[size_t(s)]->params().at(name)[c];
    t = table;
  }
  return Transformer(spec, std::move(params));
}

}  // namespace

TEST_CASE("multi-style spec: styles survive the JSON and make [S, C] norm tables", "[multistyle]") {
  const TransformerSpec spec = styled(4, {"la_muse", "the scream", "wave"});
  const TransformerSpec back = parse_transformer_spec(transformer_spec_json(spec), "test");
  CHECK(back.styles == spec.styles);
  CHECK(back.style_count() == 3);
  // Without "styles": one style, [C] norm vectors, and no "styles" key written.
  const TransformerSpec single = johnson_transformer(4);
  CHECK(single.style_count() == 1);
  CHECK(transformer_spec_json(single).find("styles") == std::string::npos);
  const auto a = transformer_param_shapes(single), b = transformer_param_shapes(spec);
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].name.find(".norm.") == std::string::npos) {
      CHECK(a[i].shape == b[i].shape);
    } else {
      CHECK(a[i].shape.size() == 1);
      CHECK(b[i].shape == (std::vector<int64_t>{3, a[i].shape[0]}));
    }
  }
}

TEST_CASE("multi-style spec: bad style lists are clear errors", "[multistyle]") {
  std::string json = transformer_spec_json(johnson_transformer(2));
  json.pop_back();  // the closing brace
  auto with = [&](const std::string& styles) { return json + ", \"styles\": " + styles + "}"; };
  CHECK_THROWS_WITH(parse_transformer_spec(with("[]"), "m.nstw"),
                    Catch::Contains("m.nstw") && Catch::Contains("array of 1 to 1024 names"));
  CHECK_THROWS_WITH(parse_transformer_spec(with("\"a\""), "m.nstw"),
                    Catch::Contains("array of 1 to 1024 names"));
  CHECK_THROWS_WITH(parse_transformer_spec(with("[\"a\", 3]"), "m.nstw"),
                    Catch::Contains("a string of 1 to 64 characters"));
  CHECK_THROWS_WITH(parse_transformer_spec(with("[\"a\", \"\"]"), "m.nstw"),
                    Catch::Contains("a string of 1 to 64 characters"));
  CHECK_THROWS_WITH(parse_transformer_spec(with("[\"a\", \"b\", \"a\"]"), "m.nstw"),
                    Catch::Contains("'a' is there twice"));
  CHECK(parse_transformer_spec(with("[\"only\"]"), "m.nstw").style_count() == 1);
}

TEST_CASE("multi-style network: style k paints as the single-style network whose norms it holds",
          "[multistyle]") {
  const TransformerSpec spec = johnson_transformer(4);
  const Transformer a = random_transformer(spec, 100);
  Transformer b = random_transformer(spec, 200);
  b.params() = [&] {  // b: a's convolutions, its own norms
    std::map<std::string, Tensor> p = a.params();
    for (auto& [name, t] : p)
      if (name.find(".norm.") != std::string::npos) t = b.params().at(name);
    return p;
  }();
  const Transformer both = stack_styles({&a, &b}, {"a", "b"});
  const Tensor photo = random_photo(19, 14, 101);
  const Tensor pa = a.stylize(photo), pb = b.stylize(photo);
  CHECK_FALSE(bit_identical(pa, pb));
  // Style 0 by default, by index, and by the mix (1, 0): a's pixels exactly.
  CHECK(bit_identical(both.stylize(photo), pa));
  CHECK(bit_identical(both.stylize(photo, both.style_one_hot(0)), pa));
  CHECK(bit_identical(both.stylize(photo, both.style_mix({1.0, 0.0})), pa));
  CHECK(bit_identical(both.stylize(photo, both.style_one_hot(1)), pb));
  CHECK(bit_identical(both.stylize(photo, both.style_mix({0.0, 1.0})), pb));
  // A half-half mix is neither; the single-style net with averaged norms paints it.
  const Tensor half = both.stylize(photo, both.style_mix({0.5, 0.5}));
  CHECK_FALSE(bit_identical(half, pa));
  CHECK_FALSE(bit_identical(half, pb));
  Transformer avg = a;
  for (auto& [name, t] : avg.params())
    if (name.find(".norm.") != std::string::npos) {
      Tensor m = Tensor::empty(t.shape());
      for (int64_t i = 0; i < t.numel(); ++i)
        m[i] = float(0.5 * double(a.params().at(name)[i]) + 0.5 * double(b.params().at(name)[i]));
      t = m;
    }
  check_close(half, avg.stylize(photo), 0.0, 1e-3, "half mix vs averaged norms");
  // A single-style network takes a mix of one weight too: (1) is itself.
  CHECK(bit_identical(a.stylize(photo, a.style_mix({1.0})), pa));
}

TEST_CASE("multi-style network: a batch paints each sample in its own style, on the tape",
          "[multistyle]") {
  const Transformer net = random_transformer(styled(3, {"x", "y", "z"}), 300);
  const Tensor p0 = random_photo(9, 11, 301), p1 = random_photo(9, 11, 302);
  Tensor batch = Tensor::empty({2, 3, 9, 11});
  std::copy(p0.data(), p0.data() + p0.numel(), batch.data());
  std::copy(p1.data(), p1.data() + p1.numel(), batch.data() + p0.numel());
  Tensor w = Tensor::zeros({2, 3});
  w[0 * 3 + 2] = 1.0f;  // sample 0: style z
  w[1 * 3 + 1] = 1.0f;  // sample 1: style y
  Tape tape;
  const auto vars = net.bind(tape, true);
  const Var y = net.forward(tape, vars, tape.constant(batch), tape.constant(w));
  REQUIRE(y.shape() == (Shape{2, 3, 12, 12}));
  Tensor want0 = net.stylize(p0, net.style_one_hot(2)), want1 = net.stylize(p1, net.style_one_hot(1));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t i = 0; i < 9; ++i)
      for (int64_t j = 0; j < 11; ++j) {
        CHECK(std::clamp(y.value().at(0, c, i, j), 0.0f, 255.0f) == Approx(want0.at(0, c, i, j)).margin(1e-3));
        CHECK(std::clamp(y.value().at(1, c, i, j), 0.0f, 255.0f) == Approx(want1.at(0, c, i, j)).margin(1e-3));
      }
  // Style weights of the wrong shape.
  Tape t2;
  CHECK_THROWS_WITH(net.forward(t2, net.bind(t2, false), t2.constant(batch),
                                t2.constant(Tensor::zeros({2, 2}))),
                    Catch::Contains("must be [N, S] = [2, 3]"));
}

TEST_CASE("multi-style network: bad indices and mix counts are clear errors", "[multistyle]") {
  const Transformer net = random_transformer(styled(2, {"a", "b"}), 400);
  CHECK(net.style_names() == std::vector<std::string>{"a", "b"});
  CHECK_THROWS_WITH(net.style_one_hot(2), Catch::Contains("style index 2 is out of range") &&
                                              Catch::Contains("2 styles (indices 0..1)"));
  CHECK_THROWS_WITH(net.style_one_hot(-1), Catch::Contains("out of range"));
  CHECK_THROWS_WITH(net.style_mix({1.0}), Catch::Contains("a style mix of 1 weight for a network of 2 styles"));
  CHECK_THROWS_WITH(net.style_mix({1.0, 0.0, 0.0}), Catch::Contains("3 weights"));
  CHECK_THROWS_WITH(net.style_mix({1.0, std::nan("")}), Catch::Contains("not a finite number"));
  const Transformer single = random_transformer(johnson_transformer(2), 401);
  CHECK(single.style_names() == std::vector<std::string>{"style 0"});
  CHECK_THROWS_WITH(single.style_one_hot(1), Catch::Contains("1 style (index 0)"));
}

TEST_CASE("nst fast: --style-index, --style-mix and --list on a multi-style model file",
          "[multistyle][fast][cli]") {
  ScratchDir dir("multistyle");
  const Transformer net = random_transformer(styled(2, {"sunny", "stormy"}), 500);
  const std::string model = dir.file("two.nstw");
  net.save(model, "unit test", "");
  const Transformer back = Transformer::load(model);
  CHECK(back.style_names() == std::vector<std::string>{"sunny", "stormy"});
  const std::string photo = dir.file("photo.png");
  save_image(photo, random_pixels(12, 10, 501));

  const CliRun list = run_nst({"fast", "--model", model, "--list"});
  INFO(describe(list));
  CHECK(list.exit_code == 0);
  CHECK(list.out == "0\tsunny\n1\tstormy\n");
  const CliRun list_json = run_nst({"fast", "--model", model, "--list", "--json"});
  const io::Json j = io::parse_json(list_json.out, "stdout");
  REQUIRE(j.at("styles").items().size() == 2);
  CHECK(j.at("styles").items()[1].as_string() == "stormy");

  const std::string by_index = dir.file("k1.png"), by_mix = dir.file("m01.png");
  CHECK(run_nst({"fast", "--model", model, "--input", photo, "--output", by_index,
                 "--style-index", "1"}).exit_code == 0);
  CHECK(run_nst({"fast", "--model", model, "--input", photo, "--output", by_mix, "--style-mix",
                 "0,1"}).exit_code == 0);
  CHECK(read_bytes(by_index) == read_bytes(by_mix));
  const Tensor want = net.stylize(load_image(photo), net.style_one_hot(1));
  check_close(load_image(by_index), want, 0.0, 0.5001, "style 1 from the CLI");

  const std::string none = dir.file("none.png");
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output", none,
                            "--style-index", "2"}),
                   "--style-index 2: '" + model + "' has 2 styles");
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output", none,
                            "--style-mix", "0.2,0.3,0.5"}),
                   "--style-mix has 3 weights but '" + model + "' has 2 styles");
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output", none,
                            "--style-mix", "1,0", "--style-index", "0"}),
                   "not several");
  check_error_exit(run_nst({"fast", "--model", model, "--output", none}), "--input is required");
  CHECK_FALSE(fs::exists(none));
}

TEST_CASE("instance_norm_spatial: matches the reference, and uniform one-hot weights are the plain norm",
          "[instance_norm][multistyle]") {
  uint64_t seed = 600;
  for (int64_t S : {1, 2, 3})
    for (const Shape& shape : odd_shapes()) {
      if (shape[0] != 1) continue;
      INFO("S " << S << " shape " << shape.to_string());
      const int64_t C = shape[1], M = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++, -2.0f, 3.0f);
      const Tensor scale = random_tensor({S, C}, seed++), shift = random_tensor({S, C}, seed++);
      const Tensor w = random_tensor({S, M}, seed++, 0.0f, 1.0f);
      for (bool relu : {false, true}) {
        Tensor out = Tensor::empty(shape);
        instance_norm_spatial_forward(out, x, scale, shift, w, 1e-3f, relu);
        const std::vector<double> xd = to_double(x), sd = to_double(scale), td = to_double(shift),
                                  wd = to_double(w);
        std::vector<double> want(xd.size());
        instance_norm_spatial_reference_forward(want.data(), xd.data(), sd.data(), td.data(),
                                                wd.data(), S, C, M, 1e-3, relu);
        check_close(out, want, 1e-5, 1e-5, "out");
      }
      // Every pixel on style S-1: instance_norm_forward with that style's row.
      Tensor one = Tensor::zeros({S, M});
      for (int64_t i = 0; i < M; ++i) one[(S - 1) * M + i] = 1.0f;
      Tensor a = Tensor::empty(shape), b = Tensor::empty(shape), rstd = Tensor::empty({1, C});
      instance_norm_spatial_forward(a, x, scale, shift, one, 1e-3f, true);
      Tensor row_s = Tensor::empty({1, C}), row_t = Tensor::empty({1, C});
      for (int64_t c = 0; c < C; ++c) {
        row_s[c] = scale[(S - 1) * C + c];
        row_t[c] = shift[(S - 1) * C + c];
      }
      instance_norm_forward(b, rstd, x, row_s, row_t, 1e-3f, true);
      check_close(a, b, 1e-5, 1e-5, "one style everywhere");
    }
  const Tensor x = random_tensor({1, 2, 3, 3}, 1);
  Tensor out = Tensor::empty(x.shape());
  CHECK_THROWS_WITH(instance_norm_spatial_forward(out, x, Tensor::zeros({2, 2}), Tensor::zeros({2, 2}),
                                                  Tensor::zeros({2, 8}), 1e-3f),
                    Catch::Contains("weights [2, 8] must be [S, H * W] = [2, 9]"));
}

TEST_CASE("multi-style network: two regions in one pass, each half nearer its own style",
          "[multistyle]") {
  const TransformerSpec spec = johnson_transformer(4);
  const Transformer a = random_transformer(spec, 700);
  Transformer b = random_transformer(spec, 800);
  b.params() = [&] {
    std::map<std::string, Tensor> p = a.params();
    for (auto& [name, t] : p)
      if (name.find(".norm.") != std::string::npos) t = b.params().at(name);
    return p;
  }();
  const Transformer both = stack_styles({&a, &b}, {"a", "b"});
  const int64_t H = 40, W = 160;
  const Tensor photo = random_photo(H, W, 701);
  Tensor masks = Tensor::zeros({2, 1, H, W});  // left half style a, right half style b
  for (int64_t y = 0; y < H; ++y)
    for (int64_t x = 0; x < W; ++x) masks[(x < W / 2 ? 0 : H * W) + y * W + x] = 1.0f;
  const Tensor mixed = both.stylize(photo, Tensor(), masks);
  const Tensor pa = both.stylize(photo, both.style_one_hot(0)), pb = both.stylize(photo, both.style_one_hot(1));
  // Mean squared difference over the columns [x0, x1), away from the seam.
  auto msd = [&](const Tensor& u, const Tensor& v, int64_t x0, int64_t x1) {
    double s = 0;
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = x0; x < x1; ++x) {
          const double d = double(u.at(0, c, y, x)) - double(v.at(0, c, y, x));
          s += d * d;
        }
    return s / double(3 * H * (x1 - x0));
  };
  // The statistics of each norm are the whole picture's, and the network sees
  // across the seam (9x9 convs, two halvings): near, not equal.
  const double left_a = msd(mixed, pa, 0, 40), left_b = msd(mixed, pb, 0, 40);
  const double right_a = msd(mixed, pa, 120, 160), right_b = msd(mixed, pb, 120, 160);
  INFO("left: to a " << left_a << ", to b " << left_b << "; right: to a " << right_a << ", to b " << right_b);
  CHECK(left_a < 0.5 * left_b);
  CHECK(right_b < 0.5 * right_a);
  // Masks all on one style: that style's picture.
  Tensor all_b = Tensor::zeros({2, 1, H, W});
  for (int64_t i = 0; i < H * W; ++i) all_b[H * W + i] = 1.0f;
  check_close(both.stylize(photo, Tensor(), all_b), pb, 0.0, 0.05, "mask all b");
  CHECK_THROWS_WITH(both.stylize(photo, Tensor(), Tensor::zeros({3, 1, H, W})),
                    Catch::Contains("must be [S, 1, H, W] = [2, 1, 40, 160]"));
  CHECK_THROWS_WITH(both.stylize(photo, both.style_one_hot(0), masks), Catch::Contains("not both"));
}

TEST_CASE("nst fast: --style-mask-images and --style-strip", "[multistyle][fast][cli]") {
  ScratchDir dir("multistyle-cli");
  const Transformer net = random_transformer(styled(2, {"one", "two"}), 900);
  const std::string model = dir.file("two.nstw");
  net.save(model, "unit test", "");
  const std::string photo = dir.file("photo.png");
  save_image(photo, random_pixels(20, 24, 901));
  Tensor white = Tensor::full({1, 3, 10, 12}, 255.0f), black = Tensor::zeros({1, 3, 10, 12});
  save_image(dir.file("m0.png"), white);
  save_image(dir.file("m1.png"), black);
  save_image(dir.file("small.png"), Tensor::zeros({1, 3, 5, 6}));

  // Masks all on style 0 (any size: resized to the photo): --style-index 0's picture.
  const CliRun masked = run_nst({"fast", "--model", model, "--input", photo, "--output",
                                 dir.file("masked.png"), "--style-mask-images",
                                 dir.file("m0.png") + "," + dir.file("m1.png")});
  INFO(describe(masked));
  REQUIRE(masked.exit_code == 0);
  check_clean_exit(run_nst({"fast", "--model", model, "--input", photo, "--output",
                            dir.file("k0.png"), "--style-index", "0"}));
  check_close(load_image(dir.file("masked.png")), load_image(dir.file("k0.png")), 0.0, 1.0001,
              "mask all style 0");
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output",
                            dir.file("bad.png"), "--style-mask-images", dir.file("m0.png")}),
                   "--style-mask-images has 1 masks but '" + model + "' has 2 styles");
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output",
                            dir.file("bad.png"), "--style-mask-images",
                            dir.file("m0.png") + "," + dir.file("small.png")}),
                   "give masks of one size");
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output",
                            dir.file("bad.png"), "--style-mask-images",
                            dir.file("m0.png") + "," + dir.file("missing.png")}),
                   "missing.png");

  // A strip of three panels: 0 is style 0, 1 is style 1.
  const CliRun strip = run_nst({"fast", "--model", model, "--input", photo, "--output",
                                dir.file("strip.png"), "--style-strip", "0,0.5,1"});
  check_clean_exit(strip);
  const Tensor s = load_image(dir.file("strip.png"));
  REQUIRE(s.shape() == (Shape{1, 3, 20, 72}));
  const Tensor k0 = load_image(dir.file("k0.png"));
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < 20; ++y)
      for (int64_t x = 0; x < 24; ++x) CHECK(s.at(0, c, y, x) == k0.at(0, c, y, x));
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output",
                            dir.file("bad.png"), "--style-strip", "0,1", "--strip-styles", "0,2"}),
                   "--strip-styles 2");
  check_error_exit(run_nst({"fast", "--model", model, "--input", photo, "--output",
                            dir.file("bad.png"), "--style-strip", "0,1", "--style-index", "1"}),
                   "not several");
  CHECK_FALSE(fs::exists(dir.file("bad.png")));
}
