#include "nst/colour.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "io/image.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_rgb(const Tensor& t, const char* op) {
  NST_CHECK(t.rank() == 4 && t.dim(0) == 1 && t.dim(1) == 3, op, ": expected [1, 3, H, W], got ",
            t.shape().to_string());
}

using Mat3 = std::array<std::array<double, 3>, 3>;

// Mean and covariance of the pixels' colours (regularised on the diagonal).
void colour_stats(const Tensor& img, std::array<double, 3>& mean, Mat3& cov) {
  const int64_t plane = img.dim(2) * img.dim(3);
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int64_t i = 0; i < plane; ++i) s += img[c * plane + i];
    mean[size_t(c)] = s / double(plane);
  }
  for (int a = 0; a < 3; ++a)
    for (int b = 0; b < 3; ++b) {
      double s = 0;
      for (int64_t i = 0; i < plane; ++i)
        s += (img[a * plane + i] - mean[size_t(a)]) * (img[b * plane + i] - mean[size_t(b)]);
      cov[size_t(a)][size_t(b)] = s / double(plane) + (a == b ? 1e-3 : 0.0);
    }
}

// Lower-triangular L with L Lᵀ = m (m symmetric positive definite).
Mat3 cholesky(const Mat3& m) {
  Mat3 l{};
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j <= i; ++j) {
      double s = m[i][j];
      for (size_t k = 0; k < j; ++k) s -= l[i][k] * l[j][k];
      l[i][j] = i == j ? std::sqrt(std::max(s, 1e-9)) : s / l[j][j];
    }
  return l;
}

// Inverse of a lower-triangular matrix.
Mat3 invert_lower(const Mat3& l) {
  Mat3 inv{};
  for (size_t i = 0; i < 3; ++i) {
    inv[i][i] = 1.0 / l[i][i];
    for (size_t j = 0; j < i; ++j) {
      double s = 0;
      for (size_t k = j; k < i; ++k) s -= l[i][k] * inv[k][j];
      inv[i][j] = s / l[i][i];
    }
  }
  return inv;
}

}  // namespace

Tensor rgb_to_yuv(const Tensor& rgb) {
  check_rgb(rgb, "rgb_to_yuv");
  const int64_t plane = rgb.dim(2) * rgb.dim(3);
  Tensor out = Tensor::empty(rgb.shape());
  for (int64_t i = 0; i < plane; ++i) {
    const float r = rgb[i], g = rgb[plane + i], b = rgb[2 * plane + i];
    const float y = 0.299f * r + 0.587f * g + 0.114f * b;
    out[i] = y;
    out[plane + i] = 0.492f * (b - y);
    out[2 * plane + i] = 0.877f * (r - y);
  }
  return out;
}

Tensor yuv_to_rgb(const Tensor& yuv) {
  check_rgb(yuv, "yuv_to_rgb");
  const int64_t plane = yuv.dim(2) * yuv.dim(3);
  Tensor out = Tensor::empty(yuv.shape());
  for (int64_t i = 0; i < plane; ++i) {
    const float y = yuv[i], u = yuv[plane + i], v = yuv[2 * plane + i];
    const float r = y + v / 0.877f;
    const float b = y + u / 0.492f;
    const float g = (y - 0.299f * r - 0.114f * b) / 0.587f;
    out[i] = r;
    out[plane + i] = g;
    out[2 * plane + i] = b;
  }
  return out;
}

Tensor keep_content_colours(const Tensor& stylised, const Tensor& content) {
  check_rgb(stylised, "keep_content_colours");
  check_rgb(content, "keep_content_colours");
  const Tensor c = resize_image(content, stylised.dim(2), stylised.dim(3));
  Tensor yuv = rgb_to_yuv(c);
  const Tensor s = rgb_to_yuv(stylised);
  const int64_t plane = s.dim(2) * s.dim(3);
  std::copy(s.data(), s.data() + plane, yuv.data());  // Y from the stylised image
  return yuv_to_rgb(yuv);
}

Tensor match_colours(const Tensor& style, const Tensor& content) {
  check_rgb(style, "match_colours");
  check_rgb(content, "match_colours");
  std::array<double, 3> ms{}, mc{};
  Mat3 cs{}, cc{};
  colour_stats(style, ms, cs);
  colour_stats(content, mc, cc);
  const Mat3 lc = cholesky(cc), ls_inv = invert_lower(cholesky(cs));
  Mat3 a{};
  for (size_t i = 0; i < 3; ++i)
    for (size_t j = 0; j < 3; ++j)
      for (size_t k = 0; k < 3; ++k) a[i][j] += lc[i][k] * ls_inv[k][j];
  const int64_t plane = style.dim(2) * style.dim(3);
  Tensor out = Tensor::empty(style.shape());
  for (int64_t p = 0; p < plane; ++p) {
    const double d[3] = {style[p] - ms[0], style[plane + p] - ms[1], style[2 * plane + p] - ms[2]};
    for (size_t i = 0; i < 3; ++i) {
      const double v = a[i][0] * d[0] + a[i][1] * d[1] + a[i][2] * d[2] + mc[i];
      out[int64_t(i) * plane + p] = float(std::clamp(v, 0.0, 255.0));
    }
  }
  return out;
}

}  // namespace nst
