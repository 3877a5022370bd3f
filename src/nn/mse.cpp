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

namespace {

void check_weighted(const char* op, const Tensor& a, const Tensor& b, const Tensor& w) {
  NST_CHECK(a.shape() == b.shape(), op, ": a ", a.shape().to_string(), " and b ", b.shape().to_string(),
            " must have the same shape");
  NST_CHECK(a.rank() == 4 && a.numel() > 0, op, ": a must be a non-empty [N, C, H, W], got ",
            a.shape().to_string());
  NST_CHECK(w.rank() == 4 && w.dim(0) == 1 && w.dim(1) == 1 && w.dim(2) == a.h() && w.dim(3) == a.w(), op,
            ": weights ", w.shape().to_string(), " must be [1, 1, ", a.h(), ", ", a.w(), "]");
}

}  // namespace

void weighted_mse_forward(Tensor& out, const Tensor& a, const Tensor& b, const Tensor& w) {
  check_weighted("weighted_mse", a, b, w);
  NST_CHECK(out.numel() == 1, "weighted_mse: out must be a scalar, got ", out.shape().to_string());
  const int64_t planes = a.n() * a.c(), HW = a.h() * a.w();
  std::vector<double> partial(static_cast<size_t>(planes), 0.0);
  const float* pa = a.data();
  const float* pb = b.data();
  const float* pw = w.data();
  kernels::parallel_for(0, planes, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c) {
      double acc = 0.0;
      for (int64_t p = 0; p < HW; ++p) {
        const double d = double(pa[c * HW + p]) - double(pb[c * HW + p]);
        acc += double(pw[p]) * d * d;
      }
      partial[static_cast<size_t>(c)] = acc;
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;
  out[0] = static_cast<float>(total / double(planes * HW));
}

void weighted_mse_backward(Tensor& da, Tensor& db, const Tensor& dout, const Tensor& a, const Tensor& b,
                           const Tensor& w) {
  check_weighted("weighted_mse_backward", a, b, w);
  NST_CHECK(dout.numel() == 1, "weighted_mse_backward: dout must be a scalar, got ", dout.shape().to_string());
  NST_CHECK(!da.defined() || da.shape() == a.shape(), "weighted_mse_backward: da ", da.shape().to_string(),
            " does not match a ", a.shape().to_string());
  NST_CHECK(!db.defined() || db.shape() == b.shape(), "weighted_mse_backward: db ", db.shape().to_string(),
            " does not match b ", b.shape().to_string());
  const int64_t planes = a.n() * a.c(), HW = a.h() * a.w();
  const float k = static_cast<float>(2.0 / double(planes * HW) * double(dout[0]));
  const float* pa = a.data();
  const float* pb = b.data();
  const float* pw = w.data();
  float* pda = da.defined() ? da.data() : nullptr;
  float* pdb = db.defined() ? db.data() : nullptr;
  kernels::parallel_for(0, planes, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c)
      for (int64_t p = 0; p < HW; ++p) {
        const float g = k * pw[p] * (pa[c * HW + p] - pb[c * HW + p]);
        if (pda) pda[c * HW + p] += g;
        if (pdb) pdb[c * HW + p] -= g;
      }
  });
}

Var weighted_mse(Tape& tape, const Var& a, const Var& b, const Tensor& w) {
  NST_CHECK(a.defined() && b.defined(), "weighted_mse: undefined input");
  Tensor out = Tensor::empty(Shape{1});
  weighted_mse_forward(out, a.value(), b.value(), w);
  return tape.record("weighted_mse", out, {a, b}, [a = a, b = b, w](const Tensor& dout) mutable {
    Tensor da = a.requires_grad() ? a.grad_accumulator() : Tensor();
    Tensor db = b.requires_grad() ? b.grad_accumulator() : Tensor();
    weighted_mse_backward(da, db, dout, a.value(), b.value(), w);
  });
}

}  // namespace nst
