// The .nstw format: round trip, checksums, and every kind of corruption.
#include <cstring>
#include <random>

#include "io/checksum.hpp"
#include "models/vgg19_names.hpp"
#include "io/weights.hpp"
#include "io_test_util.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using namespace nst::io;
using nst::testing::ScratchDir;

namespace {

WeightMetadata test_metadata() {
  return {caffe_convention(), "unit test", "sha256:0123", ""};
}

// float32 [3][5][1][7] "a.weight", uint8 [13] "b.bias", float32 [9] "c".
std::vector<WeightEntry> test_entries() {
  std::vector<WeightEntry> e;
  e.push_back(make_float_entry("a.weight", nst::testing::random_tensor({3, 5, 1, 7}, 1)));
  std::vector<uint8_t> q(13);
  for (size_t i = 0; i < q.size(); ++i) q[i] = uint8_t(i * 19 + 3);
  e.push_back(make_uint8_entry("b.bias", Shape{13}, q.data(), 0.0123, -0.5));
  e.push_back(make_float_entry("c", nst::testing::random_tensor({9}, 2)));
  return e;
}

std::string write_test_file(const ScratchDir& dir) {
  const std::string path = dir.file("t.nstw");
  write_weight_file(path, test_metadata(), test_entries());
  return path;
}

template <class T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}
template <class T>
T get(const std::vector<uint8_t>& b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}

// Recomputes the index and header checksums after a deliberate edit, so the
// reader's later checks (bounds, shapes) are the ones exercised.
void reseal(std::vector<uint8_t>& b) {
  const uint64_t index_size = get<uint64_t>(b, 32);
  put<uint64_t>(b, 48, fnv1a64(b.data() + 64, index_size));
  put<uint64_t>(b, 56, fnv1a64(b.data(), 56));
}

// Byte position (in the file) of the record field just after tensor `name`'s dims.
size_t record_tail(const std::vector<uint8_t>& b, const std::string& name, int rank) {
  const auto it = std::search(b.begin(), b.end(), name.begin(), name.end());
  REQUIRE(it != b.end());
  return size_t(it - b.begin()) + name.size() + 4 + 8 * size_t(rank);  // -> scale
}

void expect_error(const std::string& path, const std::string& message) {
  INFO("expect: " << message);
  CHECK_THROWS_WITH(WeightFile::open(path), Catch::Contains(message) && Catch::Contains(path));
}

}  // namespace

TEST_CASE("checksums match their published check values", "[weights]") {
  const char* digits = "123456789";
  CHECK(fnv1a64(digits, 9) == 0x06d5573923c6cdfcULL);
  CHECK(crc32(digits, 9) == 0xCBF43926u);
  Sha256 a;
  a.update("abc", 3);
  CHECK(a.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 b;  // two blocks, fed in uneven pieces
  const std::string msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  b.update(msg.data(), 5);
  b.update(msg.data() + 5, msg.size() - 5);
  CHECK(b.hex_digest() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("weight file round trip keeps names, shapes, values and metadata", "[weights]") {
  ScratchDir dir("nstw");
  const std::vector<WeightEntry> entries = test_entries();
  const std::string path = write_test_file(dir);
  const WeightFile f = WeightFile::open(path);
  CHECK(f.names() == std::vector<std::string>{"a.weight", "b.bias", "c"});
  const WeightMetadata& m = f.metadata();
  CHECK(m.input.order == ChannelOrder::BGR);
  CHECK(m.input.pixel_range == 255.0f);
  CHECK(m.input.mean[2] == 123.68f);
  CHECK(m.input.std[0] == 1.0f);
  CHECK(m.source == "unit test");
  CHECK(m.source_checksum == "sha256:0123");

  const Tensor a = f.tensor("a.weight");
  CHECK(a.shape() == Shape{3, 5, 1, 7});
  CHECK(std::memcmp(a.data(), entries[0].bytes.data(), entries[0].bytes.size()) == 0);
  const TensorInfo& bi = f.info("b.bias");
  CHECK(bi.dtype == DType::UInt8);
  CHECK(bi.scale == 0.0123);
  CHECK(bi.min == -0.5);
  const Tensor b = f.tensor("b.bias");
  for (int i = 0; i < 13; ++i) CHECK(b[i] == float(double(uint8_t(i * 19 + 3)) * 0.0123 - 0.5));
  for (const std::string& n : f.names())
    CHECK(reinterpret_cast<uintptr_t>(f.raw(n)) % 64 == 0);
  CHECK_THROWS_WITH(f.info("nope"), Catch::Contains("no tensor named 'nope'"));

  // Quantise / dequantise helpers: error at most half a step.
  const WeightEntry q = quantize_entry(entries[0]);
  const WeightEntry d = dequantize_entry(q);
  for (size_t i = 0; i < entries[0].bytes.size() / 4; ++i) {
    float want, got;
    std::memcpy(&want, entries[0].bytes.data() + 4 * i, 4);
    std::memcpy(&got, d.bytes.data() + 4 * i, 4);
    CHECK(std::abs(got - want) <= q.scale * 0.5 + 1e-6);
  }
}

TEST_CASE("the writer rejects invalid entries", "[weights]") {
  ScratchDir dir("nstw");
  auto entries = test_entries();
  entries.push_back(entries[0]);
  CHECK_THROWS_WITH(write_weight_file(dir.file("x.nstw"), test_metadata(), entries),
                    Catch::Contains("a.weight appears twice"));
  entries = test_entries();
  entries[1].bytes.pop_back();
  CHECK_THROWS_WITH(write_weight_file(dir.file("x.nstw"), test_metadata(), entries),
                    Catch::Contains("b.bias") && Catch::Contains("needs 13"));
  entries = test_entries();
  entries[2].name = "has space";
  CHECK_THROWS_WITH(write_weight_file(dir.file("x.nstw"), test_metadata(), entries),
                    Catch::Contains("printable ASCII"));
  CHECK_FALSE(std::filesystem::exists(dir.file("x.nstw")));
}

TEST_CASE("truncated, extended and wrongly identified files give clear errors", "[weights]") {
  ScratchDir dir("nstw");
  const std::string path = write_test_file(dir);
  const std::vector<uint8_t> good = nst::testing::read_bytes(path);
  const std::string bad = dir.file("bad.nstw");

  expect_error(dir.file("missing.nstw"), "cannot open");
  for (size_t cut : {size_t(0), size_t(7), size_t(63)}) {
    nst::testing::write_bytes(bad, {good.begin(), good.begin() + int64_t(cut)});
    expect_error(bad, "shorter than the 64-byte header");
  }
  for (size_t cut : {size_t(64), size_t(100), good.size() / 2, good.size() - 1}) {
    nst::testing::write_bytes(bad, {good.begin(), good.begin() + int64_t(cut)});
    expect_error(bad, "(truncated)");
  }
  auto longer = good;
  longer.push_back(0);
  nst::testing::write_bytes(bad, longer);
  expect_error(bad, "trailing bytes");

  auto magic = good;
  magic[0] = 'X';
  nst::testing::write_bytes(bad, magic);
  expect_error(bad, "bad magic");

  auto version = good;
  put<uint32_t>(version, 8, 3);
  reseal(version);
  nst::testing::write_bytes(bad, version);
  expect_error(bad, "unsupported format version 3");

  // A version-1 index read as version 2 (the network text it lacks): rejected.
  auto relabelled = good;
  put<uint32_t>(relabelled, 8, 2);
  reseal(relabelled);
  nst::testing::write_bytes(bad, relabelled);
  CHECK_THROWS_WITH(nst::io::WeightFile::open(bad), Catch::Contains("weights '" + bad + "'"));
}

TEST_CASE("flipped bytes in header, index and data are detected", "[weights]") {
  ScratchDir dir("nstw");
  const std::string path = write_test_file(dir);
  const std::vector<uint8_t> good = nst::testing::read_bytes(path);
  const std::string bad = dir.file("bad.nstw");
  auto flip = [&](size_t at, const std::string& message) {
    auto b = good;
    b[at] ^= 0x10;
    nst::testing::write_bytes(bad, b);
    INFO("flipped byte " << at);
    expect_error(bad, message);
  };
  flip(12, "header checksum mismatch");           // tensor count
  flip(40, "header checksum mismatch");           // data offset
  flip(64, "index checksum mismatch");            // channel order
  flip(record_tail(good, "c", 1), "index checksum mismatch");  // c's scale
  const WeightFile f = WeightFile::open(path);
  flip(f.info("b.bias").offset + 5, "tensor b.bias: checksum mismatch (data corrupted)");
  flip(f.info("a.weight").offset + f.info("a.weight").size - 1,
       "tensor a.weight: checksum mismatch (data corrupted)");

  // Every single-byte flip anywhere, and every truncation, is an nst::Error.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    auto b = good;
    b[rng() % b.size()] ^= uint8_t(1 + rng() % 255);
    nst::testing::write_bytes(bad, b);
    CHECK_THROWS_AS(WeightFile::open(bad), Error);
  }
  for (size_t cut = 0; cut < good.size(); cut += 13) {
    nst::testing::write_bytes(bad, {good.begin(), good.begin() + int64_t(cut)});
    CHECK_THROWS_AS(WeightFile::open(bad), Error);
  }
}

TEST_CASE("absurd offsets, sizes and fields in a well-sealed index are rejected", "[weights]") {
  ScratchDir dir("nstw");
  const std::string path = write_test_file(dir);
  const std::vector<uint8_t> good = nst::testing::read_bytes(path);
  const std::string bad = dir.file("bad.nstw");
  const size_t c_tail = record_tail(good, "c", 1);  // scale, min, offset, size, checksum
  auto edit = [&](auto apply, const std::string& message) {
    auto b = good;
    apply(b);
    reseal(b);
    nst::testing::write_bytes(bad, b);
    expect_error(bad, message);
  };
  edit([&](auto& b) { put<uint64_t>(b, c_tail + 16, uint64_t(1) << 60); },
       "tensor c: data [1152921504606846976");
  edit([&](auto& b) { put<uint64_t>(b, c_tail + 16, get<uint64_t>(b, c_tail + 16) + 8); },
       "tensor c: offset");
  edit([&](auto& b) { put<uint64_t>(b, c_tail + 24, 40); }, "tensor c: size 40 bytes");
  edit([&](auto& b) { put<uint64_t>(b, c_tail - 8, uint64_t(1) << 50); }, "tensor c: dimension");
  edit([&](auto& b) { put<double>(b, c_tail, 2.0); }, "tensor c: float32 tensor with scale");
  edit([&](auto& b) { put<uint8_t>(b, c_tail - 12, 7); }, "tensor c: unknown dtype code 7");
  edit([&](auto& b) { put<float>(b, 64 + 4, 3.0f); }, "pixel range 3");
  edit([&](auto& b) { put<uint64_t>(b, 16, get<uint64_t>(b, 16) + 64); }, "(truncated)");
  edit([&](auto& b) { put<uint32_t>(b, 12, 4); }, "index truncated while reading tensor name");
  edit([&](auto& b) { put<uint32_t>(b, 12, 2); }, "unexpected trailing bytes");
  // Tensor a's data overlapping tensor b's (out of order).
  edit(
      [&](auto& b) {
        const size_t a_tail = record_tail(good, "a.weight", 4);
        put<uint64_t>(b, c_tail + 16, get<uint64_t>(b, a_tail + 16));
      },
      "tensor c: data");
}

TEST_CASE("load_vgg19 checks the VGG-19 names and shapes", "[weights][vgg19]") {
  ScratchDir dir("nstw");
  // Real VGG-19 conv shapes as uint8 (20 MB); conv3_2's weight has a wrong shape.
  std::vector<WeightEntry> entries;
  for (const Vgg19Layer& l : vgg19_layers()) {
    if (!l.is_conv) continue;
    for (const Shape& s : {l.weight_shape(), l.bias_shape()}) {
      const bool is_weight = s.rank() == 4;
      std::vector<uint8_t> q(size_t(s.numel()), uint8_t(l.out % 251));
      entries.push_back(make_uint8_entry(l.name + (is_weight ? ".weight" : ".bias"), s,
                                         q.data(), 0.5, -1.0));
    }
  }
  const std::string good = dir.file("vgg.nstw");
  write_weight_file(good, test_metadata(), entries);
  const Vgg19Weights w = load_vgg19(good);
  REQUIRE(w.conv.size() == 16);
  CHECK(w.fc.empty());
  CHECK(w.conv[4].name == "conv3_1");
  CHECK(w.layer("conv3_1").weight.shape() == Shape{256, 128, 3, 3});
  CHECK(w.layer("conv3_1").weight[17] == float(256 % 251 * 0.5 - 1.0));
  CHECK(w.input.order == ChannelOrder::BGR);
  CHECK_THROWS_WITH(w.layer("fc6"), Catch::Contains("classifier not loaded"));
  CHECK_THROWS_WITH(load_vgg19(good, true),
                    Catch::Contains("tensor fc6.weight: missing") && Catch::Contains(good));

  for (WeightEntry& e : entries)
    if (e.name == "conv3_2.weight") e.shape = Shape{256, 128, 6, 3};
  const std::string wrong = dir.file("wrong.nstw");
  write_weight_file(wrong, test_metadata(), entries);
  CHECK_THROWS_WITH(load_vgg19(wrong), Catch::Contains("tensor conv3_2.weight: shape [256, 128, 6, 3]") &&
                                           Catch::Contains("expects [256, 256, 3, 3]"));
}
