// Bad feed-forward model files give a clear nst::Error naming the file and the
// tensor: .nstw models (truncated, corrupted, wrong / missing / extra tensors,
// a VGG-19 file, bad network descriptions), ml5 folders (missing or truncated
// Variable files, wrong shapes, unsafe names, a manifest that is not JSON), and
// `nst fast` on a corrupt model and on a batch with a corrupt photo. The
// networks are tiny (width 2) and made here; the real la_muse is converted
// when the shared data is there.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "cli_util.hpp"
#include "convert/ml5.hpp"
#include "io/weights.hpp"
#include "models/transformer.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using namespace nst::testing;
namespace fs = std::filesystem;

namespace {

std::map<std::string, Tensor> random_params(const TransformerSpec& spec, uint64_t seed) {
  std::map<std::string, Tensor> params;
  for (const ParamShape& p : transformer_param_shapes(spec)) {
    Tensor t = random_tensor(Shape(p.shape.begin(), p.shape.end()), seed++, -0.3f, 0.3f);
    if (p.name.ends_with(".norm.scale"))
      for (int64_t i = 0; i < t.numel(); ++i) t[i] += 1.0f;
    params.emplace(p.name, t);
  }
  return params;
}

// johnson_transformer(2) with random weights, saved by Transformer::save.
std::string save_tiny_model(const ScratchDir& dir, const std::string& name = "tiny.nstw") {
  const TransformerSpec spec = johnson_transformer(2);
  const Transformer net(spec, random_params(spec, 1));
  const std::string path = dir.file(name);
  net.save(path, "unit test", "");
  return path;
}

// A model file with this description ("": a version-1 file, as VGG-19's) and tensors.
std::string write_model(const ScratchDir& dir, const std::string& network,
                        const std::map<std::string, Tensor>& tensors) {
  io::WeightMetadata meta;
  meta.input = Transformer::rgb255();
  meta.source = "unit test";
  meta.network = network;
  std::vector<io::WeightEntry> entries;
  for (const auto& [name, t] : tensors) entries.push_back(io::make_float_entry(name, t));
  const std::string path = dir.file("edited.nstw");
  io::write_weight_file(path, meta, entries);
  return path;
}

void expect_load_error(const std::string& path, const std::string& message) {
  INFO("expect: " << message);
  CHECK_THROWS_WITH(Transformer::load(path), Catch::Contains(path) && Catch::Contains(message));
}

// An ml5 folder for johnson_transformer(width, blocks): manifest.json and one
// raw float32 file per variable, in the network's order (kernel, norm shift,
// norm scale per layer); kernels HWIO [k][k][in][out], the transposed convs'
// [k][k][out][in] (../shared/README.md).
struct Ml5File {
  std::string name, filename;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

std::vector<Ml5File> ml5_files(int64_t width, int64_t blocks) {
  std::vector<Ml5File> files;
  auto add = [&](std::vector<int64_t> shape) {
    const size_t k = files.size();
    const std::string name = k == 0 ? "Variable" : "Variable_" + std::to_string(k);
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    std::vector<float> values(static_cast<size_t>(numel));
    for (size_t i = 0; i < values.size(); ++i)
      values[i] = float(int64_t((k * 131 + i * 17) % 23) - 11) * 0.01f;
    files.push_back({name, name, std::move(shape), std::move(values)});
  };
  auto layer = [&](const LayerSpec& L) {
    if (L.op == LayerOp::conv)
      add({L.kernel, L.kernel, L.in, L.out});
    else
      add({L.kernel, L.kernel, L.out, L.in});
    add({L.out});
    add({L.out});
  };
  for (const LayerSpec& L : johnson_transformer(width, blocks).layers) {
    if (L.op != LayerOp::residual) layer(L);
    for (const LayerSpec& b : L.body) layer(b);
  }
  return files;
}

std::string write_ml5(const ScratchDir& dir, const std::vector<Ml5File>& files) {
  const std::string folder = dir.file("ml5");
  fs::create_directories(folder);
  std::ostringstream manifest;
  manifest << "{";
  for (size_t k = 0; k < files.size(); ++k) {
    const Ml5File& f = files[k];
    manifest << (k ? ",\n" : "\n") << "  \"" << f.name << "\": {\"filename\": \"" << f.filename
             << "\", \"shape\": [";
    for (size_t d = 0; d < f.shape.size(); ++d) manifest << (d ? ", " : "") << f.shape[d];
    manifest << "]}";
    std::ofstream out(folder + "/" + f.name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(f.values.data()), std::streamsize(f.values.size() * 4));
  }
  manifest << "\n}\n";
  write_text(folder + "/manifest.json", manifest.str());
  return folder;
}

void expect_ml5_error(const std::string& folder, const std::string& names,
                      const std::string& message) {
  INFO("expect: " << names << " ... " << message);
  CHECK_THROWS_WITH(io::read_ml5(folder), Catch::Contains(names) && Catch::Contains(message));
}

}  // namespace

TEST_CASE("model files: a tiny model loads back, truncated or corrupted, it names file and tensor",
          "[model]") {
  ScratchDir dir("model");
  const std::string path = save_tiny_model(dir);
  CHECK(fs::file_size(path) < 64 * 1024);
  const Transformer net = Transformer::load(path);  // the intact file loads back unchanged
  CHECK(transformer_spec_json(net.spec()) == transformer_spec_json(johnson_transformer(2)));
  const std::map<std::string, Tensor> want = random_params(johnson_transformer(2), 1);
  REQUIRE(net.params().size() == want.size());
  for (const auto& [name, t] : want) CHECK(bit_identical(net.params().at(name), t));
  const std::vector<uint8_t> good = read_bytes(path);
  const std::string bad = dir.file("bad.nstw");

  SECTION("truncated") {
    for (size_t keep : {size_t(0), size_t(40), good.size() / 2, good.size() - 1}) {
      write_bytes(bad, std::vector<uint8_t>(good.begin(), good.begin() + long(keep)));
      expect_load_error(
          bad, keep == 0 || keep == 40 ? "shorter than the 64-byte header" : "(truncated)");
    }
  }
  SECTION("a flipped byte in a tensor") {
    const uint64_t at = io::WeightFile::open(path).info("up1.weight").offset + 5;
    std::vector<uint8_t> b = good;
    b[at] ^= 0x10;
    write_bytes(bad, b);
    expect_load_error(bad, "tensor up1.weight: checksum mismatch");
  }
}

TEST_CASE("model files: wrong, missing and extra tensors name the tensor and the shape it needs",
          "[model]") {
  ScratchDir dir("model");
  const TransformerSpec spec = johnson_transformer(2);
  const std::string network = transformer_spec_json(spec);
  std::map<std::string, Tensor> tensors = random_params(spec, 3);

  SECTION("wrong shape") {
    tensors["res3_conv1.weight"] = random_tensor({8, 8, 1, 1}, 4);
    expect_load_error(write_model(dir, network, tensors),
                      "tensor res3_conv1.weight has shape [8, 8, 1, 1], the network needs "
                      "[8, 8, 3, 3]");
  }
  SECTION("missing") {
    tensors.erase("up2.norm.scale");
    expect_load_error(write_model(dir, network, tensors),
                      "tensor up2.norm.scale is missing (the network needs [2])");
  }
  SECTION("extra") {
    tensors["conv1.bias"] = random_tensor({2}, 5);
    expect_load_error(write_model(dir, network, tensors),
                      "tensor conv1.bias is not part of the network description");
  }
  SECTION("a huge description over a small file fails on its first missing tensor") {
    // Width 1024: 3.6 GB of weights described, none stored.
    const auto t0 = std::chrono::steady_clock::now();
    expect_load_error(write_model(dir, transformer_spec_json(johnson_transformer(1024)), tensors),
                      "tensor conv1.weight has shape [2, 3, 9, 9], the network needs "
                      "[1024, 3, 9, 9]");
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  }
}

TEST_CASE("model files: a VGG-19 weight file is not a style model", "[model]") {
  ScratchDir dir("model");
  const std::string path = write_model(dir, "",  // version 1: no network description
                                       {{"conv1_1.weight", random_tensor({4, 3, 3, 3}, 1)},
                                        {"conv1_1.bias", random_tensor({4}, 2)}});
  expect_load_error(path, "not a feed-forward style model");
}

TEST_CASE("model files: bad network descriptions name the file and the layer", "[model]") {
  ScratchDir dir("model");
  const TransformerSpec good = johnson_transformer(2);
  const std::map<std::string, Tensor> tensors = random_params(good, 7);
  auto expect = [&](const std::string& network, const std::string& message) {
    const std::string path = write_model(dir, network, tensors);
    expect_load_error(path, "network description in '" + path + "': " + message);
  };
  const std::string json = transformer_spec_json(good);
  // The description with a regex replaced (once it is found), or with its spec edited.
  auto replaced = [&](const std::string& pattern, const std::string& by) {
    REQUIRE(std::regex_search(json, std::regex(pattern)));
    return std::regex_replace(json, std::regex(pattern), by);
  };
  auto edited = [&](const std::function<void(TransformerSpec&)>& edit) {
    TransformerSpec s = good;
    edit(s);
    return transformer_spec_json(s);
  };

  expect(replaced("\"conv_transpose\"", "\"deconv\""), "layer 'up1': unknown op \"deconv\"");
  expect_load_error(write_model(dir, "{\"kind\": \"feed-forward\"", tensors), "json '");
  expect("[1, 2]", "not a JSON object");
  expect(edited([](TransformerSpec& s) { s.layers[2].in = 5; }),
         "layer 'conv3' takes 5 channels but receives 4");
  expect(edited([](TransformerSpec& s) { s.layers[3].body[1].out = s.layers[4].body[0].in = 4; }),
         "residual 'res1' turns 8 channels into 4");
  for (float eps : {0.0f, -1e-3f, 2.0f})
    expect(edited([&](TransformerSpec& s) { s.layers[1].eps = eps; }), "layer 'conv2': eps");
  expect(edited([](TransformerSpec& s) { s.layers[1].eps = std::nanf(""); }),  // null
         "layer 'conv2': an instance norm needs \"eps\"");
  // 1e-50 is a positive double but 0 as a float; 1e39 a finite double but no float.
  expect(replaced("\"eps\": ?[-+.e0-9]+", "\"eps\": 1e-50"), "layer 'conv1': eps 1e-50");
  expect(replaced("\"max\": ?[-+.e0-9]+", "\"max\": 1e39"),
         "output: \"max\" must be a finite number");
  expect(edited([](TransformerSpec& s) { s.layers.back().out = 4; }),
         "the last layer gives 4 channels, not 3");
  expect(edited([](TransformerSpec& s) { s.layers[1].stride = 4; }),
         "the strides do not cancel: the convs divide the picture by 8 and the transposed convs and "
         "upsampling multiply it by 4");
}

TEST_CASE("model files: a network whose strides do not cancel cannot paint past its output",
          "[model]") {
  // Built in code (no description to parse): one stride-2 conv, 3 -> 3.
  TransformerSpec spec;
  LayerSpec L;
  L.name = "down";
  L.in = 3;
  L.out = 3;
  L.kernel = 1;
  L.stride = 2;
  spec.layers = {L};
  const Transformer net(spec, random_params(spec, 9));
  CHECK_THROWS_WITH(net.stylize(random_pixels(6, 5, 1)),
                    Catch::Contains("does not cover the photo"));
}

TEST_CASE("model files: ml5 folders read, with the HWIO layouts", "[model][ml5]") {
  ScratchDir dir("ml5");
  const std::vector<Ml5File> files = ml5_files(2, 1);
  REQUIRE(files.size() == 24);
  const Transformer net = io::read_ml5(write_ml5(dir, files));
  CHECK(transformer_spec_json(net.spec()) == transformer_spec_json(johnson_transformer(2, 1)));
  CHECK(net.params().size() == 24);
  // conv2 (Variable_3, [3][3][2][4]) -> [4][2][3][3]: w[o][i][h][x] = v[h][x][i][o].
  const Tensor& w = net.params().at("conv2.weight");
  const std::vector<float>& v = files[3].values;
  for (int64_t o = 0; o < 4; ++o)
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t x = 0; x < 3; ++x)
          CHECK(w.at(o, i, h, x) == v[size_t(((h * 3 + x) * 2 + i) * 4 + o)]);
  // up1 (Variable_15, [3][3][out 4][in 8]) -> [in 8][out 4][3][3].
  const Tensor& u = net.params().at("up1.weight");
  REQUIRE(files[15].shape == std::vector<int64_t>{3, 3, 4, 8});
  const std::vector<float>& uv = files[15].values;
  for (int64_t i = 0; i < 8; ++i)
    for (int64_t o = 0; o < 4; ++o)
      for (int64_t h = 0; h < 3; ++h)
        for (int64_t x = 0; x < 3; ++x)
          CHECK(u.at(i, o, h, x) == uv[size_t(((h * 3 + x) * 4 + o) * 8 + i)]);
  CHECK(net.params().at("conv1.norm.shift")[1] == files[1].values[1]);
  CHECK(net.params().at("conv1.norm.scale")[0] == files[2].values[0]);
}

TEST_CASE("model files: bad ml5 folders name the file and the variable", "[model][ml5]") {
  ScratchDir dir("ml5");
  std::vector<Ml5File> files = ml5_files(2, 1);
  const std::string folder = dir.file("ml5");

  SECTION("a missing Variable file") {
    write_ml5(dir, files);
    fs::remove(folder + "/Variable_7");
    expect_ml5_error(folder, folder + "/Variable_7", "no such file");
  }
  SECTION("a truncated Variable file") {
    write_ml5(dir, files);
    fs::resize_file(folder + "/Variable_4", 12);
    expect_ml5_error(folder, folder + "/Variable_4",
                     "12 bytes, but its shape [4] needs 16 (truncated)");
  }
  SECTION("a Variable file with trailing bytes") {
    files[10].values.push_back(0.0f);  // the manifest keeps its shape
    write_ml5(dir, files);
    expect_ml5_error(folder, folder + "/Variable_10", "(trailing bytes)");
  }
  SECTION("a wrong shape in the manifest") {
    files[3].shape = {3, 3, 2, 5};
    files[3].values.resize(90);
    write_ml5(dir, files);
    expect_ml5_error(folder, folder,
                     "Variable_3 (kernel of conv2) has shape [3, 3, 2, 5], expected [3, 3, 2, 4]");
  }
  SECTION("a file name with ../ in the manifest") {
    files[5].filename = "../Variable_5";
    write_ml5(dir, files);
    expect_ml5_error(folder, folder + "/manifest.json",
                     "Variable_5: file name '../Variable_5' is not a plain name inside the folder");
  }
  SECTION("a manifest that is not JSON") {
    write_ml5(dir, files);
    write_text(folder + "/manifest.json", "Variable: [9, 9, 3, 2]\n");
    expect_ml5_error(folder, folder + "/manifest.json", "");
    CHECK_THROWS_AS(io::read_ml5(folder), Error);
  }
  SECTION("a count of variables that makes no network") {
    files.pop_back();
    write_ml5(dir, files);
    expect_ml5_error(folder, folder, "23 variables do not make a Johnson transformer");
  }
  SECTION("a file with a NaN") {
    files[8].values[2] = std::nanf("");
    write_ml5(dir, files);
    expect_ml5_error(folder, folder + "/Variable_8", "holds a NaN or infinity");
  }
}

TEST_CASE("nst fast: a corrupt model fails naming the file and writes nothing",
          "[model][fast][cli]") {
  ScratchDir dir("fast");
  const std::string model = save_tiny_model(dir);
  std::vector<uint8_t> b = read_bytes(model);
  b[io::WeightFile::open(model).info("conv_out.weight").offset] ^= 0x01;
  const std::string bad = dir.file("corrupt.nstw");
  write_bytes(bad, b);
  const std::string photo = dir.file("photo.png"), out = dir.file("out.png");
  save_image(photo, random_pixels(16, 20, 1));
  const CliRun r = run_nst({"fast", "--model", bad, "--input", photo, "--output", out});
  check_error_exit(r, bad);
  CHECK(r.err.find("conv_out.weight") != std::string::npos);
  CHECK_FALSE(fs::exists(out));
  CHECK(list_dir(dir.file("")) ==
        (std::set<std::string>{"tiny.nstw", "corrupt.nstw", "photo.png"}));
}

TEST_CASE("nst fast: a batch with a corrupt photo writes the others, reports it and exits 1",
          "[model][fast][cli]") {
  ScratchDir dir("fast");
  const std::string model = save_tiny_model(dir);
  const std::string photos = dir.file("photos"), painted = dir.file("painted");
  fs::create_directories(photos);
  save_image(photos + "/a.png", random_pixels(16, 20, 1));
  save_image(photos + "/b.jpg", random_pixels(16, 20, 2));
  save_image(photos + "/c.png", random_pixels(16, 20, 3));
  std::vector<uint8_t> jpeg = read_bytes(photos + "/b.jpg");
  REQUIRE(jpeg.size() > 100);
  jpeg.resize(20);  // SOI and part of the JFIF header
  write_bytes(photos + "/b.jpg", jpeg);

  const CliRun r =
      run_nst({"fast", "--model", model, "--input", photos, "--output-dir", painted, "--json"});
  INFO(describe(r));
  REQUIRE(r.signal == 0);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("skipped '" + photos + "/b.jpg'") != std::string::npos);
  CHECK(r.err.find("1 of 3 photos failed") != std::string::npos);
  CHECK(list_dir(painted) == (std::set<std::string>{"a.png", "c.png"}));
  CHECK(load_image(painted + "/a.png").shape() == (Shape{1, 3, 16, 20}));

  const io::Json j = io::parse_json(r.out, "stdout");
  const auto& images = j.at("images").items();
  REQUIRE(images.size() == 2);
  for (size_t k = 0; k < 2; ++k) {
    const std::string name = k == 0 ? "a" : "c";
    CHECK(images[k].at("input").as_string() == photos + "/" + name + ".png");
    CHECK(images[k].at("output").as_string() == painted + "/" + name + ".png");
    CHECK(images[k].at("width").as_number() == 20);
    CHECK(images[k].at("height").as_number() == 16);
    CHECK(images[k].at("network_seconds").as_number() >= 0.0);
    CHECK(images[k].at("total_seconds").as_number() >= images[k].at("network_seconds").as_number());
  }
  const auto& failed = j.at("failed").items();
  REQUIRE(failed.size() == 1);
  CHECK(failed[0].at("input").as_string() == photos + "/b.jpg");
  CHECK_THAT(failed[0].at("error").as_string(), Catch::Contains(photos + "/b.jpg"));
}

TEST_CASE("model files: the converted la_muse loads as read_ml5 reads it (shared data)",
          "[model][ml5][shared]") {
  NST_REQUIRE_SHARED("models/fast-style/la_muse/manifest.json");
  const std::string src = shared_dir() + "/models/fast-style/la_muse";
  ScratchDir dir("model");
  const std::string path = dir.file("la_muse.nstw");
  const io::Ml5Summary s = io::convert_ml5(src, path);
  CHECK(s.width == 32);
  CHECK(s.residual_blocks == 5);
  CHECK(s.tensors == 48);
  const Transformer net = Transformer::load(path);
  CHECK(transformer_spec_json(net.spec()) == transformer_spec_json(johnson_transformer(32, 5)));
  const Transformer direct = io::read_ml5(src);
  REQUIRE(net.params().size() == direct.params().size());
  for (const auto& [name, t] : direct.params()) {
    INFO(name);
    REQUIRE(net.params().count(name) == 1);
    CHECK(bit_identical(net.params().at(name), t));
  }
  const io::WeightFile f = io::WeightFile::open(path);
  CHECK(f.metadata().source_checksum == s.source_checksum);
  CHECK(f.metadata().source.find("la_muse") != std::string::npos);
}
