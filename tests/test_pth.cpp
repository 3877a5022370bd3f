// The .pth reader (zip + pickle, and the legacy format) on tiny checkpoints made
// by tests/data/make_pth_fixtures.py, and the VGG-19 mapping and conversion.
#include <cstring>
#include <random>

#include "convert/convert.hpp"
#include "convert/pth.hpp"
#include "models/vgg19_names.hpp"
#include "io/weights.hpp"
#include "io_test_util.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using namespace nst::io;
using nst::testing::fixture;
using nst::testing::ScratchDir;

namespace {

float element(const WeightEntry& e, int64_t i) {
  float v;
  std::memcpy(&v, e.bytes.data() + 4 * i, 4);
  return v;
}

// The fixture script fills tensor k with arange(n) * 0.001 + k in float32.
void check_values(const WeightEntry& e, double k) {
  INFO("tensor " << e.name);
  for (int64_t i = 0; i < e.shape.numel(); ++i)
    CHECK(std::abs(element(e, i) - (double(i) * 0.001 + k)) < 1e-5);
}

const int kConvIndex[16] = {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34};

}  // namespace

TEST_CASE("pth: a torchvision-style state_dict reads in order with its values", "[pth]") {
  for (const char* file : {"tiny_vgg.pth", "tiny_vgg_legacy.pth"}) {
    INFO(file);
    const PthStateDict d = read_pth(fixture(file));
    REQUIRE(d.tensors.size() == 38);
    CHECK(d.sha256.size() == 64);
    for (int k = 0; k < 16; ++k) {
      const WeightEntry& w = d.tensors[size_t(2 * k)];
      CHECK(w.name == "features." + std::to_string(kConvIndex[k]) + ".weight");
      CHECK(w.shape.rank() == 4);
      check_values(w, k);
      check_values(d.tensors[size_t(2 * k + 1)], k + 0.5);
    }
    CHECK(d.tensors[0].shape == Shape{2, 3, 3, 3});
    CHECK(d.tensors[32].name == "classifier.0.weight");
    CHECK(d.tensors[32].shape == Shape{6, 20});
    check_values(d.tensors[37], 18.5);
  }
}

TEST_CASE("pth: strided views, storage offsets and shared storages", "[pth]") {
  const PthStateDict d = read_pth(fixture("odd_tensors.pth"));
  REQUIRE(d.tensors.size() == 4);
  const WeightEntry& t = d.tensors[0];  // base.t(): [4][3], t[i][j] = base[j][i]
  CHECK(t.name == "transposed");
  CHECK(t.shape == Shape{4, 3});
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 3; ++j)
      CHECK(std::abs(element(t, i * 3 + j) - (double(j * 4 + i) * 0.001 + 1)) < 1e-6);
  const WeightEntry& v = d.tensors[1];  // base[1]
  CHECK(v.shape == Shape{4});
  for (int i = 0; i < 4; ++i) CHECK(std::abs(element(v, i) - (double(4 + i) * 0.001 + 1)) < 1e-6);
  check_values(d.tensors[2], 2);
  check_values(d.tensors[3], 1);
}

TEST_CASE("pth: files that are not float32 state_dicts are rejected clearly", "[pth]") {
  CHECK_THROWS_WITH(read_pth(fixture("not_state_dict.pth")),
                    Catch::Contains("entry 'model' holds a dict, not a tensor"));
  CHECK_THROWS_WITH(read_pth(fixture("half.pth")),
                    Catch::Contains("tensor w: dtype torch.HalfStorage is not supported"));
  CHECK_THROWS_WITH(read_pth(fixture("evil.pth")),
                    Catch::Contains("refers to 'posix.system'"));
  CHECK_THROWS_WITH(read_pth(fixture("nope.pth")), Catch::Contains("cannot open"));
  CHECK_THROWS_WITH(read_pth(fixture("make_pth_fixtures.py")),
                    Catch::Contains("neither a zip nor a legacy torch.save file"));
}

TEST_CASE("pth: truncated and corrupted checkpoints give nst::Error, never a crash", "[pth]") {
  ScratchDir dir("pth");
  const std::string bad = dir.file("bad.pth");
  for (const char* file : {"tiny_vgg.pth", "tiny_vgg_legacy.pth"}) {
    INFO(file);
    const std::vector<uint8_t> good = nst::testing::read_bytes(fixture(file));
    for (size_t cut = 0; cut < good.size(); cut += 97) {
      nst::testing::write_bytes(bad, {good.begin(), good.begin() + int64_t(cut)});
      CHECK_THROWS_AS(read_pth(bad), Error);
    }
    // Random byte changes: either an error or a successful read (the legacy
    // format has no checksum over tensor data), never a crash.
    std::mt19937 rng(11);
    for (int trial = 0; trial < 300; ++trial) {
      auto b = good;
      b[rng() % b.size()] ^= uint8_t(1 + rng() % 255);
      nst::testing::write_bytes(bad, b);
      try {
        read_pth(bad);
      } catch (const Error&) {
      }
    }
  }
  // In a zip, every entry is covered by its CRC-32.
  auto zip = nst::testing::read_bytes(fixture("tiny_vgg.pth"));
  const std::string pkl = "tiny_vgg/data.pkl";
  const auto at = std::search(zip.begin(), zip.end(), pkl.begin(), pkl.end());
  REQUIRE(at != zip.end());
  zip[size_t(at - zip.begin()) + pkl.size() + 200] ^= 1;  // inside data.pkl
  nst::testing::write_bytes(bad, zip);
  CHECK_THROWS_WITH(read_pth(bad), Catch::Contains("CRC-32 mismatch"));
}

TEST_CASE("pth: VGG mapping and conversion of a tiny torchvision-layout net", "[pth]") {
  const PthStateDict d = read_pth(fixture("tiny_vgg.pth"));
  const std::vector<WeightEntry> v = vgg19_from_pth(d);
  REQUIRE(v.size() == 38);
  CHECK(v[0].name == "conv1_1.weight");
  CHECK(v[9].name == "conv3_1.bias");
  CHECK(v[31].name == "conv5_4.bias");
  CHECK(v[32].name == "fc6.weight");
  CHECK(v[37].name == "fc8.bias");
  CHECK(v[32].bytes == d.tensors[32].bytes);  // torchvision layouts are ours already

  PthStateDict conv_only = d;
  conv_only.tensors.resize(32);
  CHECK(vgg19_from_pth(conv_only).size() == 32);
  PthStateDict missing = d;
  missing.tensors.erase(missing.tensors.begin(), missing.tensors.begin() + 2);
  CHECK_THROWS_WITH(vgg19_from_pth(missing), Catch::Contains("found 15 conv and 3 fc layers"));

  ScratchDir dir("pth");
  ConvertOptions o;
  o.from = SourceFormat::Pth;
  o.input = fixture("tiny_vgg.pth");
  o.output = dir.file("tiny.nstw");
  CHECK_THROWS_WITH(convert_vgg19(o), Catch::Contains("pass --convention"));
  o.convention = torchvision_convention();
  CHECK_THROWS_WITH(convert_vgg19(o), Catch::Contains("tensor conv1_1.weight has shape [2, 3, 3, 3]") &&
                                          Catch::Contains("expects [64, 3, 3, 3]"));
  o.check_vgg19_shapes = false;
  const ConvertSummary s = convert_vgg19(o);
  CHECK(s.tensors == 38);
  CHECK(s.has_classifier);
  CHECK(s.source_checksum == "sha256:" + d.sha256);
  const WeightFile f = WeightFile::open(o.output);
  CHECK(f.metadata().input.order == ChannelOrder::RGB);
  CHECK(f.metadata().input.std[2] == 0.225f);
  CHECK(f.info("fc7.weight").dtype == DType::Float32);
  CHECK_THROWS_WITH(load_vgg19(o.output),
                    Catch::Contains("tensor conv1_1.weight: shape [2, 3, 3, 3] but VGG-19 expects"));

  o.dtype = DType::UInt8;
  convert_vgg19(o);
  CHECK(WeightFile::open(o.output).info("conv2_1.weight").dtype == DType::UInt8);

  // torch hub names carry the first 8 hex digits of the file's SHA-256.
  CHECK(convention_from_pth_name("/x/vgg19-d01eb7cb.pth")->order == ChannelOrder::BGR);
  CHECK(convention_from_pth_name("vgg19-dcbb9e9d.pth")->pixel_range == 1.0f);
  CHECK_FALSE(convention_from_pth_name("model.pth").has_value());
  o.input = dir.file("vgg19-d01eb7cb.pth");
  std::filesystem::copy_file(fixture("tiny_vgg.pth"), o.input);
  CHECK_THROWS_WITH(convert_vgg19(o), Catch::Contains("its name says SHA-256 d01eb7cb"));
}
