#include "nn/upsample.hpp"

#include <algorithm>

#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst {

Shape upsample_nearest_shape(const Shape& inp, int64_t s) {
  NST_CHECK(inp.rank() == 4 && inp[2] >= 1 && inp[3] >= 1,
            "upsample: input must be [N, C, H, W] with H, W >= 1, got ", inp.to_string());
  NST_CHECK(s >= 1 && s <= 64, "upsample: factor ", s, " is not in 1..64");
  return Shape{inp[0], inp[1], inp[2] * s, inp[3] * s};
}

// One input row becomes s equal output rows: the first written pixel by pixel,
// the others copied from it. Planes in parallel.
void upsample_nearest_forward(Tensor& out, const Tensor& inp, int64_t s) {
  const Shape want = upsample_nearest_shape(inp.shape(), s);
  NST_CHECK(out.shape() == want, "upsample: output ", out.shape().to_string(), " must be ",
            want.to_string());
  const int64_t H = inp.h(), W = inp.w(), Wo = W * s;
  const float* in = inp.data();
  float* o = out.data();
  kernels::parallel_for(0, inp.n() * inp.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; ++q)
      for (int64_t i = 0; i < H; ++i) {
        const float* src = in + (q * H + i) * W;
        float* first = o + (q * H * s + i * s) * Wo;
        for (int64_t j = 0; j < W; ++j) std::fill(first + j * s, first + j * s + s, src[j]);
        for (int64_t r = 1; r < s; ++r) std::copy(first, first + Wo, first + r * Wo);
      }
  });
}

// Each plane sums its blocks in the reference's order (output rows top to
// bottom, left to right), so the bits match it whatever the thread count.
void upsample_nearest_backward(Tensor& dinp, const Tensor& dout, int64_t s) {
  const Shape want = upsample_nearest_shape(dinp.shape(), s);
  NST_CHECK(dout.shape() == want, "upsample backward: gradient ", dout.shape().to_string(),
            " must be ", want.to_string());
  const int64_t H = dinp.h(), W = dinp.w(), Wo = W * s;
  float* d = dinp.data();
  const float* g = dout.data();
  kernels::parallel_for(0, dinp.n() * dinp.c(), 1, [&](int64_t lo, int64_t hi) {
    for (int64_t q = lo; q < hi; ++q)
      for (int64_t i = 0; i < H * s; ++i) {
        float* dst = d + (q * H + i / s) * W;
        const float* src = g + (q * H * s + i) * Wo;
        for (int64_t j = 0; j < Wo; ++j) dst[j / s] += src[j];
      }
  });
}

Var upsample_nearest(Tape& tape, const Var& x, int64_t s) {
  NST_CHECK(x.defined() && x.has_value(), "upsample: undefined input");
  Tensor out = Tensor::empty(upsample_nearest_shape(x.shape(), s));
  upsample_nearest_forward(out, x.value(), s);
  return tape.record("upsample_nearest", out, {x}, [x = x, s](const Tensor& dout) mutable {
    upsample_nearest_backward(x.grad_accumulator(), dout, s);
  }, {false});
}

}  // namespace nst
