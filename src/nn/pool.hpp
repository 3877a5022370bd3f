// Max and average pooling, NCHW, no padding, floor output size.
//
//   OH = (H - KH) / sh + 1,  OW = (W - KW) / sw + 1
//   max_pool2d: out[n][c][oh][ow] = max over the window  inp[n][c][oh*sh + kh][ow*sw + kw]
//   avg_pool2d: out[n][c][oh][ow] = (sum over the window) / (KH*KW)
//
// Max-pool ties go to the first maximum in scan order (kh, then kw), in the
// forward and the backward alike. The backward needs only where each maximum
// was: the autograd node keeps that as one byte per output (kh * KW + kw),
// 1/16 of the input it would otherwise hold for a 2x2 window, so the network
// can release the input (in VGG, a ReLU's output that no loss reads).
// max_pool2d_backward, which recomputes the argmax from the input, is the
// reference the byte path is tested against.
//
// The *_forward / *_backward functions check the shapes and call the kernel
// layer (nn/kernels/pool.hpp: threads over planes, SIMD for VGG's 2x2 windows);
// the reference loops at the end of this file are what the tests hold them to.
#pragma once

#include <cstdint>

#include "nn/kernels/pool.hpp"
#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct Pool2dParams {
  int64_t kernel_h = 2, kernel_w = 2;
  int64_t stride_h = 2, stride_w = 2;

  static Pool2dParams square(int64_t kernel, int64_t stride);
};

// Checks the shape and params (throws nst::Error naming `op` and the shape).
kernels::Pool2dGeometry pool2d_geometry(const char* op, const Shape& inp, const Pool2dParams& p);
Shape pool2d_output_shape(const Shape& inp, const Pool2dParams& p);

// Windows of at most this many pixels have a one-byte argmax.
inline constexpr int64_t kMaxPoolArgmaxWindow = 256;

// argmax: null, or one byte per output: where (kh * KW + kw) its maximum was.
void max_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p,
                        uint8_t* argmax = nullptr);
// dinp[window pixel argmax] += dout   (argmax from max_pool2d_forward);
// accumulate = false: dinp = that, 0 elsewhere (dinp's old contents are not read)
void max_pool2d_backward_argmax(Tensor& dinp, const Tensor& dout, const uint8_t* argmax,
                                const Pool2dParams& p, bool accumulate = true);
// dinp[argmax of each window] += dout  (inp is the forward's input).
void max_pool2d_backward(Tensor& dinp, const Tensor& dout, const Tensor& inp,
                         const Pool2dParams& p);

void avg_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p);
// dinp[each window pixel] += dout / (KH*KW).
void avg_pool2d_backward(Tensor& dinp, const Tensor& dout, const Pool2dParams& p);

Var max_pool2d(Tape& tape, const Var& x, const Pool2dParams& p);
Var avg_pool2d(Tape& tape, const Var& x, const Pool2dParams& p);

// ---- Reference kernels: plain loops on raw arrays of any scalar type ----

template <class T>
void max_pool2d_reference_forward(T* out, const T* inp, const kernels::Pool2dGeometry& g) {
  for (int64_t nc = 0; nc < g.N * g.C; ++nc)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const T* plane = inp + nc * g.H * g.W;
        out[(nc * g.OH + oh) * g.OW + ow] = plane[kernels::pool2d_first_max(plane, g, oh, ow)];
      }
}

// Differentiates  out[oh][ow] = plane[argmax]  through the plane.
template <class T>
void max_pool2d_reference_backward(T* dinp, const T* dout, const T* inp,
                                   const kernels::Pool2dGeometry& g) {
  for (int64_t nc = 0; nc < g.N * g.C; ++nc)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t i = kernels::pool2d_first_max(inp + nc * g.H * g.W, g, oh, ow);
        dinp[nc * g.H * g.W + i] += dout[(nc * g.OH + oh) * g.OW + ow];
      }
}

template <class T>
void avg_pool2d_reference_forward(T* out, const T* inp, const kernels::Pool2dGeometry& g) {
  for (int64_t nc = 0; nc < g.N * g.C; ++nc)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        T sum = T(0);
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw)
            sum += inp[(nc * g.H + oh * g.stride_h + kh) * g.W + ow * g.stride_w + kw];
        out[(nc * g.OH + oh) * g.OW + ow] = sum / T(g.KH * g.KW);
      }
}

// Differentiates  out = sum / (KH*KW)  through every summed pixel.
template <class T>
void avg_pool2d_reference_backward(T* dinp, const T* dout, const kernels::Pool2dGeometry& g) {
  for (int64_t nc = 0; nc < g.N * g.C; ++nc)
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const T d = dout[(nc * g.OH + oh) * g.OW + ow] / T(g.KH * g.KW);
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw)
            dinp[(nc * g.H + oh * g.stride_h + kh) * g.W + ow * g.stride_w + kw] += d;
      }
}

}  // namespace nst
