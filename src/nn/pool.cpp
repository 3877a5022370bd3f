#include "nn/pool.hpp"

#include <algorithm>

#include "nn/kernels/parallel.hpp"
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

// First maximum of a 2x2 window in scan order (a b / c d): its column offset
// (0 or 1) and row (0 or 1), packed as row * W + column.
inline int64_t argmax_2x2(const float* r0, const float* r1, int64_t W) {
  int64_t best = 0;
  float v = r0[0];
  if (r0[1] > v) best = 1, v = r0[1];
  if (r1[0] > v) best = W, v = r1[0];
  if (r1[1] > v) best = W + 1;
  return best;
}

}  // namespace

void max_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p) {
  const Pool2dGeometry g = pool2d_geometry("max_pool2d", inp.shape(), p);
  check_shape("max_pool2d", "output", out, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp.data() + nc * g.H * g.W;
    float* dst = out.data() + nc * g.OH * g.OW;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        if (is_2x2_stride_2(g)) {
          const float* r0 = plane + 2 * oh * g.W + 2 * ow;
          dst[oh * g.OW + ow] = r0[argmax_2x2(r0, r0 + g.W, g.W)];
        } else {
          dst[oh * g.OW + ow] = plane[pool2d_reference_argmax(plane, g, oh, ow)];
        }
      }
  });
}

// Differentiates  out[oh][ow] = plane[argmax]:  the argmax is recomputed from inp.
void max_pool2d_backward(Tensor& dinp, const Tensor& dout, const Tensor& inp,
                         const Pool2dParams& p) {
  const Pool2dGeometry g = pool2d_geometry("max_pool2d", inp.shape(), p);
  check_shape("max_pool2d", "output gradient", dout, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  check_shape("max_pool2d", "input gradient", dinp, inp.shape(), inp.shape());
  for_each_plane(g, [&](int64_t nc) {
    const float* plane = inp.data() + nc * g.H * g.W;
    const float* d = dout.data() + nc * g.OH * g.OW;
    float* dplane = dinp.data() + nc * g.H * g.W;
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        int64_t i;
        if (is_2x2_stride_2(g)) {
          const int64_t corner = 2 * oh * g.W + 2 * ow;
          i = corner + argmax_2x2(plane + corner, plane + corner + g.W, g.W);
        } else {
          i = pool2d_reference_argmax(plane, g, oh, ow);
        }
        dplane[i] += d[oh * g.OW + ow];
      }
  });
}

void avg_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p) {
  const Pool2dGeometry g = pool2d_geometry("avg_pool2d", inp.shape(), p);
  check_shape("avg_pool2d", "output", out, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
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
  max_pool2d_forward(out, x.value(), p);
  return tape.record("max_pool2d", out, {x}, [xv = x, p](const Tensor& dout) mutable {
    max_pool2d_backward(xv.grad_accumulator(), dout, xv.value(), p);
  });
}

Var avg_pool2d(Tape& tape, const Var& x, const Pool2dParams& p) {
  NST_CHECK(x.defined(), "avg_pool2d: undefined input");
  const Pool2dGeometry g = pool2d_geometry("avg_pool2d", x.shape(), p);
  Tensor out = Tensor::empty({g.N, g.C, g.OH, g.OW});
  avg_pool2d_forward(out, x.value(), p);
  return tape.record("avg_pool2d", out, {x}, [xv = x, p](const Tensor& dout) mutable {
    avg_pool2d_backward(xv.grad_accumulator(), dout, p);
  });
}

}  // namespace nst
