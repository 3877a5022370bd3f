// Nearest-neighbour upsampling by an integer factor: every pixel becomes an
// s x s block. Followed by a stride-1 convolution it is the "resize-convolution"
// (Odena, Dumoulin & Olah 2016, "Deconvolution and checkerboard artifacts")
// that replaces a stride-s transposed convolution: every output pixel gets the
// same number of kernel taps, so no grid pattern is built into the network.
//
//   out[n][c][i][j] = inp[n][c][i / s][j / s]      (integer division)
//
// Shapes: inp [N][C][H][W], out [N][C][s H][s W].
// Backward: each input pixel collects the gradients of its s x s block.
#pragma once

#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

Shape upsample_nearest_shape(const Shape& inp, int64_t s);
void upsample_nearest_forward(Tensor& out, const Tensor& inp, int64_t s);
// dinp += the sum of each s x s block of dout.
void upsample_nearest_backward(Tensor& dinp, const Tensor& dout, int64_t s);

Var upsample_nearest(Tape& tape, const Var& x, int64_t s);

// ---- Reference: plain loops over `planes` H x W planes, any scalar type ----

// Calls f(out index, inp index) for every output element, row by row.
template <class F>
void upsample_nearest_reference_each(int64_t planes, int64_t H, int64_t W, int64_t s, F f) {
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t i = 0; i < H * s; ++i)
      for (int64_t j = 0; j < W * s; ++j) f((q * H * s + i) * W * s + j, (q * H + i / s) * W + j / s);
}

template <class T>
void upsample_nearest_reference_forward(T* out, const T* inp, int64_t planes, int64_t H,
                                        int64_t W, int64_t s) {
  upsample_nearest_reference_each(planes, H, W, s, [&](int64_t o, int64_t i) { out[o] = inp[i]; });
}

template <class T>
void upsample_nearest_reference_backward(T* dinp, const T* dout, int64_t planes, int64_t H,
                                         int64_t W, int64_t s) {
  upsample_nearest_reference_each(planes, H, W, s,
                                  [&](int64_t o, int64_t i) { dinp[i] += dout[o]; });
}

}  // namespace nst
