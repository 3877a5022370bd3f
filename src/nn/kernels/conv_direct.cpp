#include "nn/kernels/conv_direct.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "nn/kernels/conv_direct_kernel.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst::kernels {

namespace {

// Floats of band one task aims for (512 KB: the band stays in L2 while the
// column tiles sweep it; 4 MB bands ran d64 / d128 / u64 at 0.6-0.8x the speed);
// bands have at most kMaxBandRows output rows.
constexpr int64_t kBandFloats = int64_t{1} << 17;
constexpr int64_t kMaxBandRows = 16;
// Channel panels from which the kernel copies each pass's band slice first.
constexpr int64_t kPackMinPanels = 4;

// Smallest x >= 0 with x*s + off >= bound.
int64_t first_reaching(int64_t bound, int64_t off, int64_t s) {
  const int64_t need = bound - off;
  return need <= 0 ? 0 : (need + s - 1) / s;
}

struct BandShape {
  int64_t s, rows, Rb, Wb;  // stride, output rows per band, band rows, row pitch
};

// band[c][ph][pw][row][col] = inp[c][(oh0 + row)*s + ph - pad_top][col*s + pw - pad_left],
// 0 outside the image, for rows < Rb (rows past the image's last band are 0 too).
void pack_band(float* band, const float* inp, const ConvGeometry& g, const BandShape& b,
               int64_t oh0) {
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t ph = 0; ph < b.s; ++ph)
      for (int64_t pw = 0; pw < b.s; ++pw) {
        const int64_t off_w = pw - g.pad_left;  // iw = col*s + off_w
        const int64_t lo = std::min(b.Wb, first_reaching(0, off_w, b.s));
        const int64_t hi = std::max(lo, std::min(b.Wb, first_reaching(g.W, off_w, b.s)));
        float* dst = band + ((c * b.s + ph) * b.s + pw) * b.Rb * b.Wb;
        for (int64_t row = 0; row < b.Rb; ++row, dst += b.Wb) {
          const int64_t ih = (oh0 + row) * b.s + ph - g.pad_top;
          if (ih < 0 || ih >= g.H) {
            std::fill_n(dst, b.Wb, 0.0f);
            continue;
          }
          const float* src = inp + (c * g.H + ih) * g.W + off_w;  // + col*s
          std::fill(dst, dst + lo, 0.0f);
          if (b.s == 1)
            std::copy(src + lo, src + hi, dst + lo);
          else if (b.s == 2)  // a constant stride: vectorised
            for (int64_t col = lo; col < hi; ++col) dst[col] = src[col * 2];
          else
            for (int64_t col = lo; col < hi; ++col) dst[col] = src[col * b.s];
          std::fill(dst + hi, dst + b.Wb, 0.0f);
        }
      }
}

// The calling thread's buffer (band, then the partial sums): grows once, then
// is reused. 64-byte aligned.
float* band_buffer(int64_t floats) {
  thread_local std::vector<float> buffer;
  if (static_cast<int64_t>(buffer.size()) < floats + 16)
    buffer.resize(static_cast<size_t>(floats + 16));
  const auto addr = reinterpret_cast<std::uintptr_t>(buffer.data());
  return buffer.data() + (64 - addr % 64) % 64 / sizeof(float);
}

// Taps per pass of the kernel: the band slice of one column tile for a pass
// (taps x nr floats, 12 KB; ~2.5 cache lines per tap at 24 columns) stays in
// L1 while the channel panels read it. One panel reads it once: one pass.
int64_t k_chunk(int64_t K, int64_t OC, const ConvDirectPlan& plan) {
  return OC <= plan.mr ? K : std::max<int64_t>(16, 3072 / plan.nr);
}

}  // namespace

bool conv_direct_applies(const ConvGeometry& g) {
  if (g.stride_h != g.stride_w || g.stride_h > 4 || g.is_pointwise()) return false;
  // Strided convs read no im2col copy here; with a long K (VGG-sized) the
  // GEMM's cache blocking wins.
  return g.OC <= 4 || g.C <= 4 || (g.stride_h > 1 && g.col_rows() <= 1024);
}

void conv_direct_forward(float* out, const ConvOutputLayout& layout, const float* inp,
                         const float* weight, const float* bias, bool relu, const ConvGeometry& g) {
  NST_CHECK(g.stride_h == g.stride_w, "conv_direct: strides ", g.stride_h, "x", g.stride_w,
            " differ");
  const ConvDirectPlan plan = dispatch(ConvDirectPlanKernel{}, g.OC);
  const int64_t K = g.col_rows(), mr = plan.mr;
  // panels[p][k][r] = weight[p*mr + r][k], 0 past OC.
  std::vector<float> panels(static_cast<size_t>((g.OC + mr - 1) / mr * K * mr), 0.0f);
  for (int64_t o = 0; o < g.OC; ++o)
    for (int64_t k = 0; k < K; ++k)
      panels[static_cast<size_t>((o / mr * K + k) * mr + o % mr)] = weight[o * K + k];

  BandShape b;
  b.s = g.stride_h;
  const int64_t dh = (g.KH - 1) / b.s, dw = (g.KW - 1) / b.s;
  b.Wb = (g.OW + plan.nr - 1) / plan.nr * plan.nr + dw;
  const int64_t per_row = g.C * b.s * b.s * b.Wb;
  // About L2-sized, but at least as many output rows as halo rows (dh).
  const int64_t max_rows = std::min(kMaxBandRows, g.OH);
  b.rows = std::clamp<int64_t>(kBandFloats / per_row - dh,
                               std::min(std::max<int64_t>(1, dh), max_rows), max_rows);
  b.Rb = b.rows + dh;
  std::vector<int64_t> offsets(static_cast<size_t>(K));
  for (int64_t c = 0; c < g.C; ++c)
    for (int64_t kh = 0; kh < g.KH; ++kh)
      for (int64_t kw = 0; kw < g.KW; ++kw) {
        const int64_t phase = (c * b.s + kh % b.s) * b.s + kw % b.s;
        offsets[static_cast<size_t>((c * g.KH + kh) * g.KW + kw)] =
            (phase * b.Rb + kh / b.s) * b.Wb + kw / b.s;
      }

  const int64_t bands = (g.OH + b.rows - 1) / b.rows;
  const int64_t kc = k_chunk(K, g.OC, plan);
  parallel_for(0, g.N * bands, 1, [&](int64_t lo, int64_t hi) {
    const int64_t band_floats = (per_row * b.Rb + 15) / 16 * 16;
    const int64_t partial_floats = (g.OC + mr - 1) / mr * mr * plan.nr;
    const bool pack = g.OC >= kPackMinPanels * mr;
    float* band = band_buffer(band_floats + partial_floats + (pack ? kc * plan.nr : 0));
    for (int64_t task = lo; task < hi; ++task) {
      const int64_t n = task / bands, oh0 = task % bands * b.rows;
      pack_band(band, inp + n * g.C * g.H * g.W, g, b, oh0);
      ConvDirectArgs a;
      a.band = band, a.offsets = offsets.data(), a.panels = panels.data();
      a.K = K, a.OC = g.OC, a.OW = g.OW, a.Wb = b.Wb, a.rows = std::min(b.rows, g.OH - oh0);
      a.out = out + n * layout.image + oh0 * layout.row;
      a.out_plane = layout.plane, a.out_row = layout.row, a.out_col = layout.col;
      a.out_span = layout.span;
      a.bias = bias, a.relu = relu;
      a.k_chunk = kc, a.partial = band + band_floats;
      a.packed = pack ? a.partial + partial_floats : nullptr;
      dispatch(ConvDirectKernel{}, a, plan);
    }
  });
}

}  // namespace nst::kernels
