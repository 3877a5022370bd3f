#include "testing.hpp"

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include <stb_image_write.h>

#include "io/file_util.hpp"
#include "io/image.hpp"
#include "tensor/check.hpp"

using namespace nst;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("nst_test_image_" + std::to_string(::getpid()));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// A BMP header that claims width x height pixels, with no pixel data behind it.
std::string lying_bmp(int32_t width, int32_t height) {
  std::string b(54, '\0');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + size_t(i)] = char((v >> (8 * i)) & 0xff);
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, 54);
  put32(10, 54);
  put32(14, 40);
  put32(18, uint32_t(width));
  put32(22, uint32_t(height));
  b[26] = 1;   // planes
  b[28] = 24;  // bits per pixel
  return b;
}

}  // namespace

TEST_CASE("image: PNG round trip is exact, JPEG close", "[image]") {
  TempDir dir;
  Tensor img = testing::random_tensor({1, 3, 7, 9}, 1, 0.0f, 255.0f);
  for (int64_t i = 0; i < img.numel(); ++i) img[i] = std::round(img[i]);
  save_image(dir.file("a.png"), img);
  Tensor back = load_image(dir.file("a.png"));
  testing::check_close(back, img, 0.0, 0.0);
  Tensor flat = Tensor::full({1, 3, 16, 16}, 100.0f);
  save_image(dir.file("b.jpg"), flat);
  testing::check_close(load_image(dir.file("b.jpg")), flat, 0.0, 2.0);
  // Nothing but the two outputs is left behind (no temporary files).
  int files = 0;
  for (auto& e : fs::directory_iterator(dir.path)) files += e.is_regular_file();
  CHECK(files == 2);
}

TEST_CASE("image: grey and RGBA inputs become RGB", "[image]") {
  TempDir dir;
  const unsigned char grey[6] = {0, 50, 100, 150, 200, 250};
  REQUIRE(stbi_write_png(dir.file("g.png").c_str(), 3, 2, 1, grey, 3));
  Tensor g = load_image(dir.file("g.png"));
  REQUIRE(g.shape() == Shape({1, 3, 2, 3}));
  for (int c = 0; c < 3; ++c) CHECK(g[c * 6 + 4] == 200.0f);
  const unsigned char rgba[8] = {10, 20, 30, 0, 40, 50, 60, 255};
  REQUIRE(stbi_write_png(dir.file("a.png").c_str(), 2, 1, 4, rgba, 8));
  Tensor a = load_image(dir.file("a.png"));
  REQUIRE(a.shape() == Shape({1, 3, 1, 2}));
  CHECK(a[0] == 10.0f);
  CHECK(a[2 + 1] == 50.0f);
  CHECK(a[4 + 1] == 60.0f);
}

TEST_CASE("image: bad files give clear errors", "[image]") {
  TempDir dir;
  CHECK_THROWS_WITH(load_image(dir.file("missing.png")), Catch::Contains("no such file"));
  write_bytes(dir.file("empty.png"), "");
  CHECK_THROWS_WITH(load_image(dir.file("empty.png")), Catch::Contains("empty"));
  write_bytes(dir.file("text.jpg"), "this is not an image at all");
  CHECK_THROWS_WITH(load_image(dir.file("text.jpg")), Catch::Contains("not a readable image"));
  CHECK_THROWS_WITH(load_image(dir.path.string()), Catch::Contains("folder"));
  write_bytes(dir.file("huge.bmp"), lying_bmp(100000, 100000));
  CHECK_THROWS_WITH(load_image(dir.file("huge.bmp")), Catch::Contains("beyond the limit"));
  // A real PNG cut in half.
  save_image(dir.file("full.png"), testing::random_tensor({1, 3, 32, 32}, 2, 0, 255));
  std::string bytes = read_file(dir.file("full.png"));
  write_bytes(dir.file("cut.png"), bytes.substr(0, bytes.size() / 2));
  CHECK_THROWS_WITH(load_image(dir.file("cut.png")), Catch::Contains("cut.png"));
}

TEST_CASE("image: bad outputs give clear errors and keep the old file", "[image]") {
  TempDir dir;
  Tensor img = Tensor::full({1, 3, 4, 4}, 10.0f);
  CHECK_THROWS_WITH(save_image(dir.file("no/such/dir/x.png"), img), Catch::Contains("does not exist"));
  CHECK_THROWS_WITH(save_image(dir.file("x.gif"), img), Catch::Contains("unknown image type"));
  CHECK_THROWS_WITH(save_image(dir.file("x.png"), Tensor::zeros({3, 4, 4})), Catch::Contains("[1, 3, H, W]"));
  save_image(dir.file("keep.png"), img);
  CHECK_THROWS(save_image(dir.file("keep.png"), Tensor::zeros({1, 3, 0, 4})));
  testing::check_close(load_image(dir.file("keep.png")), img, 0, 0);
}

TEST_CASE("image: resizing", "[image]") {
  int64_t h = 0, w = 0;
  fit_long_side(600, 800, 512, h, w);
  CHECK((h == 384 && w == 512));
  fit_long_side(1000, 10, 100, h, w);
  CHECK((h == 100 && w == 1));
  Tensor flat = Tensor::full({1, 3, 13, 17}, 42.0f);
  testing::check_close(resize_image(flat, 5, 7), Tensor::full({1, 3, 5, 7}, 42.0f), 1e-5, 1e-4);
  testing::check_close(resize_image(flat, 31, 40), Tensor::full({1, 3, 31, 40}, 42.0f), 1e-5, 1e-4);
  // Halving a 0/255 checkerboard averages it to mid grey (no aliasing).
  Tensor board = Tensor::empty({1, 1, 8, 8});
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) board[y * 8 + x] = ((x + y) % 2) ? 255.0f : 0.0f;
  Tensor half = resize_image(board, 4, 4);
  for (int64_t i = 0; i < 16; ++i) CHECK(std::abs(half[i] - 127.5f) < 40.0f);
  Tensor same = resize_image(board, 8, 8);
  CHECK(testing::bit_identical(same, board));
}

TEST_CASE("image: a JPEG Huffman table with more than 256 codes is refused before decoding",
          "[image]") {
  // stb_image as packaged writes past its code table on such a table (found by
  // fuzz_image; this is the fuzzer's input, then a hand-made one after an APP0 segment).
  const std::string found("\xff\xff\xd8\xff\xe0\x00\x10\x00\x00\x00\x00\x00\x00\x62\x90\x01\x64"
                          "\xae\x3b\x00\x00\xfa\xff\xc4\x00\x1f\x01\x00\xff\xd9",
                          30);
  CHECK_THROWS_WITH(load_image_from_memory(found, "found.jpg"),
                    Catch::Contains("found.jpg") && Catch::Contains("Huffman table declares"));
  std::string made("\xff\xd8\xff\xe0\x00\x04\x00\x00\xff\xc4\x00\x13\x10", 13);
  for (int i = 0; i < 16; ++i) made += static_cast<char>(i < 2 ? 200 : 0);  // 400 codes
  made += "\xff\xd9";
  CHECK_THROWS_WITH(load_image_from_memory(made, "made.jpg"),
                    Catch::Contains("made.jpg") && Catch::Contains("400 codes"));
  // A well-formed JPEG, with its tables, still loads.
  TempDir dir;
  save_image(dir.file("ok.jpg"), testing::random_tensor({1, 3, 24, 40}, 3, 0, 255));
  const Tensor ok = load_image(dir.file("ok.jpg"));
  CHECK(ok.shape() == Shape{1, 3, 24, 40});
}
