// Total variation: the sum of squared differences of neighbouring pixels, a
// smoothness prior on the generated image (Mahendran & Vedaldi 2015, with
// beta = 2; no mean, no square root):
//
//   out[0] = sum_{n,c,h,w} (x[h, w+1] - x[h, w])^2 + (x[h+1, w] - x[h, w])^2
//
//   x: [N, C, H, W]  ->  out: [1]
//
// The fast path gives each (n, c) plane to one task: the forward keeps one
// double partial per plane, added in plane order; the backward gathers, for
// each pixel, the differences it takes part in.
#pragma once

#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

void total_variation_forward(Tensor& out, const Tensor& x);
// from `out = sum (x[h,w+1] - x[h,w])^2 + (x[h+1,w] - x[h,w])^2`:
//   dx[h,w] += 2 dout ((x[h,w] - x[h,w-1]) - (x[h,w+1] - x[h,w])
//                      + (x[h,w] - x[h-1,w]) - (x[h+1,w] - x[h,w]))   (missing neighbours: 0)
void total_variation_backward(Tensor& dx, const Tensor& dout, const Tensor& x);

// Reference over P = N*C planes of H x W, any scalar type: returns the loss.
template <class T>
T total_variation_reference_forward(const T* x, int64_t P, int64_t H, int64_t W) {
  T sum = 0;
  for (int64_t p = 0; p < P; ++p)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        const T* px = x + (p * H + h) * W + w;
        if (w + 1 < W) sum += (px[1] - px[0]) * (px[1] - px[0]);
        if (h + 1 < H) sum += (px[W] - px[0]) * (px[W] - px[0]);
      }
  return sum;
}
// Scatters each difference's gradient to its two pixels.
template <class T>
void total_variation_reference_backward(T* dx, T dout, const T* x, int64_t P, int64_t H,
                                        int64_t W) {
  for (int64_t p = 0; p < P; ++p)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t w = 0; w < W; ++w) {
        const int64_t i = (p * H + h) * W + w;
        if (w + 1 < W) {
          const T g = T(2) * dout * (x[i + 1] - x[i]);
          dx[i + 1] += g;
          dx[i] -= g;
        }
        if (h + 1 < H) {
          const T g = T(2) * dout * (x[i + W] - x[i]);
          dx[i + W] += g;
          dx[i] -= g;
        }
      }
}

Var total_variation(Tape& tape, const Var& x);

}  // namespace nst
