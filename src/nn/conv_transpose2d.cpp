#include "nn/conv_transpose2d.hpp"

#include <algorithm>

#include "nn/kernels/conv_transpose.hpp"
#include "tensor/check.hpp"

namespace nst {

ConvTranspose2dParams ConvTranspose2dParams::same(int64_t kh, int64_t kw, int64_t stride) {
  NST_CHECK(kh >= 1 && kw >= 1 && stride >= 1, "conv_transpose2d: SAME needs a positive kernel ",
            "and stride, got kernel ", kh, "x", kw, ", stride ", stride);
  ConvTranspose2dParams p;
  p.stride_h = p.stride_w = stride;
  p.crop_top = std::max<int64_t>(kh - stride, 0) / 2;
  p.crop_bottom = (kh - stride) - p.crop_top;
  p.crop_left = std::max<int64_t>(kw - stride, 0) / 2;
  p.crop_right = (kw - stride) - p.crop_left;
  return p;
}

ConvTranspose2dParams ConvTranspose2dParams::torch(int64_t padding, int64_t output_padding,
                                                   int64_t stride) {
  // PyTorch requires output_padding < stride (else the extra rows would belong
  // to another input row).
  NST_CHECK(padding >= 0 && output_padding >= 0 && output_padding < stride,
            "conv_transpose2d: padding ", padding, " and output_padding ", output_padding,
            " must be >= 0 with output_padding < stride ", stride);
  ConvTranspose2dParams p;
  p.stride_h = p.stride_w = stride;
  p.crop_top = p.crop_left = padding;
  p.crop_bottom = p.crop_right = padding - output_padding;
  return p;
}

kernels::ConvGeometry conv_transpose2d_geometry(const Shape& inp, const Shape& weight,
                                                const ConvTranspose2dParams& p) {
  NST_CHECK(inp.rank() == 4 && weight.rank() == 4, "conv_transpose2d: input ", inp.to_string(),
            " must be [N, C, H, W] and weight ", weight.to_string(), " [C, OC, KH, KW]");
  NST_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "conv_transpose2d: stride ", p.stride_h, "x",
            p.stride_w, " must be at least 1");
  NST_CHECK(inp[1] == weight[0], "conv_transpose2d: input ", inp.to_string(), " has ", inp[1],
            " channels but weight ", weight.to_string(), " expects ", weight[0]);
  NST_CHECK(weight[2] >= 1 && weight[3] >= 1 && inp[2] >= 1 && inp[3] >= 1,
            "conv_transpose2d: empty input ", inp.to_string(), " or weight ", weight.to_string());
  kernels::ConvGeometry t;
  t.N = inp[0], t.C = inp[1], t.H = inp[2], t.W = inp[3];
  t.OC = weight[1], t.KH = weight[2], t.KW = weight[3];
  t.OH = (t.H - 1) * p.stride_h + t.KH - p.crop_top - p.crop_bottom;
  t.OW = (t.W - 1) * p.stride_w + t.KW - p.crop_left - p.crop_right;
  t.stride_h = p.stride_h, t.stride_w = p.stride_w;
  t.pad_top = p.crop_top, t.pad_left = p.crop_left;
  NST_CHECK(t.OH >= 1 && t.OW >= 1, "conv_transpose2d: crops (top ", p.crop_top, ", bottom ",
            p.crop_bottom, ", left ", p.crop_left, ", right ", p.crop_right,
            ") leave no output for input ", inp.to_string(), " and weight ", weight.to_string());
  return t;
}

Shape conv_transpose2d_output_shape(const Shape& inp, const Shape& weight,
                                    const ConvTranspose2dParams& p) {
  const kernels::ConvGeometry t = conv_transpose2d_geometry(inp, weight, p);
  return Shape{t.N, t.OC, t.OH, t.OW};
}

namespace {

// The conv2d this is the adjoint of: it maps out [N][OC][OH][OW] to
// inp [N][C][H][W] with weight [C][OC][KH][KW] as OIHW.
kernels::ConvGeometry adjoint_conv(const kernels::ConvGeometry& t) {
  kernels::ConvGeometry g = t;
  g.C = t.OC, g.H = t.OH, g.W = t.OW;
  g.OC = t.C, g.OH = t.H, g.OW = t.W;
  return g;
}

void check_tensor_shape(const char* what, const Tensor& t, const Shape& want, const Shape& inp,
                        const Shape& weight) {
  NST_CHECK(t.defined() && t.shape() == want, "conv_transpose2d: ", what, " has shape ",
            t.defined() ? t.shape().to_string() : std::string("(undefined)"), ", expected ",
            want.to_string(), " for input ", inp.to_string(), " and weight ", weight.to_string());
}

}  // namespace

// out = bias + the sum over taps, one stride phase of the output at a time
// (nn/kernels/conv_transpose.hpp).
void conv_transpose2d_forward(Tensor& out, const Tensor& inp, const Tensor& weight,
                              const Tensor* bias, const ConvTranspose2dParams& p) {
  const kernels::ConvGeometry t = conv_transpose2d_geometry(inp.shape(), weight.shape(), p);
  check_tensor_shape("output", out, Shape{t.N, t.OC, t.OH, t.OW}, inp.shape(), weight.shape());
  if (bias) check_tensor_shape("bias", *bias, Shape{t.OC}, inp.shape(), weight.shape());
  NST_CHECK(out.data() != inp.data(),
            "conv_transpose2d: the output must not share memory with the input");
  kernels::conv_transpose_forward(out.data(), inp.data(), weight.data(),
                                  bias ? bias->data() : nullptr, t);
}

// Differentiates  out += col2im(weightᵀ * inp)  through inp: dinp += weight * im2col(dout),
// the forward of the adjoint conv.
void conv_transpose2d_backward_input(Tensor& dinp, const Tensor& dout, const Tensor& weight,
                                     const ConvTranspose2dParams& p) {
  NST_CHECK(dinp.defined(), "conv_transpose2d: backward needs a defined input gradient");
  const kernels::ConvGeometry t = conv_transpose2d_geometry(dinp.shape(), weight.shape(), p);
  check_tensor_shape("output gradient", dout, Shape{t.N, t.OC, t.OH, t.OW}, dinp.shape(),
                     weight.shape());
  kernels::conv_gemm_forward(dinp.data(), dout.data(), weight.data(), nullptr, false,
                             adjoint_conv(t), /*accumulate=*/true);
}

// Differentiates  out += col2im(weightᵀ * inp) + bias  through weight and bias:
// the adjoint conv's weight gradient with its input = dout and its dout = inp.
void conv_transpose2d_backward_weight(Tensor& dweight, Tensor* dbias, const Tensor& dout,
                                      const Tensor& inp, const ConvTranspose2dParams& p) {
  NST_CHECK(dweight.defined(), "conv_transpose2d: backward needs a defined weight gradient");
  const kernels::ConvGeometry t = conv_transpose2d_geometry(inp.shape(), dweight.shape(), p);
  check_tensor_shape("output gradient", dout, Shape{t.N, t.OC, t.OH, t.OW}, inp.shape(),
                     dweight.shape());
  if (dbias) check_tensor_shape("bias gradient", *dbias, Shape{t.OC}, inp.shape(), dweight.shape());
  kernels::conv_gemm_backward_weight(dweight.data(), nullptr, inp.data(), dout.data(),
                                     adjoint_conv(t));
  if (dbias) conv_transpose2d_backward_bias(*dbias, dout);
}

// Differentiates  out[n][o][oy][ox] = bias[o] + ...
void conv_transpose2d_backward_bias(Tensor& dbias, const Tensor& dout) {
  NST_CHECK(dout.rank() == 4 && dbias.defined() && dbias.shape() == Shape{dout.dim(1)},
            "conv_transpose2d: bias gradient ",
            dbias.defined() ? dbias.shape().to_string() : "(undefined)",
            " does not match output gradient ", dout.shape().to_string());
  kernels::conv_gemm_backward_bias(dbias.data(), dout.data(), dout.dim(0), dout.dim(1),
                                   dout.dim(2) * dout.dim(3));
}

Var conv_transpose2d(Tape& tape, const Var& x, const Var& weight, const Var& bias,
                     const ConvTranspose2dParams& p) {
  NST_CHECK(x.defined() && weight.defined(), "conv_transpose2d: input and weight must be defined");
  Tensor out = Tensor::empty(conv_transpose2d_output_shape(x.shape(), weight.shape(), p));
  conv_transpose2d_forward(out, x.value(), weight.value(), bias.defined() ? &bias.value() : nullptr,
                           p);
  // Captures copies of the input Vars (not the result: that would be a cycle).
  auto backward = [xv = x, wv = weight, bv = bias, p](const Tensor& dout) mutable {
    if (xv.requires_grad())
      conv_transpose2d_backward_input(xv.grad_accumulator(), dout, wv.value(), p);
    Tensor* dbias = bv.defined() && bv.requires_grad() ? &bv.grad_accumulator() : nullptr;
    if (wv.requires_grad())
      conv_transpose2d_backward_weight(wv.grad_accumulator(), dbias, dout, xv.value(), p);
    else if (dbias)
      conv_transpose2d_backward_bias(*dbias, dout);
  };
  if (bias.defined())
    return tape.record("conv_transpose2d", out, {x, weight, bias}, std::move(backward));
  return tape.record("conv_transpose2d", out, {x, weight}, std::move(backward));
}

}  // namespace nst
