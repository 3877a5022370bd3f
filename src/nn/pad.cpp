#include "nn/pad.hpp"

#include <algorithm>
#include <vector>

#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_pad(const Shape& inp, const Pad2d& p, const char* what) {
  NST_CHECK(inp.rank() == 4 && inp[2] >= 1 && inp[3] >= 1, what,
            ": input must be [N, C, H, W] with H, W >= 1, got ", inp.to_string());
  NST_CHECK(p.top >= 0 && p.bottom >= 0 && p.left >= 0 && p.right >= 0, what,
            ": negative padding ", p.top, ", ", p.bottom, ", ", p.left, ", ", p.right);
}

// The source column of every output column of a row (same for all rows).
std::vector<int64_t> column_sources(int64_t W, const Pad2d& p) {
  std::vector<int64_t> src(size_t(W + p.left + p.right));
  for (size_t j = 0; j < src.size(); ++j) src[j] = reflect_index(int64_t(j) - p.left, W);
  return src;
}

}  // namespace

Shape reflect_pad_shape(const Shape& inp, const Pad2d& p) {
  check_pad(inp, p, "reflect_pad");
  return Shape{inp[0], inp[1], inp[2] + p.top + p.bottom, inp[3] + p.left + p.right};
}

// Row by row: the middle is one contiguous copy, the mirrored margins come from
// the column table. Planes in parallel (each writes only its own plane).
void reflect_pad_forward(Tensor& out, const Tensor& inp, const Pad2d& p) {
  const Shape want = reflect_pad_shape(inp.shape(), p);
  NST_CHECK(out.shape() == want, "reflect_pad: output ", out.shape().to_string(), " must be ",
            want.to_string());
  const int64_t H = inp.h(), W = inp.w(), Ho = want[2], Wo = want[3];
  const std::vector<int64_t> cols = column_sources(W, p);
  const float* in = inp.data();
  float* o = out.data();
  kernels::parallel_for(0, inp.n() * inp.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; ++q)
      for (int64_t i = 0; i < Ho; ++i) {
        const float* src = in + (q * H + reflect_index(i - p.top, H)) * W;
        float* dst = o + (q * Ho + i) * Wo;
        for (int64_t j = 0; j < p.left; ++j) dst[j] = src[cols[size_t(j)]];
        std::copy(src, src + W, dst + p.left);
        for (int64_t j = p.left + W; j < Wo; ++j) dst[j] = src[cols[size_t(j)]];
      }
  });
}

// Each plane gathers its own copies in the reference's order (row by row, left
// to right), so the sums are the reference's bits whatever the thread count.
void reflect_pad_backward(Tensor& dinp, const Tensor& dout, const Pad2d& p) {
  const Shape want = reflect_pad_shape(dinp.shape(), p);
  NST_CHECK(dout.shape() == want, "reflect_pad backward: gradient ", dout.shape().to_string(),
            " must be ", want.to_string());
  const int64_t H = dinp.h(), W = dinp.w(), Ho = want[2], Wo = want[3];
  const std::vector<int64_t> cols = column_sources(W, p);
  float* d = dinp.data();
  const float* g = dout.data();
  kernels::parallel_for(0, dinp.n() * dinp.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; ++q)
      for (int64_t i = 0; i < Ho; ++i) {
        float* dst = d + (q * H + reflect_index(i - p.top, H)) * W;
        const float* src = g + (q * Ho + i) * Wo;
        for (int64_t j = 0; j < p.left; ++j) dst[cols[size_t(j)]] += src[j];
        for (int64_t j = 0; j < W; ++j) dst[j] += src[p.left + j];
        for (int64_t j = p.left + W; j < Wo; ++j) dst[cols[size_t(j)]] += src[j];
      }
  });
}

Var reflect_pad(Tape& tape, const Var& x, const Pad2d& p) {
  NST_CHECK(x.defined() && x.has_value(), "reflect_pad: undefined input");
  Tensor out = Tensor::empty(reflect_pad_shape(x.shape(), p));
  reflect_pad_forward(out, x.value(), p);
  return tape.record("reflect_pad", out, {x}, [x = x, p](const Tensor& dout) mutable {
    reflect_pad_backward(x.grad_accumulator(), dout, p);
  }, {false});
}

}  // namespace nst
