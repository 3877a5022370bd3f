#include "nn/kernels/conv_transpose.hpp"

#include <algorithm>
#include <vector>

#include "nn/kernels/conv_direct.hpp"

namespace nst::kernels {

namespace {

// wp[o][c][th][tw] = weight[c][o][rh + (taps_h-1-th)*sh][rw + (taps_w-1-tw)*sw].
std::vector<float> phase_weight(const float* weight, const ConvGeometry& t, int64_t rh, int64_t rw,
                                int64_t taps_h, int64_t taps_w) {
  std::vector<float> wp(static_cast<size_t>(t.OC * t.C * taps_h * taps_w));
  float* d = wp.data();
  for (int64_t o = 0; o < t.OC; ++o)
    for (int64_t c = 0; c < t.C; ++c)
      for (int64_t th = 0; th < taps_h; ++th)
        for (int64_t tw = 0; tw < taps_w; ++tw) {
          const int64_t kh = rh + (taps_h - 1 - th) * t.stride_h;
          const int64_t kw = rw + (taps_w - 1 - tw) * t.stride_w;
          *d++ = weight[((c * t.OC + o) * t.KH + kh) * t.KW + kw];
        }
  return wp;
}

// The phase's outputs = bias (the phase meets no tap).
void fill_phase(float* out, const float* bias, const ConvGeometry& t, const TransposePhase& ph,
                const TransposePhase& pw) {
  for (int64_t o = 0; o < t.OC; ++o)
    for (int64_t jh = 0; jh < ph.count; ++jh) {
      float* row = out + (o * t.OH + ph.first + jh * t.stride_h) * t.OW + pw.first;
      for (int64_t jw = 0; jw < pw.count; ++jw) row[jw * t.stride_w] = bias ? bias[o] : 0.0f;
    }
}

}  // namespace

TransposePhase transpose_phase(int64_t r, int64_t s, int64_t crop, int64_t k, int64_t out) {
  TransposePhase p;
  p.first = ((r - crop) % s + s) % s;  // (first + crop) mod s == r
  p.count = p.first < out ? (out - p.first + s - 1) / s : 0;
  p.taps = r < k ? (k - r + s - 1) / s : 0;
  const int64_t b = (p.first + crop - r) / s;  // exact
  p.pad = p.taps - 1 - b;
  return p;
}

// Output rows are done in chunks of phase rows [j0, j0 + chunk): all sh*sw
// phases of a chunk run one after the other, so the chunk's output (about
// kChunkFloats) is still in cache when the next phase fills its other columns.
// For each phase: its weight wp, then conv_direct over the input rows the
// chunk needs, writing the phase's outputs (rows sh*OW apart, columns sw apart)
// in place.
void conv_transpose_forward(float* out, const float* inp, const float* weight, const float* bias,
                            const ConvGeometry& t) {
  constexpr int64_t kChunkFloats = int64_t{1} << 21;  // 8 MB
  const int64_t chunk = std::max<int64_t>(16, kChunkFloats / (t.N * t.OC * t.stride_h * t.OW));
  std::vector<std::vector<float>> wps;
  for (int64_t rh = 0; rh < t.stride_h; ++rh)
    for (int64_t rw = 0; rw < t.stride_w; ++rw) {
      const TransposePhase ph = transpose_phase(rh, t.stride_h, t.pad_top, t.KH, t.OH);
      const TransposePhase pw = transpose_phase(rw, t.stride_w, t.pad_left, t.KW, t.OW);
      wps.push_back(phase_weight(weight, t, rh, rw, ph.taps, pw.taps));
    }
  const int64_t max_rows = (t.OH + t.stride_h - 1) / t.stride_h;
  for (int64_t j0 = 0; j0 < max_rows; j0 += chunk)
    for (int64_t rh = 0; rh < t.stride_h; ++rh)
      for (int64_t rw = 0; rw < t.stride_w; ++rw) {
        const TransposePhase ph = transpose_phase(rh, t.stride_h, t.pad_top, t.KH, t.OH);
        const TransposePhase pw = transpose_phase(rw, t.stride_w, t.pad_left, t.KW, t.OW);
        const int64_t rows = std::min(ph.count, j0 + chunk) - j0;
        if (rows <= 0 || pw.count == 0) continue;
        if (ph.taps == 0 || pw.taps == 0) {
          if (j0 == 0)
            for (int64_t n = 0; n < t.N; ++n)
              fill_phase(out + n * t.OC * t.OH * t.OW, bias, t, ph, pw);
          continue;
        }
        ConvGeometry g;  // rows [j0, j0 + rows) of the phase as a stride-1 conv2d
        g.N = t.N, g.C = t.C, g.H = t.H, g.W = t.W;
        g.OC = t.OC, g.KH = ph.taps, g.KW = pw.taps;
        g.OH = rows, g.OW = pw.count;
        g.pad_top = ph.pad - j0, g.pad_left = pw.pad;
        // The columns between this phase's are other phases' (other calls).
        const ConvOutputLayout layout{t.OC * t.OH * t.OW, t.OH * t.OW, t.stride_h * t.OW,
                                      t.stride_w, t.OW - pw.first};
        conv_direct_forward(out + (ph.first + j0 * t.stride_h) * t.OW + pw.first, layout, inp,
                            wps[static_cast<size_t>(rh * t.stride_w + rw)].data(), bias, false, g);
      }
}

}  // namespace nst::kernels
