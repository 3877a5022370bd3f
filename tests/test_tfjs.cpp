// The JSON parser, the TF.js layers-model reader and the Keras -> nst layouts,
// on tiny models written here and on the real VGG-19 in ../shared.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "io/json.hpp"
#include "convert/tfjs.hpp"
#include "models/vgg19_names.hpp"
#include "io/weights.hpp"
#include "io_test_util.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using namespace nst::io;
using nst::testing::ScratchDir;

TEST_CASE("json: valid documents parse", "[tfjs][json]") {
  const Json j = parse_json(
      R"( {"a": [1, -2.5e-1, 0, true, false, null], "s": "x\"\\\/\n\u00e9\ud83d\ude00",
           "o": {"k": {}}, "e": []} )",
      "t");
  const auto& a = j.at("a").items();
  REQUIRE(a.size() == 6);
  CHECK(a[0].as_int() == 1);
  CHECK(a[1].as_number() == -0.25);
  CHECK(a[3].as_bool());
  CHECK(a[5].is_null());
  CHECK(j.at("s").as_string() == "x\"\\/\n\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(j.at("o").at("k").members().empty());
  CHECK(j.at("e").items().empty());
  CHECK(j.find("missing") == nullptr);
  CHECK_THROWS_WITH(j.at("missing"), Catch::Contains("missing key 'missing'"));
  CHECK_THROWS_WITH(a[1].as_int("shape entry"), Catch::Contains("shape entry must be a whole"));
  CHECK_THROWS_WITH(j.at("s").as_number("scale"), Catch::Contains("scale must be a number"));
}

TEST_CASE("json: malformed documents throw nst::Error naming source and offset", "[tfjs][json]") {
  const char* bad[] = {"",        "{",          "[1,]",      "{\"a\" 1}", "{\"a\":}",
                       "[1 2]",   "01",         "1.",        "-",         "1e",
                       "tru",     "nul",        "\"abc",     "\"\\q\"",   "\"\\u12\"",
                       "\"\\ud800\"", "\"\\udc00x\"", "[1]x",  "{1:2}",     "\"a\nb\"",
                       "1e999",   "[\"\\u00zz\"]"};
  for (const char* text : bad) {
    INFO("input: " << text);
    CHECK_THROWS_WITH(parse_json(text, "doc.json"),
                      Catch::Contains("json 'doc.json'") && Catch::Contains("at byte"));
  }
  // Deep nesting stops at the limit instead of overflowing the stack.
  const std::string deep(100000, '[');
  CHECK_THROWS_WITH(parse_json(deep, "deep"), Catch::Contains("nesting deeper than 64"));
  // Every proper prefix of a valid document is an error, never a crash.
  const std::string ok = R"({"w": [{"name": "k", "shape": [3, 3], "q": {"s": 1.5e-3}}]})";
  for (size_t n = 0; n < ok.size(); ++n) CHECK_THROWS_AS(parse_json(ok.substr(0, n), "p"), Error);
  CHECK_NOTHROW(parse_json(ok, "p"));
}

namespace {

// A tiny Keras-VGG-shaped TF.js model: block1_conv1 (HWIO [3][3][3][2], uint8),
// its bias, then fc1 [2*2*2][5] on a 2x2x2 map, fc2 [5][4], predictions [4][3],
// all float32 but fc1's kernel (uint8). Shards split at an odd byte.
struct TinyTfjs {
  std::vector<uint8_t> conv_q, fc1_q;
  std::vector<float> bias, fc2, pred, fc1_bias, fc2_bias, pred_bias;
};

void append(std::vector<uint8_t>& out, const void* p, size_t n) {
  const auto* b = static_cast<const uint8_t*>(p);
  out.insert(out.end(), b, b + n);
}

TinyTfjs write_tiny_tfjs(const ScratchDir& dir, const std::string& quant_dtype = "uint8") {
  TinyTfjs t;
  for (int i = 0; i < 54; ++i) t.conv_q.push_back(uint8_t(i * 7 % 256));
  for (int i = 0; i < 40; ++i) t.fc1_q.push_back(uint8_t(200 - i * 3));
  auto fill = [](std::vector<float>& v, int n, float base) {
    for (int i = 0; i < n; ++i) v.push_back(base + 0.25f * float(i));
  };
  fill(t.bias, 2, -1.0f);
  fill(t.fc1_bias, 5, 0.5f);
  fill(t.fc2, 20, -3.0f);
  fill(t.fc2_bias, 4, 1.0f);
  fill(t.pred, 12, 2.0f);
  fill(t.pred_bias, 3, -2.0f);
  std::vector<uint8_t> all;
  append(all, t.conv_q.data(), t.conv_q.size());
  append(all, t.bias.data(), t.bias.size() * 4);
  append(all, t.fc1_q.data(), t.fc1_q.size());
  for (const auto* v : {&t.fc1_bias, &t.fc2, &t.fc2_bias, &t.pred, &t.pred_bias})
    append(all, v->data(), v->size() * 4);
  nst::testing::write_bytes(dir.file("group1-shard1of2.bin"), {all.begin(), all.begin() + 101});
  nst::testing::write_bytes(dir.file("group1-shard2of2.bin"), {all.begin() + 101, all.end()});
  std::ofstream(dir.file("model.json"))
      << R"({"format": "layers-model", "modelTopology": {}, "weightsManifest": [{
        "paths": ["group1-shard1of2.bin", "group1-shard2of2.bin"], "weights": [
        {"name": "block1_conv1/kernel", "shape": [3, 3, 3, 2], "dtype": "float32",
         "quantization": {"dtype": ")"
      << quant_dtype << R"(", "scale": 0.01, "min": -0.6}},
        {"name": "block1_conv1/bias", "shape": [2], "dtype": "float32"},
        {"name": "fc1/kernel", "shape": [8, 5], "dtype": "float32",
         "quantization": {"dtype": "uint8", "scale": 0.5, "min": -50}},
        {"name": "fc1/bias", "shape": [5], "dtype": "float32"},
        {"name": "fc2/kernel", "shape": [5, 4], "dtype": "float32"},
        {"name": "fc2/bias", "shape": [4], "dtype": "float32"},
        {"name": "predictions/kernel", "shape": [4, 3], "dtype": "float32"},
        {"name": "predictions/bias", "shape": [3], "dtype": "float32"}]}]})";
  return t;
}

}  // namespace

TEST_CASE("tfjs: tiny model reads and converts to OIHW / [out][in] / C,H,W", "[tfjs]") {
  ScratchDir dir("tfjs");
  const TinyTfjs t = write_tiny_tfjs(dir);
  const TfjsModel m = read_tfjs(dir.file(""));
  REQUIRE(m.weights.size() == 8);
  CHECK(m.format == "layers-model");
  CHECK(m.weights[0].dtype == DType::UInt8);
  CHECK(m.weights[0].bytes == t.conv_q);
  CHECK(m.weights_sha256.size() == 64);

  const std::vector<WeightEntry> v = vgg19_from_tfjs(m);
  REQUIRE(v.size() == 8);
  CHECK(v[0].name == "conv1_1.weight");
  CHECK(v[0].shape == Shape{2, 3, 3, 3});
  CHECK(v[0].scale == 0.01);
  for (int o = 0; o < 2; ++o)  // ours[o][i][h][w] = keras[h][w][i][o]
    for (int i = 0; i < 3; ++i)
      for (int h = 0; h < 3; ++h)
        for (int w = 0; w < 3; ++w)
          CHECK(v[0].bytes[size_t(((o * 3 + i) * 3 + h) * 3 + w)] ==
                t.conv_q[size_t(((h * 3 + w) * 3 + i) * 2 + o)]);
  CHECK(v[2].name == "fc6.weight");
  CHECK(v[2].shape == Shape{5, 8});
  for (int o = 0; o < 5; ++o)  // ours[o][c*4 + h*2 + w] = keras[(h*2 + w)*2 + c][o]
    for (int c = 0; c < 2; ++c)
      for (int h = 0; h < 2; ++h)
        for (int w = 0; w < 2; ++w)
          CHECK(v[2].bytes[size_t(o * 8 + c * 4 + h * 2 + w)] ==
                t.fc1_q[size_t(((h * 2 + w) * 2 + c) * 5 + o)]);
  CHECK(v[4].name == "fc7.weight");
  CHECK(v[6].name == "fc8.weight");
  CHECK(v[6].shape == Shape{3, 4});
  float got;
  std::memcpy(&got, v[6].bytes.data() + 4 * (2 * 4 + 1), 4);  // ours[2][1] = keras[1][2]
  CHECK(got == t.pred[1 * 3 + 2]);
  CHECK(v[7].name == "fc8.bias");
}

TEST_CASE("tfjs: bad models give errors naming the file and weight", "[tfjs]") {
  ScratchDir dir("tfjs");
  write_tiny_tfjs(dir, "uint16");
  CHECK_THROWS_WITH(read_tfjs(dir.file("model.json")),
                    Catch::Contains("block1_conv1/kernel") &&
                        Catch::Contains("quantization dtype 'uint16' is not supported"));
  write_tiny_tfjs(dir);
  auto shard = nst::testing::read_bytes(dir.file("group1-shard2of2.bin"));
  shard.pop_back();
  nst::testing::write_bytes(dir.file("group1-shard2of2.bin"), shard);
  CHECK_THROWS_WITH(read_tfjs(dir.file("")), Catch::Contains("missing or truncated shard"));
  shard.push_back(0);
  shard.push_back(0);
  nst::testing::write_bytes(dir.file("group1-shard2of2.bin"), shard);
  CHECK_THROWS_WITH(read_tfjs(dir.file("")), Catch::Contains("shards hold more"));
  std::filesystem::remove(dir.file("group1-shard2of2.bin"));
  CHECK_THROWS_WITH(read_tfjs(dir.file("")), Catch::Contains("group1-shard2of2.bin"));
  std::ofstream(dir.file("model.json")) << R"({"weightsManifest": [{"paths": ["../x"],)";
  CHECK_THROWS_WITH(read_tfjs(dir.file("")), Catch::Contains("model.json"));
  std::ofstream(dir.file("model.json")) << R"({"weightsManifest": [{"paths": ["../x"],
      "weights": []}]})";
  CHECK_THROWS_WITH(read_tfjs(dir.file("")), Catch::Contains("suspicious shard path"));
  std::ofstream(dir.file("model.json")) << R"({"weightsManifest": [{"paths": [],
      "weights": [{"name": "w", "shape": [2], "dtype": "int32"}]}]})";
  CHECK_THROWS_WITH(read_tfjs(dir.file("")), Catch::Contains("weight w: dtype 'int32'"));
  std::ofstream(dir.file("model.json")) << R"({"weightsManifest": [{"paths": [],
      "weights": [{"name": "w", "shape": [0], "dtype": "float32"}]}]})";
  CHECK_THROWS_WITH(read_tfjs(dir.file("")), Catch::Contains("dimension 0 out of range"));
  CHECK_THROWS_WITH(read_tfjs(dir.file("nothing-here")), Catch::Contains("cannot read"));
}

// The real release: converted once through the CLI, then checked against the
// manifest's formula on sampled entries. ~2 s.
TEST_CASE("tfjs: the shared VGG-19 converts with the right layouts and values", "[tfjs][shared]") {
  NST_REQUIRE_SHARED("weights/vgg19-imagenet-uint8/model.json");
  const std::string src = nst::testing::shared_dir() + "/weights/vgg19-imagenet-uint8";
  ScratchDir dir("tfjs");
  const std::string out = dir.file("vgg19.nstw");
  const std::string cmd = std::string(NST_BINARY_PATH) + " convert --from tfjs --input '" + src +
                          "' --output '" + out + "' > /dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);

  const WeightFile f = WeightFile::open(out);
  CHECK(f.names().size() == 38);
  CHECK_NOTHROW(check_vgg19(f, true));
  CHECK(f.metadata().input.order == ChannelOrder::BGR);
  CHECK(f.metadata().input.pixel_range == 255.0f);
  CHECK(f.metadata().source_checksum.rfind("sha256:", 0) == 0);
  CHECK(f.info("conv5_4.weight").dtype == DType::UInt8);

  // model.json's scale/min and shard 1's first bytes (conv1_1's HWIO kernel).
  const Json doc = parse_json(
      [&] {
        std::ifstream is(src + "/model.json");
        return std::string(std::istreambuf_iterator<char>(is), {});
      }(),
      "model.json");
  const Json& q = doc.at("weightsManifest").items()[0].at("weights").items()[0].at("quantization");
  const double scale = q.at("scale").as_number(), min = q.at("min").as_number();
  const std::vector<uint8_t> shard1 = nst::testing::read_bytes(src + "/group1-shard1of138.bin");
  REQUIRE(shard1.size() >= 1728);
  const Tensor w = f.tensor("conv1_1.weight");
  CHECK(w.shape() == Shape{64, 3, 3, 3});
  for (int s = 0; s < 40; ++s) {
    const int o = (s * 37) % 64, i = s % 3, h = (s / 3) % 3, x = (s * 5) % 3;
    const uint8_t qv = shard1[size_t(((h * 3 + x) * 3 + i) * 64 + o)];
    CHECK(w[((o * 3 + i) * 3 + h) * 3 + x] == float(double(qv) * scale + min));
  }
  // fc6: Keras fc1 [25088][4096] with input (h, w, c) -> ours [4096][25088] with (c, h, w).
  // fc1's bytes follow the 20,024,384 bytes of the convolutions in the shard stream.
  std::vector<uint64_t> shard_start{0};
  for (int k = 1; k <= 138; ++k)
    shard_start.push_back(shard_start.back() +
                          std::filesystem::file_size(src + "/group1-shard" + std::to_string(k) +
                                                     "of138.bin"));
  auto stream_byte = [&](uint64_t at) {
    const auto k = size_t(std::upper_bound(shard_start.begin(), shard_start.end(), at) -
                          shard_start.begin());
    std::ifstream is(src + "/group1-shard" + std::to_string(k) + "of138.bin", std::ios::binary);
    is.seekg(std::streamoff(at - shard_start[k - 1]));
    return uint8_t(is.get());
  };
  REQUIRE(f.info("fc6.weight").dtype == DType::UInt8);
  const uint8_t* fc6 = f.raw("fc6.weight");
  for (int s = 0; s < 20; ++s) {
    const int64_t o = (s * 977) % 4096, c = (s * 131) % 512, h = s % 7, x = (s * 3) % 7;
    const uint64_t keras = 20024384 + uint64_t(((h * 7 + x) * 512 + c) * 4096 + o);
    CHECK(fc6[o * 25088 + c * 49 + h * 7 + x] == stream_byte(keras));
  }

  const Vgg19Weights conv_only = load_vgg19(out);
  CHECK(conv_only.conv.size() == 16);
  CHECK(conv_only.fc.empty());
  CHECK(conv_only.layer("conv4_2").bias.shape() == Shape{512});
}

TEST_CASE("json: random byte changes give a document or nst::Error, never a crash", "[tfjs][json]") {
  const std::string ok =
      R"({"weightsManifest": [{"paths": ["a.bin"], "weights": [{"name": "k\u00e9",
          "shape": [3, 3, 1, 2], "dtype": "float32", "quantization": {"dtype": "uint8",
          "scale": 0.0047, "min": -0.65}}]}], "x": [true, false, null, -1.5e-3]})";
  std::mt19937 rng(5);
  int errors = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::string s = ok;
    for (int k = 0; k < 1 + int(rng() % 3); ++k) s[rng() % s.size()] = char(rng() % 256);
    try {
      parse_json(s, "fuzz");
    } catch (const Error&) {
      ++errors;
    }
  }
  CHECK(errors > 1000);  // most changes break the document
}

TEST_CASE("nst convert: bad options fail with a message and a non-zero status", "[tfjs][cli]") {
  ScratchDir dir("cli");
  const std::string nst = NST_BINARY_PATH, log = dir.file("log.txt");
  auto run = [&](const std::string& args) {
    const int status = std::system((nst + " convert " + args + " > '" + log + "' 2>&1").c_str());
    std::ifstream is(log);
    return std::make_pair(status, std::string(std::istreambuf_iterator<char>(is), {}));
  };
  auto [s1, m1] = run("--from onnx --input x --output y");
  CHECK(s1 != 0);
  CHECK_THAT(m1, Catch::Contains("--from must be tfjs, pth or ml5"));
  auto [s2, m2] = run("--from tfjs --input '" + dir.file("none") + "' --output '" +
                      dir.file("o.nstw") + "'");
  CHECK(s2 != 0);
  CHECK_THAT(m2, Catch::Contains("cannot read"));
  auto [s3, m3] = run("--from pth --input '" + nst::testing::fixture("tiny_vgg.pth") +
                      "' --output '" + dir.file("o.nstw") + "' --convention caffe");
  CHECK(s3 != 0);
  CHECK_THAT(m3, Catch::Contains("tensor conv1_1.weight has shape [2, 3, 3, 3]"));
  CHECK_FALSE(std::filesystem::exists(dir.file("o.nstw")));
  auto [s4, m4] = run("--help");
  CHECK(s4 == 0);
  CHECK_THAT(m4, Catch::Contains("--dtype"));
}
