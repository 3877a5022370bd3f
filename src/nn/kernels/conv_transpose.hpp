// Transposed convolution by output phases (sub-pixel decomposition; kernel layer).
//
// With t the sizes of conv_transpose2d (nn/conv_transpose2d.hpp: pad_top /
// pad_left hold the crops), out[o][oy][ox] gets inp[c][ih][iw] *
// weight[c][o][kh][kw] whenever oy = ih*sh + kh - crop_top (likewise ox). Along
// one axis, the outputs of phase r (0 <= r < s) are the oy with
// (oy + crop) mod s = r; they meet only the taps kh = r, r + s, r + 2s, ..., so
// phase r of the output is a stride-1 correlation of the input with those taps,
// reversed:
//
//   out[o][oy0 + j*s] = sum_{c, m} inp[c][j + b - m] * weight[c][o][r + m*s]
//                     = sum_{c, t} inp[c][j - pad + t] * wp[o][c][t],
//   wp[o][c][t] = weight[c][o][r + (taps-1-t)*s],   pad = taps - 1 - b,
//
// where oy0 is the first output of the phase and oy0 + crop = r + b*s. Each of
// the sh*sw phases is one direct convolution (conv_direct.hpp) that writes
// straight to the strided output positions: every output element is written
// once, by one task, with no scattered adds (the col2im of the input-gradient
// formulation, which this replaces). Measured against an im2col + GEMM per
// phase (GEMMs of only OC rows, slower) in docs/performance.md.
// Phases that meet no tap (k < s) hold the bias alone.
#pragma once

#include <cstdint>

#include "nn/kernels/conv_direct.hpp"

namespace nst::kernels {

// One phase along one axis: outputs first + j*s for j < count, a correlation
// with `taps` taps and padding `pad` in front.
struct TransposePhase {
  int64_t first = 0, count = 0, taps = 0, pad = 0;
};
// Phase r of an axis with stride s, crop `crop` (may be negative), kernel k and
// `out` outputs.
TransposePhase transpose_phase(int64_t r, int64_t s, int64_t crop, int64_t k, int64_t out);

// out[N][OC][OH][OW] = conv_transpose2d(inp[N][C][H][W], weight[C][OC][KH][KW])
// + bias (bias may be null); t as described above.
void conv_transpose_forward(float* out, const float* inp, const float* weight, const float* bias,
                            const ConvGeometry& t);

}  // namespace nst::kernels
