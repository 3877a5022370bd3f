// Pooling on the kernel layer: what nn/pool.cpp calls once it has checked the
// shapes (the formulas and the reference loops are in nn/pool.hpp). No xsimd
// or TBB in this header.
//
// Every function works on whole planes, one task per group of planes, so the
// bits do not depend on the thread count. 2x2, stride-2 max pooling (VGG's)
// runs MaxPool2x2Kernel / MaxPool2x2BackwardKernel (pool_kernel.hpp) at the
// active SIMD level; every other window runs plain loops. Max-pool ties go to
// the first maximum in scan order (kh, then kw), as in the reference.
#pragma once

#include <cstdint>

namespace nst::kernels {

// Sizes of one pooling: input [N][C][H][W], output [N][C][OH][OW].
struct Pool2dGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t KH = 1, KW = 1, OH = 0, OW = 0;
  int64_t stride_h = 1, stride_w = 1;
};

// Index in the plane of the first maximum of window (oh, ow), scan order kh,
// kw: the tie rule of max pooling, shared by the kernels and the reference
// loops (nn/pool.hpp), for any scalar type.
template <class T>
int64_t pool2d_first_max(const T* plane, const Pool2dGeometry& g, int64_t oh, int64_t ow) {
  int64_t best = (oh * g.stride_h) * g.W + ow * g.stride_w;
  for (int64_t kh = 0; kh < g.KH; ++kh)
    for (int64_t kw = 0; kw < g.KW; ++kw) {
      const int64_t i = (oh * g.stride_h + kh) * g.W + ow * g.stride_w + kw;
      if (plane[i] > plane[best]) best = i;
    }
  return best;
}

// out = the maximum of each window; argmax (null, or one byte per output, for
// windows of at most 256 pixels) = where it was, kh * KW + kw.
void max_pool2d_forward(float* out, uint8_t* argmax, const float* inp, const Pool2dGeometry& g);
// dinp[window pixel argmax] += dout; accumulate = false: dinp = that, 0 elsewhere
// (dinp's old contents are not read).
void max_pool2d_backward_argmax(float* dinp, const float* dout, const uint8_t* argmax,
                                const Pool2dGeometry& g, bool accumulate);
// dinp[first maximum of each window of inp] += dout (the argmax recomputed).
void max_pool2d_backward(float* dinp, const float* dout, const float* inp, const Pool2dGeometry& g);

// out = (the sum of each window, in scan order) / (KH*KW)
void avg_pool2d_forward(float* out, const float* inp, const Pool2dGeometry& g);
// dinp[each window pixel] += dout / (KH*KW)
void avg_pool2d_backward(float* dinp, const float* dout, const Pool2dGeometry& g);

}  // namespace nst::kernels
