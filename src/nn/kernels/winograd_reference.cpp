// Winograd F(4x4, 3x3) in plain loops (see winograd_reference.hpp): every
// transform is a product of small matrices, every sum a plain loop.
#include "nn/kernels/winograd_reference.hpp"

#include <vector>

#include "tensor/check.hpp"

namespace nst::kernels {

namespace {

// Lavin & Gray's F(4x4, 3x3) matrices for the points 0, 1, -1, 2, -2 and ∞.
// clang-format off
constexpr double kBt[6][6] = {
    {4,  0, -5,  0, 1, 0},
    {0, -4, -4,  1, 1, 0},
    {0,  4, -4, -1, 1, 0},
    {0, -2, -1,  2, 1, 0},
    {0,  2, -1, -2, 1, 0},
    {0,  4,  0, -5, 0, 1},
};
constexpr double kG[6][3] = {
    { 1.0 / 4,   0.0,       0.0    },
    {-1.0 / 6,  -1.0 / 6,  -1.0 / 6},
    {-1.0 / 6,   1.0 / 6,  -1.0 / 6},
    { 1.0 / 24,  1.0 / 12,  1.0 / 6},
    { 1.0 / 24, -1.0 / 12,  1.0 / 6},
    { 0.0,       0.0,       1.0    },
};
constexpr double kAt[4][6] = {
    {1, 1,  1, 1,  1, 0},
    {0, 1, -1, 2, -2, 0},
    {0, 1,  1, 4,  4, 0},
    {0, 1, -1, 8, -8, 1},
};
// clang-format on

// A small R x C matrix of T, row-major, zero-initialised.
template <class T, int R, int C>
struct Mat {
  T at[R][C] = {};
};

template <class T, int R, int C>
Mat<T, R, C> matrix(const double (&m)[R][C]) {
  Mat<T, R, C> out;
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < C; ++j) out.at[i][j] = static_cast<T>(m[i][j]);
  return out;
}

template <class T, int R, int K, int C>
Mat<T, R, C> operator*(const Mat<T, R, K>& a, const Mat<T, K, C>& b) {
  Mat<T, R, C> out;
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < C; ++j)
      for (int k = 0; k < K; ++k) out.at[i][j] += a.at[i][k] * b.at[k][j];
  return out;
}

template <class T, int R, int C>
Mat<T, C, R> transpose(const Mat<T, R, C>& a) {
  Mat<T, C, R> out;
  for (int i = 0; i < R; ++i)
    for (int j = 0; j < C; ++j) out.at[j][i] = a.at[i][j];
  return out;
}

// U = G g Gᵀ: a 3x3 kernel to 6x6.
template <class T>
Mat<T, 6, 6> weight_transform(const Mat<T, 3, 3>& g) {
  const auto G = matrix<T>(kG);
  return G * g * transpose(G);
}

// V = Bᵀ d B: a 6x6 input patch to 6x6.
template <class T>
Mat<T, 6, 6> input_transform(const Mat<T, 6, 6>& d) {
  const auto Bt = matrix<T>(kBt);
  return Bt * d * transpose(Bt);
}

// Y = Aᵀ M A: 6x6 to a 4x4 output tile.
template <class T>
Mat<T, 4, 4> output_transform(const Mat<T, 6, 6>& m) {
  const auto At = matrix<T>(kAt);
  return At * m * transpose(At);
}

void check_geometry(const ConvGeometry& g, const char* what) {
  NST_CHECK(g.KH == 3 && g.KW == 3 && g.stride_h == 1 && g.stride_w == 1, what,
            ": only 3x3 stride-1 convolutions, got ", g.KH, "x", g.KW, " stride ", g.stride_h, "x",
            g.stride_w);
}

// out = the convolution of inp [N][C][H][W] with weight [OC][C][3][3], tile by
// tile; plus bias, or (accumulate) added to what out holds.
template <class T>
void convolve(T* out, const T* inp, const T* weight, const T* bias, const ConvGeometry& g,
              bool accumulate) {
  // U for every pair of channels.
  std::vector<Mat<T, 6, 6>> U(static_cast<size_t>(g.OC * g.C));
  for (int64_t o = 0; o < g.OC; ++o)
    for (int64_t c = 0; c < g.C; ++c) {
      Mat<T, 3, 3> kernel;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) kernel.at[i][j] = weight[((o * g.C + c) * 3 + i) * 3 + j];
      U[o * g.C + c] = weight_transform(kernel);
    }
  std::vector<Mat<T, 6, 6>> V(static_cast<size_t>(g.C));
  const int64_t tiles_h = (g.OH + 3) / 4, tiles_w = (g.OW + 3) / 4;
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t ty = 0; ty < tiles_h; ++ty)
      for (int64_t tx = 0; tx < tiles_w; ++tx) {
        // V for every input channel: the patch under output tile (ty, tx).
        for (int64_t c = 0; c < g.C; ++c) {
          Mat<T, 6, 6> d;
          for (int r = 0; r < 6; ++r)
            for (int u = 0; u < 6; ++u) {
              const int64_t y = 4 * ty - g.pad_top + r, x = 4 * tx - g.pad_left + u;
              if (y >= 0 && y < g.H && x >= 0 && x < g.W)
                d.at[r][u] = inp[((n * g.C + c) * g.H + y) * g.W + x];
            }
          V[c] = input_transform(d);
        }
        for (int64_t o = 0; o < g.OC; ++o) {
          Mat<T, 6, 6> M;
          for (int64_t c = 0; c < g.C; ++c)
            for (int i = 0; i < 6; ++i)
              for (int j = 0; j < 6; ++j) M.at[i][j] += U[o * g.C + c].at[i][j] * V[c].at[i][j];
          const Mat<T, 4, 4> Y = output_transform(M);
          for (int p = 0; p < 4; ++p)
            for (int q = 0; q < 4; ++q) {
              const int64_t y = 4 * ty + p, x = 4 * tx + q;
              if (y >= g.OH || x >= g.OW) continue;
              T& dst = out[((n * g.OC + o) * g.OH + y) * g.OW + x];
              dst = accumulate ? dst + Y.at[p][q] : Y.at[p][q] + (bias ? bias[o] : T(0));
            }
        }
      }
}

}  // namespace

template <class T>
void winograd_reference_forward(T* out, const T* inp, const T* weight, const T* bias,
                                const ConvGeometry& g) {
  check_geometry(g, "winograd_reference_forward");
  convolve(out, inp, weight, bias, g, false);
}

template <class T>
void winograd_reference_backward_input(T* dinp, const T* dout, const T* weight,
                                       const ConvGeometry& g) {
  check_geometry(g, "winograd_reference_backward_input");
  // Kernel [c][o] of the transposed convolution: weight[o][c] turned by 180 degrees.
  std::vector<T> turned(static_cast<size_t>(g.C * g.OC * 9));
  for (int64_t o = 0; o < g.OC; ++o)
    for (int64_t c = 0; c < g.C; ++c)
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
          turned[((c * g.OC + o) * 3 + i) * 3 + j] =
              weight[((o * g.C + c) * 3 + (2 - i)) * 3 + (2 - j)];
  ConvGeometry t = g;  // dout [N][OC][OH][OW] -> dinp [N][C][H][W]
  t.C = g.OC, t.H = g.OH, t.W = g.OW;
  t.OC = g.C, t.OH = g.H, t.OW = g.W;
  t.pad_top = 2 - g.pad_top, t.pad_left = 2 - g.pad_left;
  convolve(dinp, dout, turned.data(), static_cast<const T*>(nullptr), t, true);
}

template void winograd_reference_forward<float>(float*, const float*, const float*, const float*,
                                                const ConvGeometry&);
template void winograd_reference_forward<double>(double*, const double*, const double*,
                                                 const double*, const ConvGeometry&);
template void winograd_reference_backward_input<float>(float*, const float*, const float*,
                                                       const ConvGeometry&);
template void winograd_reference_backward_input<double>(double*, const double*, const double*,
                                                        const ConvGeometry&);

}  // namespace nst::kernels
