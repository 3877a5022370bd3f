// Direct convolution on bands of output rows (kernel layer): for the layers
// where im2col + GEMM spends more time copying than multiplying.
//
// The im2col matrix of a conv holds every input pixel KH*KW / s² times, and the
// GEMM copies it once more into its panels; with few output channels (the
// 9x9 32 -> 3 output layer of the feed-forward style network uses each col
// element for 3 multiply-adds) that copying is the whole cost, and with few
// input channels (9x9 3 -> 32) it is a large part. Here each task copies the
// input rows of a band of output rows once into a zero-padded buffer, split
// into the s x s stride phases, and a GEMM micro-kernel reads its B operand
// from that buffer directly (conv_direct_kernel.hpp has the layout). The
// weight is packed once per call. Every output element is one sum over
// (c, kh, kw) in order, computed by one task: the bits do not depend on the
// thread count.
#pragma once

#include <cstdint>

#include "nn/kernels/conv_gemm.hpp"

namespace nst::kernels {

// Where output (n, o, oh, ow) goes: out[n*image + o*plane + oh*row + ow*col].
// span: floats from out[.. oh*row] to the end of its row that this call may
// read and write back unchanged while writing its outputs (with col > 1 the
// columns between them, written by other calls, never by this one); 0: none.
struct ConvOutputLayout {
  int64_t image = 0, plane = 0, row = 0, col = 1, span = 0;
  static ConvOutputLayout dense(const ConvGeometry& g) {
    return {g.OC * g.OH * g.OW, g.OH * g.OW, g.OW, 1, 0};
  }
};

// The geometries conv2d sends here: equal strides up to 4, and few input or
// output channels (see docs/performance.md for the measurements).
bool conv_direct_applies(const ConvGeometry& g);

// out = conv2d(inp, weight [OC][C][KH][KW]) + bias (bias may be null), then
// max(., 0) with relu; any padding, stride_h == stride_w.
void conv_direct_forward(float* out, const ConvOutputLayout& layout, const float* inp,
                         const float* weight, const float* bias, bool relu, const ConvGeometry& g);

}  // namespace nst::kernels
