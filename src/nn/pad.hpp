// Reflection padding: a border mirrored out of the picture itself, so that a
// convolution near the edge sees picture-like values instead of zeros (the
// zero border is what makes a trained style network paint a frame and place
// blots relative to the edge; Johnson et al.'s own code pads this way).
//
//   out[n][c][i][j] = inp[n][c][r(i - top, H)][r(j - left, W)]
//   r(k, n) mirrors k into 0..n-1 without repeating the edge (numpy "reflect":
//   -1 -> 1, n -> n - 2), again and again for pads wider than the picture
//   (period 2(n - 1)); a 1-pixel side repeats its one value.
//
// Shapes: inp [N][C][H][W], out [N][C][H + top + bottom][W + left + right].
// Backward: each input pixel collects the gradients of all its copies.
#pragma once

#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct Pad2d {
  int64_t top = 0, bottom = 0, left = 0, right = 0;
};

// The mirrored position of k in 0..n-1 (n >= 1).
inline int64_t reflect_index(int64_t k, int64_t n) {
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);
  k %= period;
  if (k < 0) k += period;
  return k < n ? k : period - k;
}

Shape reflect_pad_shape(const Shape& inp, const Pad2d& p);
// out = pad(inp); out must have reflect_pad_shape(inp.shape(), p).
void reflect_pad_forward(Tensor& out, const Tensor& inp, const Pad2d& p);
// dinp += the copies' gradients gathered from dout.
void reflect_pad_backward(Tensor& dinp, const Tensor& dout, const Pad2d& p);

Var reflect_pad(Tape& tape, const Var& x, const Pad2d& p);

// ---- Reference: plain loops over `planes` H x W planes, any scalar type ----

// Calls f(out index, inp index) for every output element, row by row.
template <class F>
void reflect_pad_reference_each(int64_t planes, int64_t H, int64_t W, const Pad2d& p, F f) {
  const int64_t Ho = H + p.top + p.bottom, Wo = W + p.left + p.right;
  for (int64_t q = 0; q < planes; ++q)
    for (int64_t i = 0; i < Ho; ++i)
      for (int64_t j = 0; j < Wo; ++j)
        f((q * Ho + i) * Wo + j,
          (q * H + reflect_index(i - p.top, H)) * W + reflect_index(j - p.left, W));
}

template <class T>
void reflect_pad_reference_forward(T* out, const T* inp, int64_t planes, int64_t H, int64_t W,
                                   const Pad2d& p) {
  reflect_pad_reference_each(planes, H, W, p, [&](int64_t o, int64_t i) { out[o] = inp[i]; });
}

template <class T>
void reflect_pad_reference_backward(T* dinp, const T* dout, int64_t planes, int64_t H, int64_t W,
                                    const Pad2d& p) {
  reflect_pad_reference_each(planes, H, W, p, [&](int64_t o, int64_t i) { dinp[i] += dout[o]; });
}

}  // namespace nst
