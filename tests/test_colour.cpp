#include "testing.hpp"

#include "nst/colour.hpp"

using namespace nst;

TEST_CASE("colour: YUV round trip and luminance-only transfer", "[colour]") {
  Tensor rgb = testing::random_tensor({1, 3, 5, 7}, 3, 0.0f, 255.0f);
  testing::check_close(yuv_to_rgb(rgb_to_yuv(rgb)), rgb, 1e-4, 1e-3);
  Tensor grey = Tensor::full({1, 3, 5, 7}, 128.0f);
  Tensor yuv = rgb_to_yuv(grey);
  CHECK(yuv[0] == Approx(128.0f));
  CHECK(std::abs(yuv[35]) < 1e-4f);

  // The result has the stylised image's luma and the content's chroma.
  Tensor stylised = testing::random_tensor({1, 3, 5, 7}, 4, 0.0f, 255.0f);
  Tensor content = testing::random_tensor({1, 3, 5, 7}, 5, 0.0f, 255.0f);
  Tensor out = rgb_to_yuv(keep_content_colours(stylised, content));
  Tensor ys = rgb_to_yuv(stylised), yc = rgb_to_yuv(content);
  testing::check_close(out.data(), ys.data(), 35, 1e-4, 1e-2, "luma");
  testing::check_close(out.data() + 35, yc.data() + 35, 70, 1e-4, 1e-2, "chroma");
  CHECK_THROWS_WITH(rgb_to_yuv(Tensor::zeros({1, 1, 2, 2})), Catch::Contains("rgb_to_yuv"));
}

TEST_CASE("colour: matching gives the content's mean and covariance", "[colour]") {
  Tensor style = testing::random_tensor({1, 3, 16, 16}, 6, 50.0f, 200.0f);
  Tensor content = testing::random_tensor({1, 3, 9, 11}, 7, 0.0f, 80.0f);
  for (int64_t i = 0; i < 99; ++i) content[99 + i] = 0.5f * content[i] + 20.0f;  // correlated
  Tensor m = match_colours(style, content);
  auto mean = [](const Tensor& t, int c) {
    const int64_t plane = t.dim(2) * t.dim(3);
    double s = 0;
    for (int64_t i = 0; i < plane; ++i) s += t[c * plane + i];
    return s / double(plane);
  };
  for (int c = 0; c < 3; ++c) CHECK(mean(m, c) == Approx(mean(content, c)).epsilon(0.02));
}
