// conv_transpose2d: the adjoint of conv2d ("deconvolution"), for decoders.
//
// Shapes: inp [N][C][H][W], weight [C][OC][KH][KW] (PyTorch's layout), bias [OC],
// out [N][OC][OH][OW]. Each input pixel scatters a weighted kernel:
//
//   full[n][o][ih*sh + kh][iw*sw + kw] += inp[n][c][ih][iw] * weight[c][o][kh][kw]
//   out[n][o][oy][ox] = bias[o] + full[n][o][oy + crop_top][ox + crop_left]
//
// full is ((H-1)*sh + KH) x ((W-1)*sw + KW); the crops remove rows / columns at
// each side (a negative crop adds zero rows instead):
//   OH = (H-1)*sh + KH - crop_top - crop_bottom,  likewise OW.
// Equivalently, out is the input gradient of conv2d with weight [C][OC][KH][KW]
// read as OIHW, stride s and padding (crop_top, crop_bottom, crop_left,
// crop_right), applied to an image of size OH x OW: the backward passes are
// computed that way (nn/kernels/conv_gemm.hpp). The forward runs by output
// phases, s_h*s_w stride-1 convolutions of the input, each output element
// written once (nn/kernels/conv_transpose.hpp).
#pragma once

#include <cstdint>

#include "nn/kernels/conv_gemm.hpp"
#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct ConvTranspose2dParams {
  int64_t stride_h = 1, stride_w = 1;
  int64_t crop_top = 0, crop_bottom = 0, crop_left = 0, crop_right = 0;

  // TensorFlow conv2d_transpose with padding "SAME": OH = H * stride. It is the
  // gradient of the SAME conv2d of an OH x OW image, whose padding total is
  // max(k - s, 0) with the odd pixel at the bottom / right; so crop_top =
  // total / 2 and crop_bottom = (k - s) - crop_top (negative when k < s).
  // k = 3, s = 2: crop 0 at the top, 1 at the bottom: rows 0..2H-1 of the
  // (2H+1)-row full result.
  static ConvTranspose2dParams same(int64_t kh, int64_t kw, int64_t stride);
  // PyTorch ConvTranspose2d(stride, padding, output_padding):
  // OH = (H-1)*s - 2*padding + K + output_padding, i.e. crop padding at the top
  // and padding - output_padding at the bottom.
  static ConvTranspose2dParams torch(int64_t padding, int64_t output_padding, int64_t stride);
};

// Checks the shapes and params (throws nst::Error naming conv_transpose2d and
// the shapes) and returns the sizes {N, C, H, W, OC, KH, KW, OH, OW, stride_h,
// stride_w, pad_top = crop_top, pad_left = crop_left}.
kernels::ConvGeometry conv_transpose2d_geometry(const Shape& inp, const Shape& weight,
                                                const ConvTranspose2dParams& p);
Shape conv_transpose2d_output_shape(const Shape& inp, const Shape& weight,
                                    const ConvTranspose2dParams& p);

// out = conv_transpose2d(inp, weight) + bias (bias may be null).
void conv_transpose2d_forward(Tensor& out, const Tensor& inp, const Tensor& weight,
                              const Tensor* bias, const ConvTranspose2dParams& p);
// dinp += ..., which is conv2d(dout, weight as OIHW) with the same stride / padding.
void conv_transpose2d_backward_input(Tensor& dinp, const Tensor& dout, const Tensor& weight,
                                     const ConvTranspose2dParams& p);
// dweight += ..., dbias += sum of dout over n, oy, ox (dbias may be null).
void conv_transpose2d_backward_weight(Tensor& dweight, Tensor* dbias, const Tensor& dout,
                                      const Tensor& inp, const ConvTranspose2dParams& p);
// dbias += sum of dout over n, oy, ox.
void conv_transpose2d_backward_bias(Tensor& dbias, const Tensor& dout);

// Autograd: bias may be an undefined Var; only inputs that need it get a gradient.
Var conv_transpose2d(Tape& tape, const Var& x, const Var& weight, const Var& bias,
                     const ConvTranspose2dParams& p);

// ---- Reference kernels: plain loops on raw arrays of any scalar type ----
// t = conv_transpose2d_geometry(...): pad_top / pad_left hold the crops.

template <class T>
void conv_transpose2d_reference_forward(T* out, const T* inp, const T* weight, const T* bias,
                                        const kernels::ConvGeometry& t) {
  for (int64_t n = 0; n < t.N; ++n)
    for (int64_t o = 0; o < t.OC; ++o)
      for (int64_t i = 0; i < t.OH * t.OW; ++i)
        out[(n * t.OC + o) * t.OH * t.OW + i] = bias ? bias[o] : T(0);
  for (int64_t n = 0; n < t.N; ++n)
    for (int64_t c = 0; c < t.C; ++c)
      for (int64_t ih = 0; ih < t.H; ++ih)
        for (int64_t iw = 0; iw < t.W; ++iw)
          for (int64_t o = 0; o < t.OC; ++o)
            for (int64_t kh = 0; kh < t.KH; ++kh)
              for (int64_t kw = 0; kw < t.KW; ++kw) {
                const int64_t oy = ih * t.stride_h + kh - t.pad_top;
                const int64_t ox = iw * t.stride_w + kw - t.pad_left;
                if (oy < 0 || oy >= t.OH || ox < 0 || ox >= t.OW) continue;
                out[((n * t.OC + o) * t.OH + oy) * t.OW + ox] +=
                    inp[((n * t.C + c) * t.H + ih) * t.W + iw] *
                    weight[((c * t.OC + o) * t.KH + kh) * t.KW + kw];
              }
}

// Differentiates  out[n][o][oy][ox] += inp[n][c][ih][iw] * weight[c][o][kh][kw]
// through inp.
template <class T>
void conv_transpose2d_reference_backward_input(T* dinp, const T* dout, const T* weight,
                                               const kernels::ConvGeometry& t) {
  for (int64_t n = 0; n < t.N; ++n)
    for (int64_t c = 0; c < t.C; ++c)
      for (int64_t ih = 0; ih < t.H; ++ih)
        for (int64_t iw = 0; iw < t.W; ++iw)
          for (int64_t o = 0; o < t.OC; ++o)
            for (int64_t kh = 0; kh < t.KH; ++kh)
              for (int64_t kw = 0; kw < t.KW; ++kw) {
                const int64_t oy = ih * t.stride_h + kh - t.pad_top;
                const int64_t ox = iw * t.stride_w + kw - t.pad_left;
                if (oy < 0 || oy >= t.OH || ox < 0 || ox >= t.OW) continue;
                dinp[((n * t.C + c) * t.H + ih) * t.W + iw] +=
                    dout[((n * t.OC + o) * t.OH + oy) * t.OW + ox] *
                    weight[((c * t.OC + o) * t.KH + kh) * t.KW + kw];
              }
}

// Differentiates  out = bias[o] + ...;  out += inp[...] * weight[c][o][kh][kw]
// through weight and bias (dbias may be null).
template <class T>
void conv_transpose2d_reference_backward_weight(T* dweight, T* dbias, const T* dout, const T* inp,
                                                const kernels::ConvGeometry& t) {
  for (int64_t n = 0; n < t.N; ++n)
    for (int64_t o = 0; o < t.OC; ++o)
      for (int64_t i = 0; i < t.OH * t.OW; ++i)
        if (dbias) dbias[o] += dout[(n * t.OC + o) * t.OH * t.OW + i];
  for (int64_t n = 0; n < t.N; ++n)
    for (int64_t c = 0; c < t.C; ++c)
      for (int64_t ih = 0; ih < t.H; ++ih)
        for (int64_t iw = 0; iw < t.W; ++iw)
          for (int64_t o = 0; o < t.OC; ++o)
            for (int64_t kh = 0; kh < t.KH; ++kh)
              for (int64_t kw = 0; kw < t.KW; ++kw) {
                const int64_t oy = ih * t.stride_h + kh - t.pad_top;
                const int64_t ox = iw * t.stride_w + kw - t.pad_left;
                if (oy < 0 || oy >= t.OH || ox < 0 || ox >= t.OW) continue;
                dweight[((c * t.OC + o) * t.KH + kh) * t.KW + kw] +=
                    dout[((n * t.OC + o) * t.OH + oy) * t.OW + ox] *
                    inp[((n * t.C + c) * t.H + ih) * t.W + iw];
              }
}

}  // namespace nst
