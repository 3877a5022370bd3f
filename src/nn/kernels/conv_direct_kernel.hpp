// Direct convolution kernel: a GEMM micro-kernel whose B operand is read
// straight from a zero-padded band of the input (implicit GEMM, no im2col).
//
// conv_direct.cpp copies the input rows a band of output rows needs into
//   band[c][ph][pw][row][col] = inp[c][(oh0 + row)*s + ph - pad_top][col*s + pw - pad_left]
// (0 outside the image; ph, pw < s are the stride phases), so that for every
// tap k = (c*KH + kh)*KW + kw the values it meets along an output row are
// contiguous: B[k][ow] = band[offset[k] + i*Wb + ow] for output row oh0 + i,
// offset[k] = ((c*s + kh%s)*s + kw%s)*Rb*Wb + (kh/s)*Wb + kw/s.
// The weight is packed once into panels of mr output channels, [k][mr] each
// (rows past OC zero). A register tile is mr channels x nr columns:
//   acc[r][j] = sum over k in order of wp[k][r] * B[k][j0 + j],
// then out = acc (+ bias) (max 0 with relu); every output element is one sum
// over k in a fixed order, whatever the tiling or threads.
#pragma once

#include <algorithm>
#include <cstdint>

#include "nn/kernels/dispatch.hpp"

namespace nst::kernels {

// Register tile of one instruction set for a layer with OC output channels.
struct ConvDirectPlan {
  int64_t mr = 1, nr = 1;
};

// One band of output rows of one image.
struct ConvDirectArgs {
  const float* band = nullptr;       // as above, rows Wb floats apart
  const int64_t* offsets = nullptr;  // [K]
  const float* panels = nullptr;     // [ceil(OC / mr)][K][mr]
  int64_t K = 0, OC = 0, OW = 0, Wb = 0, rows = 0;
  // Output (o, i, ow) of the band is out[o*out_plane + i*out_row + ow*out_col].
  float* out = nullptr;
  int64_t out_plane = 0, out_row = 0, out_col = 1;
  // Floats from a row's first output to the end of that row that the kernel
  // may read and write back unchanged (no other task of the call writes them);
  // 0: it touches the outputs only.
  int64_t out_span = 0;
  const float* bias = nullptr;  // may be null
  bool relu = false;
  // Taps per pass of the SIMD body (all K when OC fits one panel), and its
  // 64-byte aligned sums between passes: [ceil(OC / mr)][mr][nr].
  int64_t k_chunk = 0;
  float* partial = nullptr;
  // Null, or room for one pass's band slice, [k_chunk][nr], 64-byte aligned:
  // the SIMD body then copies the slice there before the panels read it.
  float* packed = nullptr;
};

struct ConvDirectPlanKernel {
  template <class Arch>
  ConvDirectPlan operator()(Arch, int64_t OC) const;
  ConvDirectPlan operator()(ScalarArch, int64_t OC) const;
};

// Every output of the band: column tiles, then rows, then passes over k_chunk
// taps, then channel panels (the plain body: rows, column tiles, panels).
struct ConvDirectKernel {
  template <class Arch>
  void operator()(Arch, const ConvDirectArgs& a, const ConvDirectPlan& plan) const;
  void operator()(ScalarArch, const ConvDirectArgs& a, const ConvDirectPlan& plan) const;
};

// Stores an mr x nr accumulator tile (row-major, ld nr) at column ow0 of output
// row i: valid channels and columns only, bias and ReLU as in ConvDirectArgs.
inline void conv_direct_store_edge(const ConvDirectArgs& a, const float* acc, int64_t nr,
                                   int64_t o0, int64_t channels, int64_t i, int64_t ow0,
                                   int64_t cols) {
  for (int64_t r = 0; r < channels; ++r) {
    float* dst = a.out + (o0 + r) * a.out_plane + i * a.out_row + ow0 * a.out_col;
    for (int64_t j = 0; j < cols; ++j) {
      float v = acc[r * nr + j];
      if (a.bias) v += a.bias[o0 + r];
      if (a.relu) v = std::max(v, 0.0f);  // a NaN stays NaN
      dst[j * a.out_col] = v;
    }
  }
}

}  // namespace nst::kernels

NST_DECLARE_SIMD_KERNEL(nst::kernels::ConvDirectPlanKernel, nst::kernels::ConvDirectPlan, int64_t)
NST_DECLARE_SIMD_KERNEL(nst::kernels::ConvDirectKernel, void, const nst::kernels::ConvDirectArgs&,
                        const nst::kernels::ConvDirectPlan&)
