// Convolution as GEMM on bounded tiles of im2col columns (kernel layer).
//
// For one image, conv2d is  out[OC][P] = weight[OC][K] * col[K][P]  with
// K = C*KH*KW, P = OH*OW and col[(c*KH + kh)*KW + kw][oh*OW + ow] =
// inp[c][oh*sh - pad_top + kh][ow*sw - pad_left + kw] (0 outside the image).
// A full col matrix is K*P floats (600 MB for VGG conv1_2 at 512x512), so the
// positions are cut into tiles of at most kColTileFloats / K columns and the
// scratch stays at kColTileFloats floats whatever the image size. A 1x1,
// stride-1, unpadded conv needs no col at all: col is the input itself.
//
// Threading: gemm() is threaded on its own; the tiles run one after another and
// only im2col / col2im / the epilogue use parallel_for. Calling gemm() from
// inside a parallel_for task would nest its threads under ours (and a waiting
// worker could pick up another of our tiles mid-GEMM), so we never do.
//
// Determinism: every output element is written by one task; the weight
// gradient adds the tiles' GEMM results in (image, tile) order.
#pragma once

#include <cstdint>

namespace nst::kernels {

// Sizes of one convolution. Pads may be negative inside the engine (the
// transposed conv uses this for its output padding); OH and OW are given, so
// pad_bottom / pad_right need not be stored.
struct ConvGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;  // input
  int64_t OC = 0, KH = 0, KW = 0;      // weight [OC][C][KH][KW]
  int64_t OH = 0, OW = 0;              // output
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_left = 0;

  int64_t col_rows() const { return C * KH * KW; }  // K
  int64_t positions() const { return OH * OW; }     // P
  bool is_pointwise() const {
    return KH == 1 && KW == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0 &&
           OH == H && OW == W;
  }
};

// Scratch budget of one col tile: 1 M floats = 4 MB.
inline constexpr int64_t kColTileFloats = int64_t{1} << 20;

// Output positions per tile for this geometry (a multiple of 16 unless it is P).
int64_t col_tile_positions(const ConvGeometry& g);

// col[K][count] = the im2col columns of positions [p0, p0 + count) of one image.
void im2col_tile(float* col, const float* inp, const ConvGeometry& g, int64_t p0, int64_t count);
// dinp += the scatter of col[K][count] back onto one image (adjoint of im2col_tile).
void col2im_tile(float* dinp, const float* col, const ConvGeometry& g, int64_t p0, int64_t count);

// out[N][OC][OH][OW] = conv(inp, weight) + bias, then max(., 0) when relu
// (bias may be null). With accumulate, out += conv(inp, weight) instead (no
// bias, no relu): the transposed conv's input gradient.
void conv_gemm_forward(float* out, const float* inp, const float* weight, const float* bias,
                       bool relu, const ConvGeometry& g, bool accumulate = false);
// dinp[N][C][H][W] += the gradient of the forward through the input.
void conv_gemm_backward_input(float* dinp, const float* dout, const float* weight,
                              const ConvGeometry& g);
// dweight[OC][C][KH][KW] += ..., dbias[OC] += ... (dbias may be null).
void conv_gemm_backward_weight(float* dweight, float* dbias, const float* dout, const float* inp,
                               const ConvGeometry& g);
// dbias[OC] += the sum of dout[N][OC][P] over n and p.
void conv_gemm_backward_bias(float* dbias, const float* dout, int64_t N, int64_t OC, int64_t P);

}  // namespace nst::kernels
