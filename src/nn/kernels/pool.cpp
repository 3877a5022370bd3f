// Threads and loops of the pooling kernels (pool.hpp).
#include "nn/kernels/pool.hpp"

#include <algorithm>

#include "nn/kernels/parallel.hpp"
#include "nn/kernels/pool_kernel.hpp"
#include "nn/kernels/pool_rows.hpp"

namespace nst::kernels {

namespace {

// Runs fn(nc) for every plane n*C + c; one task owns whole planes.
template <class F>
void for_each_plane(const Pool2dGeometry& g, F&& fn) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.H * g.W));
  parallel_for(0, g.N * g.C, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t nc = lo; nc < hi; ++nc) fn(nc);
  });
}

bool is_2x2_stride_2(const Pool2dGeometry& g) {
  return g.KH == 2 && g.KW == 2 && g.stride_h == 2 && g.stride_w == 2;
}

}  // namespace

void max_pool2d_forward(float* out, uint8_t* argmax, const float* inp, const Pool2dGeometry& g) {
  const bool two_by_two = is_2x2_stride_2(g);
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp + nc * g.H * g.W;
    float* dst = out + nc * g.OH * g.OW;
    uint8_t* at = argmax ? argmax + nc * g.OH * g.OW : nullptr;
    if (two_by_two) {
      dispatch(MaxPool2x2Kernel{}, dst, at, plane, g.W, g.OH, g.OW);
      return;
    }
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t best = pool2d_first_max(plane, g, oh, ow);
        dst[oh * g.OW + ow] = plane[best];
        if (at) {  // best = (oh*sh + kh) * W + ow*sw + kw
          const int64_t kh = best / g.W - oh * g.stride_h, kw = best % g.W - ow * g.stride_w;
          at[oh * g.OW + ow] = uint8_t(kh * g.KW + kw);
        }
      }
  });
}

void max_pool2d_backward_argmax(float* dinp, const float* dout, const uint8_t* argmax,
                                const Pool2dGeometry& g, bool accumulate) {
  const bool two_by_two = is_2x2_stride_2(g);
  for_each_plane(g, [&](int64_t nc) {
    const float* d = dout + nc * g.OH * g.OW;
    const uint8_t* at = argmax + nc * g.OH * g.OW;
    float* dplane = dinp + nc * g.H * g.W;
    if (two_by_two) {
      dispatch(MaxPool2x2BackwardKernel{}, dplane, d, at, g.W, g.OH, g.OW, accumulate);
      if (!accumulate)  // the last row / column of an odd plane: in no window
        for (int64_t y = 0; y < g.H; ++y)
          for (int64_t x = y < 2 * g.OH ? 2 * g.OW : 0; x < g.W; ++x) dplane[y * g.W + x] = 0.0f;
      return;
    }
    if (!accumulate) std::fill(dplane, dplane + g.H * g.W, 0.0f);
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t k = at[oh * g.OW + ow];
        dplane[(oh * g.stride_h + k / g.KW) * g.W + ow * g.stride_w + k % g.KW] +=
            d[oh * g.OW + ow];
      }
  });
}

void max_pool2d_backward(float* dinp, const float* dout, const float* inp,
                         const Pool2dGeometry& g) {
  const bool two_by_two = is_2x2_stride_2(g);
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp + nc * g.H * g.W;
    const float* d = dout + nc * g.OH * g.OW;
    float* dplane = dinp + nc * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      if (two_by_two) {
        const int64_t top = 2 * oh * g.W;
        pool_detail::max_2x2_row_backward(dplane + top, dplane + top + g.W, d + oh * g.OW,
                                          plane + top, plane + top + g.W, g.OW);
      } else {
        for (int64_t ow = 0; ow < g.OW; ++ow)
          dplane[pool2d_first_max(plane, g, oh, ow)] += d[oh * g.OW + ow];
      }
    }
  });
}

void avg_pool2d_forward(float* out, const float* inp, const Pool2dGeometry& g) {
  const float count = float(g.KH * g.KW);
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp + nc * g.H * g.W;
    float* dst = out + nc * g.OH * g.OW;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      const float* top = plane + oh * g.stride_h * g.W;
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const float* corner = top + ow * g.stride_w;
        float sum = 0.0f;  // scan order kh, kw: the reference's
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) sum += corner[kh * g.W + kw];
        dst[oh * g.OW + ow] = sum / count;
      }
    }
  });
}

void avg_pool2d_backward(float* dinp, const float* dout, const Pool2dGeometry& g) {
  const float count = float(g.KH * g.KW);
  for_each_plane(g, [&](int64_t nc) {
    const float* d = dout + nc * g.OH * g.OW;
    float* dplane = dinp + nc * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const float share = d[oh * g.OW + ow] / count;
        float* corner = dplane + oh * g.stride_h * g.W + ow * g.stride_w;
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) corner[kh * g.W + kw] += share;
      }
  });
}

}  // namespace nst::kernels
