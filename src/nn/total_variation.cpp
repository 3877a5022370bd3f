#include "nn/total_variation.hpp"

#include <vector>

#include "nn/kernels/parallel.hpp"
#include "nn/kernels/reduce.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_image(const char* op, const Tensor& x) {
  NST_CHECK(x.rank() == 4, op, ": x must be [N, C, H, W], got ", x.shape().to_string());
}

}  // namespace

void total_variation_forward(Tensor& out, const Tensor& x) {
  check_image("total_variation", x);
  NST_CHECK(out.numel() == 1, "total_variation: out must be a scalar, got ",
            out.shape().to_string());
  const int64_t P = x.n() * x.c(), H = x.h(), W = x.w();
  std::vector<double> partial(static_cast<size_t>(P), 0.0);
  kernels::parallel_for(0, P, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const float* plane = x.data() + p * H * W;
      // Vertical pairs: rows 1..H-1 against rows 0..H-2, one contiguous run.
      double sum = kernels::sum_squared_difference(plane + W, plane, (H - 1) * W);
      // Horizontal pairs: row by row, so no pair wraps from one row to the next.
      for (int64_t h = 0; h < H && W > 1; ++h)
        sum += kernels::sum_squared_difference(plane + h * W + 1, plane + h * W, W - 1);
      partial[static_cast<size_t>(p)] = sum;
    }
  });
  double total = 0.0;
  for (double s : partial) total += s;
  out[0] = static_cast<float>(total);
}

void total_variation_backward(Tensor& dx, const Tensor& dout, const Tensor& x) {
  check_image("total_variation_backward", x);
  NST_CHECK(dx.shape() == x.shape(), "total_variation_backward: dx ", dx.shape().to_string(),
            " must match x ", x.shape().to_string());
  NST_CHECK(dout.numel() == 1, "total_variation_backward: dout must be a scalar, got ",
            dout.shape().to_string());
  const int64_t P = x.n() * x.c(), H = x.h(), W = x.w();
  const float two_dout = 2.0f * dout[0];
  kernels::parallel_for(0, P, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t p = lo; p < hi; ++p) {
      const float* xp = x.data() + p * H * W;
      float* dp = dx.data() + p * H * W;
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w) {
          const int64_t i = h * W + w;
          float g = 0.0f;
          if (w > 0) g += xp[i] - xp[i - 1];
          if (w + 1 < W) g -= xp[i + 1] - xp[i];
          if (h > 0) g += xp[i] - xp[i - W];
          if (h + 1 < H) g -= xp[i + W] - xp[i];
          dp[i] += two_dout * g;
        }
    }
  });
}

Var total_variation(Tape& tape, const Var& x) {
  NST_CHECK(x.defined(), "total_variation: undefined input");
  Tensor out = Tensor::empty(Shape{1});
  total_variation_forward(out, x.value());
  return tape.record("total_variation", out, {x}, [x = x](const Tensor& dout) mutable {
    total_variation_backward(x.grad_accumulator(), dout, x.value());
  });
}

}  // namespace nst
