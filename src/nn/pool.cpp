#include "nn/pool.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include "nn/kernels/parallel.hpp"
#include "nn/kernels/pool_kernel.hpp"
#include "tensor/check.hpp"

namespace nst {

Pool2dParams Pool2dParams::square(int64_t kernel, int64_t stride) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  return p;
}

Pool2dGeometry pool2d_geometry(const char* op, const Shape& inp, const Pool2dParams& p) {
  NST_CHECK(inp.rank() == 4, op, ": input ", inp.to_string(), " must be [N, C, H, W]");
  NST_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1 && p.stride_h >= 1 && p.stride_w >= 1, op,
            ": kernel ", p.kernel_h, "x", p.kernel_w, " and stride ", p.stride_h, "x", p.stride_w,
            " must be at least 1");
  NST_CHECK(p.kernel_h <= inp[2] && p.kernel_w <= inp[3], op, ": kernel ", p.kernel_h, "x",
            p.kernel_w, " is bigger than the input ", inp.to_string());
  Pool2dGeometry g;
  g.N = inp[0], g.C = inp[1], g.H = inp[2], g.W = inp[3];
  g.KH = p.kernel_h, g.KW = p.kernel_w;
  g.stride_h = p.stride_h, g.stride_w = p.stride_w;
  g.OH = (g.H - g.KH) / g.stride_h + 1;
  g.OW = (g.W - g.KW) / g.stride_w + 1;
  return g;
}

Shape pool2d_output_shape(const Shape& inp, const Pool2dParams& p) {
  const Pool2dGeometry g = pool2d_geometry("pool2d", inp, p);
  return Shape{g.N, g.C, g.OH, g.OW};
}

namespace {

void check_shape(const char* op, const char* what, const Tensor& t, const Shape& want,
                 const Shape& inp) {
  NST_CHECK(t.defined() && t.shape() == want, op, ": ", what, " has shape ",
            t.defined() ? t.shape().to_string() : std::string("(undefined)"), ", expected ",
            want.to_string(), " for input ", inp.to_string());
}

// Runs fn(nc) for every plane n*C + c; one task owns whole planes.
template <class F>
void for_each_plane(const Pool2dGeometry& g, F&& fn) {
  const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, g.H * g.W));
  kernels::parallel_for(0, g.N * g.C, grain, [&](int64_t lo, int64_t hi) {
    for (int64_t nc = lo; nc < hi; ++nc) fn(nc);
  });
}

bool is_2x2_stride_2(const Pool2dGeometry& g) {
  return g.KH == 2 && g.KW == 2 && g.stride_h == 2 && g.stride_w == 2;
}

// Differentiates max_2x2_row: adds d[ow] to the pixel that won, by the same
// comparisons. Windows do not overlap, so each pixel gets at most one d; the
// losers get -0.0f, which leaves every float (even -0.0f) unchanged, so the
// loop has no branch and matches the scatter of the reference bit for bit.
void max_2x2_row_backward(float* d0, float* d1, const float* d, const float* r0, const float* r1,
                          int64_t OW) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], e = r1[2 * ow + 1];
    const bool b_wins = b > a;
    const float v1 = b_wins ? b : a;
    const bool c_wins = c > v1;
    const float v2 = c_wins ? c : v1;
    const bool e_wins = e > v2;
    const float g = d[ow];
    d1[2 * ow + 1] += e_wins ? g : -0.0f;
    d1[2 * ow] += !e_wins && c_wins ? g : -0.0f;
    d0[2 * ow + 1] += !e_wins && !c_wins && b_wins ? g : -0.0f;
    d0[2 * ow] += !e_wins && !c_wins && !b_wins ? g : -0.0f;
  }
}

}  // namespace

void max_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p, uint8_t* argmax) {
  const Pool2dGeometry g = pool2d_geometry("max_pool2d", inp.shape(), p);
  check_shape("max_pool2d", "output", out, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  NST_CHECK(out.data() != inp.data(),
            "max_pool2d: the output must not share memory with the input");
  NST_CHECK(!argmax || g.KH * g.KW <= kMaxPoolArgmaxWindow, "max_pool2d: a ", g.KH, "x", g.KW,
            " window has too many pixels for a one-byte argmax");
  const bool two_by_two = is_2x2_stride_2(g);
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp.data() + nc * g.H * g.W;
    float* dst = out.data() + nc * g.OH * g.OW;
    uint8_t* at = argmax ? argmax + nc * g.OH * g.OW : nullptr;
    if (two_by_two) {
      kernels::dispatch(kernels::MaxPool2x2Kernel{}, dst, at, plane, g.W, g.OH, g.OW);
      return;
    }
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const int64_t best = pool2d_reference_argmax(plane, g, oh, ow);
        dst[oh * g.OW + ow] = plane[best];
        if (at) {  // best = (oh*sh + kh) * W + ow*sw + kw
          const int64_t kh = best / g.W - oh * g.stride_h, kw = best % g.W - ow * g.stride_w;
          at[oh * g.OW + ow] = uint8_t(kh * g.KW + kw);
        }
      }
  });
}

void max_pool2d_backward_argmax(Tensor& dinp, const Tensor& dout, const uint8_t* argmax,
                                const Pool2dParams& p, bool accumulate) {
  NST_CHECK(dinp.defined() && argmax, "max_pool2d: backward needs an input gradient and the argmax");
  const Pool2dGeometry g = pool2d_geometry("max_pool2d", dinp.shape(), p);
  check_shape("max_pool2d", "output gradient", dout, Shape{g.N, g.C, g.OH, g.OW}, dinp.shape());
  const bool two_by_two = is_2x2_stride_2(g);
  for_each_plane(g, [&](int64_t nc) {
    const float* d = dout.data() + nc * g.OH * g.OW;
    const uint8_t* at = argmax + nc * g.OH * g.OW;
    float* dplane = dinp.data() + nc * g.H * g.W;
    if (two_by_two) {
      kernels::dispatch(kernels::MaxPool2x2BackwardKernel{}, dplane, d, at, g.W, g.OH, g.OW,
                        accumulate);
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

// Differentiates  out[oh][ow] = plane[argmax]:  the argmax is recomputed from inp.
void max_pool2d_backward(Tensor& dinp, const Tensor& dout, const Tensor& inp,
                         const Pool2dParams& p) {
  const Pool2dGeometry g = pool2d_geometry("max_pool2d", inp.shape(), p);
  check_shape("max_pool2d", "output gradient", dout, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  check_shape("max_pool2d", "input gradient", dinp, inp.shape(), inp.shape());
  const bool two_by_two = is_2x2_stride_2(g);
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp.data() + nc * g.H * g.W;
    const float* d = dout.data() + nc * g.OH * g.OW;
    float* dplane = dinp.data() + nc * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh) {
      if (two_by_two) {
        const int64_t top = 2 * oh * g.W;
        max_2x2_row_backward(dplane + top, dplane + top + g.W, d + oh * g.OW, plane + top,
                             plane + top + g.W, g.OW);
      } else {
        for (int64_t ow = 0; ow < g.OW; ++ow)
          dplane[pool2d_reference_argmax(plane, g, oh, ow)] += d[oh * g.OW + ow];
      }
    }
  });
}

void avg_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p) {
  const Pool2dGeometry g = pool2d_geometry("avg_pool2d", inp.shape(), p);
  check_shape("avg_pool2d", "output", out, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  NST_CHECK(out.data() != inp.data(),
            "avg_pool2d: the output must not share memory with the input");
  const float count = float(g.KH * g.KW);
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp.data() + nc * g.H * g.W;
    float* dst = out.data() + nc * g.OH * g.OW;
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

// Differentiates  out = sum / (KH*KW)  through every summed pixel.
void avg_pool2d_backward(Tensor& dinp, const Tensor& dout, const Pool2dParams& p) {
  NST_CHECK(dinp.defined(), "avg_pool2d: backward needs a defined input gradient");
  const Pool2dGeometry g = pool2d_geometry("avg_pool2d", dinp.shape(), p);
  check_shape("avg_pool2d", "output gradient", dout, Shape{g.N, g.C, g.OH, g.OW}, dinp.shape());
  const float count = float(g.KH * g.KW);
  for_each_plane(g, [&](int64_t nc) {
    const float* d = dout.data() + nc * g.OH * g.OW;
    float* dplane = dinp.data() + nc * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        const float share = d[oh * g.OW + ow] / count;
        float* corner = dplane + oh * g.stride_h * g.W + ow * g.stride_w;
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) corner[kh * g.W + kw] += share;
      }
  });
}

Var max_pool2d(Tape& tape, const Var& x, const Pool2dParams& p) {
  NST_CHECK(x.defined(), "max_pool2d: undefined input");
  const Pool2dGeometry g = pool2d_geometry("max_pool2d", x.shape(), p);
  Tensor out = Tensor::empty({g.N, g.C, g.OH, g.OW});
  if (g.KH * g.KW > kMaxPoolArgmaxWindow) {  // keeps the input, recomputes the argmax
    max_pool2d_forward(out, x.value(), p);
    return tape.record("max_pool2d", out, {x}, [xv = x, inp = x.value(), p](const Tensor& dout) mutable {
      max_pool2d_backward(xv.grad_accumulator(), dout, inp, p);
    });
  }
  // One byte per output instead of the input: 1/16 of it for 2x2 windows.
  auto argmax = std::make_shared<std::vector<uint8_t>>(size_t(out.numel()));
  max_pool2d_forward(out, x.value(), p, argmax->data());
  return tape.record("max_pool2d", out, {x}, [xv = x, argmax, p](const Tensor& dout) mutable {
    bool accumulate = false;
    Tensor& dx = xv.grad_buffer(accumulate);
    max_pool2d_backward_argmax(dx, dout, argmax->data(), p, accumulate);
  }, {false});
}

Var avg_pool2d(Tape& tape, const Var& x, const Pool2dParams& p) {
  NST_CHECK(x.defined(), "avg_pool2d: undefined input");
  const Pool2dGeometry g = pool2d_geometry("avg_pool2d", x.shape(), p);
  Tensor out = Tensor::empty({g.N, g.C, g.OH, g.OW});
  avg_pool2d_forward(out, x.value(), p);
  return tape.record("avg_pool2d", out, {x}, [xv = x, p](const Tensor& dout) mutable {
    avg_pool2d_backward(xv.grad_accumulator(), dout, p);
  }, {false});
}

}  // namespace nst
