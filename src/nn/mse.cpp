#include "nn/mse.hpp"

#include <vector>

#include "nn/kernels/eltwise.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/reduce.hpp"
#include "tensor/check.hpp"

namespace nst {

void mse_forward(Tensor& out, const Tensor& a, const Tensor& b) {
  NST_CHECK(a.shape() == b.shape(), "mse: a ", a.shape().to_string(), " and b ",
            b.shape().to_string(), " must have the same shape");
  NST_CHECK(a.numel() > 0, "mse: empty inputs ", a.shape().to_string());
  NST_CHECK(out.numel() == 1, "mse: out must be a scalar, got ", out.shape().to_string());
  const int64_t n = a.numel();
  const int64_t grain = kernels::kEltwiseGrain;
  std::vector<double> partial(static_cast<size_t>(kernels::chunk_count(0, n, grain)), 0.0);
  const float* pa = a.data();
  const float* pb = b.data();
  kernels::parallel_for(0, n, grain, [&](int64_t lo, int64_t hi) {
    partial[static_cast<size_t>(lo / grain)] =
        kernels::sum_squared_difference(pa + lo, pb + lo, hi - lo);
  });
  double total = 0.0;
  for (double p : partial) total += p;
  out[0] = static_cast<float>(total / double(n));
}

void mse_backward(Tensor& da, Tensor& db, const Tensor& dout, const Tensor& a, const Tensor& b) {
  NST_CHECK(a.shape() == b.shape(), "mse_backward: a ", a.shape().to_string(), " and b ",
            b.shape().to_string(), " must have the same shape");
  NST_CHECK(dout.numel() == 1, "mse_backward: dout must be a scalar, got ",
            dout.shape().to_string());
  NST_CHECK(!da.defined() || da.shape() == a.shape(), "mse_backward: da ", da.shape().to_string(),
            " does not match a ", a.shape().to_string());
  NST_CHECK(!db.defined() || db.shape() == b.shape(), "mse_backward: db ", db.shape().to_string(),
            " does not match b ", b.shape().to_string());
  const int64_t n = a.numel();
  const float k = static_cast<float>(2.0 / double(n) * double(dout[0]));
  if (da.defined()) kernels::add_scaled_difference(da.data(), k, a.data(), b.data(), n);
  if (db.defined()) kernels::add_scaled_difference(db.data(), -k, a.data(), b.data(), n);
}

Var mse(Tape& tape, const Var& a, const Var& b) {
  NST_CHECK(a.defined() && b.defined(), "mse: undefined input");
  Tensor out = Tensor::empty(Shape{1});
  mse_forward(out, a.value(), b.value());
  return tape.record("mse", out, {a, b}, [a = a, b = b](const Tensor& dout) mutable {
    Tensor da = a.requires_grad() ? a.grad_accumulator() : Tensor();
    Tensor db = b.requires_grad() ? b.grad_accumulator() : Tensor();
    mse_backward(da, db, dout, a.value(), b.value());
  });
}

}  // namespace nst
