#include "nn/conv2d.hpp"

#include "nn/kernels/conv_direct.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/winograd.hpp"

#include <algorithm>
#include <functional>
#include <utility>

#include "nn/relu.hpp"
#include "tensor/check.hpp"

namespace nst {

Conv2dParams Conv2dParams::same(int64_t kh, int64_t kw, int64_t stride, int64_t H, int64_t W) {
  NST_CHECK(kh >= 1 && kw >= 1 && stride >= 1 && H >= 1 && W >= 1,
            "conv2d: SAME padding needs a positive kernel, stride and size, got kernel ", kh, "x",
            kw, ", stride ", stride, ", input ", H, "x", W);
  // pad_total = max((ceil(H / s) - 1) * s + k - H, 0); top gets the smaller half.
  const int64_t total_h = std::max<int64_t>(((H + stride - 1) / stride - 1) * stride + kh - H, 0);
  const int64_t total_w = std::max<int64_t>(((W + stride - 1) / stride - 1) * stride + kw - W, 0);
  Conv2dParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_top = total_h / 2;
  p.pad_bottom = total_h - p.pad_top;
  p.pad_left = total_w / 2;
  p.pad_right = total_w - p.pad_left;
  return p;
}

Conv2dParams Conv2dParams::symmetric(int64_t pad, int64_t stride) {
  Conv2dParams p;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  return p;
}

kernels::ConvGeometry conv2d_geometry(const Shape& inp, const Shape& weight,
                                      const Conv2dParams& p) {
  NST_CHECK(inp.rank() == 4 && weight.rank() == 4, "conv2d: input ", inp.to_string(),
            " must be [N, C, H, W] and weight ", weight.to_string(), " [OC, C, KH, KW]");
  NST_CHECK(p.stride_h >= 1 && p.stride_w >= 1, "conv2d: stride ", p.stride_h, "x", p.stride_w,
            " must be at least 1");
  NST_CHECK(p.pad_top >= 0 && p.pad_bottom >= 0 && p.pad_left >= 0 && p.pad_right >= 0,
            "conv2d: padding (top ", p.pad_top, ", bottom ", p.pad_bottom, ", left ", p.pad_left,
            ", right ", p.pad_right, ") must not be negative");
  NST_CHECK(inp[1] == weight[1], "conv2d: input ", inp.to_string(), " has ", inp[1],
            " channels but weight ", weight.to_string(), " expects ", weight[1]);
  const int64_t padded_h = inp[2] + p.pad_top + p.pad_bottom;
  const int64_t padded_w = inp[3] + p.pad_left + p.pad_right;
  NST_CHECK(weight[2] >= 1 && weight[3] >= 1 && weight[2] <= padded_h && weight[3] <= padded_w,
            "conv2d: kernel ", weight[2], "x", weight[3], " of weight ", weight.to_string(),
            " does not fit the padded input ", padded_h, "x", padded_w, " (input ", inp.to_string(),
            ")");
  kernels::ConvGeometry g;
  g.N = inp[0], g.C = inp[1], g.H = inp[2], g.W = inp[3];
  g.OC = weight[0], g.KH = weight[2], g.KW = weight[3];
  g.OH = (padded_h - g.KH) / p.stride_h + 1;
  g.OW = (padded_w - g.KW) / p.stride_w + 1;
  g.stride_h = p.stride_h, g.stride_w = p.stride_w;
  g.pad_top = p.pad_top, g.pad_left = p.pad_left;
  return g;
}

Shape conv2d_output_shape(const Shape& inp, const Shape& weight, const Conv2dParams& p) {
  const kernels::ConvGeometry g = conv2d_geometry(inp, weight, p);
  return Shape{g.N, g.OC, g.OH, g.OW};
}

namespace {

void check_tensor_shape(const char* what, const Tensor& t, const Shape& want, const Shape& inp,
                        const Shape& weight) {
  NST_CHECK(t.defined() && t.shape() == want, "conv2d: ", what, " has shape ",
            t.defined() ? t.shape().to_string() : std::string("(undefined)"), ", expected ",
            want.to_string(), " for input ", inp.to_string(), " and weight ", weight.to_string());
}

}  // namespace

void conv2d_forward(Tensor& out, const Tensor& inp, const Tensor& weight, const Tensor* bias,
                    const Conv2dParams& p, Conv2dEpilogue epilogue) {
  const kernels::ConvGeometry g = conv2d_geometry(inp.shape(), weight.shape(), p);
  check_tensor_shape("output", out, Shape{g.N, g.OC, g.OH, g.OW}, inp.shape(), weight.shape());
  if (bias) check_tensor_shape("bias", *bias, Shape{g.OC}, inp.shape(), weight.shape());
  NST_CHECK(out.data() != inp.data(), "conv2d: the output must not share memory with the input");
  const bool relu = epilogue == Conv2dEpilogue::relu;
  const float* b = bias ? bias->data() : nullptr;
  if (kernels::winograd_applies(g))
    kernels::winograd_forward(out.data(), inp.data(), weight.data(), b, relu, g);
  else if (kernels::conv_direct_applies(g))
    kernels::conv_direct_forward(out.data(), kernels::ConvOutputLayout::dense(g), inp.data(),
                                 weight.data(), b, relu, g);
  else
    kernels::conv_gemm_forward(out.data(), inp.data(), weight.data(), b, relu, g);
}

// Differentiates  out = weight * im2col(inp)  through inp.
void conv2d_backward_input(Tensor& dinp, const Tensor& dout, const Tensor& weight,
                           const Conv2dParams& p, bool accumulate) {
  NST_CHECK(dinp.defined(), "conv2d: backward needs a defined input gradient");
  const kernels::ConvGeometry g = conv2d_geometry(dinp.shape(), weight.shape(), p);
  check_tensor_shape("output gradient", dout, Shape{g.N, g.OC, g.OH, g.OW}, dinp.shape(),
                     weight.shape());
  if (kernels::winograd_applies(g)) {
    kernels::winograd_backward_input(dinp.data(), dout.data(), weight.data(), g, accumulate);
    return;
  }
  if (!accumulate) dinp.fill(0.0f);  // col2im adds overlapping windows
  kernels::conv_gemm_backward_input(dinp.data(), dout.data(), weight.data(), g);
}

// Differentiates  out = weight * im2col(inp) + bias  through weight and bias.
void conv2d_backward_weight(Tensor& dweight, Tensor* dbias, const Tensor& dout, const Tensor& inp,
                            const Conv2dParams& p) {
  NST_CHECK(dweight.defined(), "conv2d: backward needs a defined weight gradient");
  const kernels::ConvGeometry g = conv2d_geometry(inp.shape(), dweight.shape(), p);
  check_tensor_shape("output gradient", dout, Shape{g.N, g.OC, g.OH, g.OW}, inp.shape(),
                     dweight.shape());
  if (dbias) check_tensor_shape("bias gradient", *dbias, Shape{g.OC}, inp.shape(), dweight.shape());
  kernels::conv_gemm_backward_weight(dweight.data(), dbias ? dbias->data() : nullptr, dout.data(),
                                     inp.data(), g);
}

// Differentiates  out[n][o][oh][ow] += bias[o].
void conv2d_backward_bias(Tensor& dbias, const Tensor& dout) {
  NST_CHECK(dout.rank() == 4 && dbias.defined() && dbias.shape() == Shape{dout.dim(1)},
            "conv2d: bias gradient ", dbias.defined() ? dbias.shape().to_string() : "(undefined)",
            " does not match output gradient ", dout.shape().to_string());
  kernels::conv_gemm_backward_bias(dbias.data(), dout.data(), dout.dim(0), dout.dim(1),
                                   dout.dim(2) * dout.dim(3));
}

namespace {

// The gradients of  out = conv2d(x, weight) + bias  for every input that needs one.
void conv2d_backward_vars(Var& x, Var& weight, Var& bias, const Tensor& dout,
                          const Conv2dParams& p) {
  if (x.requires_grad()) {
    bool accumulate = false;
    Tensor& dx = x.grad_buffer(accumulate);
    conv2d_backward_input(dx, dout, weight.value(), p, accumulate);
  }
  Tensor* dbias = bias.defined() && bias.requires_grad() ? &bias.grad_accumulator() : nullptr;
  if (weight.requires_grad()) {
    NST_CHECK(x.has_value(), "conv2d: the weight gradient needs the input, which was released");
    conv2d_backward_weight(weight.grad_accumulator(), dbias, dout, x.value(), p);
  }
  else if (dbias)
    conv2d_backward_bias(*dbias, dout);
}

Var record_conv(Tape& tape, const char* op, const Tensor& out, const Var& x, const Var& weight,
                const Var& bias, std::function<void(const Tensor&)> backward) {
  // The input gradient reads the weight; the weight gradient reads x.
  const bool reads_x = weight.requires_grad();
  if (bias.defined())
    return tape.record(op, out, {x, weight, bias}, std::move(backward), {reads_x, true, false});
  return tape.record(op, out, {x, weight}, std::move(backward), {reads_x, true});
}

}  // namespace

Var conv2d(Tape& tape, const Var& x, const Var& weight, const Var& bias, const Conv2dParams& p) {
  NST_CHECK(x.defined() && weight.defined(), "conv2d: input and weight must be defined");
  Tensor out = Tensor::empty(conv2d_output_shape(x.shape(), weight.shape(), p));
  conv2d_forward(out, x.value(), weight.value(), bias.defined() ? &bias.value() : nullptr, p);
  // Captures copies of the input Vars (not the result: that would be a cycle).
  auto backward = [xv = x, wv = weight, bv = bias, p](const Tensor& dout) mutable {
    conv2d_backward_vars(xv, wv, bv, dout, p);
  };
  return record_conv(tape, "conv2d", out, x, weight, bias, std::move(backward));
}

Var conv2d_relu(Tape& tape, const Var& x, const Var& weight, const Var& bias,
                const Conv2dParams& p) {
  NST_CHECK(x.defined() && weight.defined(), "conv2d_relu: input and weight must be defined");
  Tensor out = Tensor::empty(conv2d_output_shape(x.shape(), weight.shape(), p));
  conv2d_forward(out, x.value(), weight.value(), bias.defined() ? &bias.value() : nullptr, p,
                 Conv2dEpilogue::relu);
  // The ReLU's backward needs only where out > 0: one bit per element.
  auto backward = [xv = x, wv = weight, bv = bias, p, mask = ReluMask(out)](const Tensor& dout) mutable {
    // from  out = max(conv2d(x) + bias, 0):  dconv = dout * (out > 0), written
    // over dout, which the tape releases after this backward.
    Tensor dconv = dout;
    mask.apply(dconv);
    conv2d_backward_vars(xv, wv, bv, dconv, p);
  };
  return record_conv(tape, "conv2d_relu", out, x, weight, bias, std::move(backward));
}

}  // namespace nst
