#include "nn/pool.hpp"

#include <memory>
#include <string>
#include <vector>

#include "tensor/check.hpp"

namespace nst {

Pool2dParams Pool2dParams::square(int64_t kernel, int64_t stride) {
  Pool2dParams p;
  p.kernel_h = p.kernel_w = kernel;
  p.stride_h = p.stride_w = stride;
  return p;
}

kernels::Pool2dGeometry pool2d_geometry(const char* op, const Shape& inp, const Pool2dParams& p) {
  NST_CHECK(inp.rank() == 4, op, ": input ", inp.to_string(), " must be [N, C, H, W]");
  NST_CHECK(p.kernel_h >= 1 && p.kernel_w >= 1 && p.stride_h >= 1 && p.stride_w >= 1, op,
            ": kernel ", p.kernel_h, "x", p.kernel_w, " and stride ", p.stride_h, "x", p.stride_w,
            " must be at least 1");
  NST_CHECK(p.kernel_h <= inp[2] && p.kernel_w <= inp[3], op, ": kernel ", p.kernel_h, "x",
            p.kernel_w, " is bigger than the input ", inp.to_string());
  kernels::Pool2dGeometry g;
  g.N = inp[0], g.C = inp[1], g.H = inp[2], g.W = inp[3];
  g.KH = p.kernel_h, g.KW = p.kernel_w;
  g.stride_h = p.stride_h, g.stride_w = p.stride_w;
  g.OH = (g.H - g.KH) / g.stride_h + 1;
  g.OW = (g.W - g.KW) / g.stride_w + 1;
  return g;
}

Shape pool2d_output_shape(const Shape& inp, const Pool2dParams& p) {
  const kernels::Pool2dGeometry g = pool2d_geometry("pool2d", inp, p);
  return Shape{g.N, g.C, g.OH, g.OW};
}

namespace {

void check_shape(const char* op, const char* what, const Tensor& t, const Shape& want,
                 const Shape& inp) {
  NST_CHECK(t.defined() && t.shape() == want, op, ": ", what, " has shape ",
            t.defined() ? t.shape().to_string() : std::string("(undefined)"), ", expected ",
            want.to_string(), " for input ", inp.to_string());
}

}  // namespace

// out[oh][ow] = the first maximum of its window (and, with argmax, where it was).
void max_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p, uint8_t* argmax) {
  const kernels::Pool2dGeometry g = pool2d_geometry("max_pool2d", inp.shape(), p);
  check_shape("max_pool2d", "output", out, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  NST_CHECK(out.data() != inp.data(),
            "max_pool2d: the output must not share memory with the input");
  NST_CHECK(!argmax || g.KH * g.KW <= kMaxPoolArgmaxWindow, "max_pool2d: a ", g.KH, "x", g.KW,
            " window has too many pixels for a one-byte argmax");
  kernels::max_pool2d_forward(out.data(), argmax, inp.data(), g);
}

// Differentiates  out[oh][ow] = plane[argmax]  with the argmax the forward kept.
void max_pool2d_backward_argmax(Tensor& dinp, const Tensor& dout, const uint8_t* argmax,
                                const Pool2dParams& p, bool accumulate) {
  NST_CHECK(dinp.defined() && argmax, "max_pool2d: backward needs an input gradient and the argmax");
  const kernels::Pool2dGeometry g = pool2d_geometry("max_pool2d", dinp.shape(), p);
  check_shape("max_pool2d", "output gradient", dout, Shape{g.N, g.C, g.OH, g.OW}, dinp.shape());
  kernels::max_pool2d_backward_argmax(dinp.data(), dout.data(), argmax, g, accumulate);
}

// Differentiates  out[oh][ow] = plane[argmax]:  the argmax is recomputed from inp.
void max_pool2d_backward(Tensor& dinp, const Tensor& dout, const Tensor& inp,
                         const Pool2dParams& p) {
  const kernels::Pool2dGeometry g = pool2d_geometry("max_pool2d", inp.shape(), p);
  check_shape("max_pool2d", "output gradient", dout, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  check_shape("max_pool2d", "input gradient", dinp, inp.shape(), inp.shape());
  kernels::max_pool2d_backward(dinp.data(), dout.data(), inp.data(), g);
}

// out[oh][ow] = (sum over the window) / (KH*KW)
void avg_pool2d_forward(Tensor& out, const Tensor& inp, const Pool2dParams& p) {
  const kernels::Pool2dGeometry g = pool2d_geometry("avg_pool2d", inp.shape(), p);
  check_shape("avg_pool2d", "output", out, Shape{g.N, g.C, g.OH, g.OW}, inp.shape());
  NST_CHECK(out.data() != inp.data(),
            "avg_pool2d: the output must not share memory with the input");
  kernels::avg_pool2d_forward(out.data(), inp.data(), g);
}

// Differentiates  out = sum / (KH*KW)  through every summed pixel.
void avg_pool2d_backward(Tensor& dinp, const Tensor& dout, const Pool2dParams& p) {
  NST_CHECK(dinp.defined(), "avg_pool2d: backward needs a defined input gradient");
  const kernels::Pool2dGeometry g = pool2d_geometry("avg_pool2d", dinp.shape(), p);
  check_shape("avg_pool2d", "output gradient", dout, Shape{g.N, g.C, g.OH, g.OW}, dinp.shape());
  kernels::avg_pool2d_backward(dinp.data(), dout.data(), g);
}

Var max_pool2d(Tape& tape, const Var& x, const Pool2dParams& p) {
  NST_CHECK(x.defined(), "max_pool2d: undefined input");
  const kernels::Pool2dGeometry g = pool2d_geometry("max_pool2d", x.shape(), p);
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
  const kernels::Pool2dGeometry g = pool2d_geometry("avg_pool2d", x.shape(), p);
  Tensor out = Tensor::empty({g.N, g.C, g.OH, g.OW});
  avg_pool2d_forward(out, x.value(), p);
  return tape.record("avg_pool2d", out, {x}, [xv = x, p](const Tensor& dout) mutable {
    avg_pool2d_backward(xv.grad_accumulator(), dout, p);
  }, {false});
}

}  // namespace nst
