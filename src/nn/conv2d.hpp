// conv2d: 2-D cross-correlation, NCHW input, OIHW weight, optional bias.
//
//   out[n][o][oh][ow] = bias[o] + sum_{c,kh,kw} weight[o][c][kh][kw]
//                        * inp[n][c][oh*sh - pad_top + kh][ow*sw - pad_left + kw]
//   (input pixels outside the image are 0; dilation 1)
//   OH = (H + pad_top + pad_bottom - KH) / sh + 1   (floor), likewise OW.
//
// Shapes: inp [N][C][H][W], weight [OC][C][KH][KW], bias [OC], out [N][OC][OH][OW].
// The fast paths are Winograd F(4x4, 3x3) for 3x3 stride-1 convolutions with
// 16 or more channels (nn/kernels/winograd.hpp; forward and input gradient) and
// im2col + GEMM on bounded tiles for everything else (nn/kernels/conv_gemm.hpp);
// conv2d_reference_* are the plain loops both are tested against.
#pragma once

#include <cstdint>

#include "nn/kernels/conv_gemm.hpp"
#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct Conv2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;

  // TensorFlow "SAME": OH = ceil(H / stride); the odd padding pixel goes to the
  // bottom / right (tf.nn.conv2d docs, "padding").
  static Conv2dParams same(int64_t kh, int64_t kw, int64_t stride, int64_t H, int64_t W);
  // PyTorch Conv2d(padding=pad, stride=stride): pad on every side.
  static Conv2dParams symmetric(int64_t pad, int64_t stride);
};

// What the forward applies after adding the bias.
enum class Conv2dEpilogue { none, relu };

// Checks inp [N][C][H][W] against weight [OC][C][KH][KW] and the params
// (throws nst::Error naming conv2d and the shapes) and returns the sizes.
kernels::ConvGeometry conv2d_geometry(const Shape& inp, const Shape& weight, const Conv2dParams& p);
Shape conv2d_output_shape(const Shape& inp, const Shape& weight, const Conv2dParams& p);

// out = conv2d(inp, weight) + bias (bias may be null), then the epilogue.
void conv2d_forward(Tensor& out, const Tensor& inp, const Tensor& weight, const Tensor* bias,
                    const Conv2dParams& p, Conv2dEpilogue epilogue = Conv2dEpilogue::none);
// dinp += d(out)/d(inp)ᵀ dout   (for the forward without epilogue);
// accumulate = false: dinp = ... (dinp's old contents are not read)
void conv2d_backward_input(Tensor& dinp, const Tensor& dout, const Tensor& weight,
                           const Conv2dParams& p, bool accumulate = true);
// dweight += ..., dbias += sum of dout over n, oh, ow (dbias may be null).
void conv2d_backward_weight(Tensor& dweight, Tensor* dbias, const Tensor& dout, const Tensor& inp,
                            const Conv2dParams& p);
// dbias += sum of dout over n, oh, ow (what backward_weight does for the bias alone).
void conv2d_backward_bias(Tensor& dbias, const Tensor& dout);

// Autograd: bias may be an undefined Var. Only the inputs that require a
// gradient get one (a frozen weight costs no weight-gradient work).
Var conv2d(Tape& tape, const Var& x, const Var& weight, const Var& bias, const Conv2dParams& p);
// relu(conv2d(x) + bias) as one node: the ReLU runs in the GEMM epilogue and the
// tape keeps one tensor (the output, whose sign is the ReLU mask) instead of two.
// Same bits as relu(tape, conv2d(tape, ...)).
Var conv2d_relu(Tape& tape, const Var& x, const Var& weight, const Var& bias,
                const Conv2dParams& p);

// ---- Reference kernels: plain loops on raw arrays of any scalar type ----

template <class T>
void conv2d_reference_forward(T* out, const T* inp, const T* weight, const T* bias,
                              const kernels::ConvGeometry& g) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.OC; ++o)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          T acc = bias ? bias[o] : T(0);
          for (int64_t c = 0; c < g.C; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ih = oh * g.stride_h - g.pad_top + kh;
                const int64_t iw = ow * g.stride_w - g.pad_left + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                acc += weight[((o * g.C + c) * g.KH + kh) * g.KW + kw] *
                       inp[((n * g.C + c) * g.H + ih) * g.W + iw];
              }
          out[((n * g.OC + o) * g.OH + oh) * g.OW + ow] = acc;
        }
}

// Differentiates  acc += weight[o][c][kh][kw] * inp[n][c][ih][iw]  through inp.
template <class T>
void conv2d_reference_backward_input(T* dinp, const T* dout, const T* weight,
                                     const kernels::ConvGeometry& g) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.OC; ++o)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const T d = dout[((n * g.OC + o) * g.OH + oh) * g.OW + ow];
          for (int64_t c = 0; c < g.C; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ih = oh * g.stride_h - g.pad_top + kh;
                const int64_t iw = ow * g.stride_w - g.pad_left + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                dinp[((n * g.C + c) * g.H + ih) * g.W + iw] +=
                    d * weight[((o * g.C + c) * g.KH + kh) * g.KW + kw];
              }
        }
}

// Differentiates  acc = bias[o];  acc += weight[o][c][kh][kw] * inp[...]
// through weight and bias (dbias may be null).
template <class T>
void conv2d_reference_backward_weight(T* dweight, T* dbias, const T* dout, const T* inp,
                                      const kernels::ConvGeometry& g) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t o = 0; o < g.OC; ++o)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          const T d = dout[((n * g.OC + o) * g.OH + oh) * g.OW + ow];
          if (dbias) dbias[o] += d;
          for (int64_t c = 0; c < g.C; ++c)
            for (int64_t kh = 0; kh < g.KH; ++kh)
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                const int64_t ih = oh * g.stride_h - g.pad_top + kh;
                const int64_t iw = ow * g.stride_w - g.pad_left + kw;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                dweight[((o * g.C + c) * g.KH + kh) * g.KW + kw] +=
                    d * inp[((n * g.C + c) * g.H + ih) * g.W + iw];
              }
        }
}

}  // namespace nst
