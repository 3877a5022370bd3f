#include "nn/instance_norm.hpp"
#include "nn/relu.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

struct Normed {
  Tensor out, rstd;
};

Normed run_forward(const Tensor& x, const Tensor& scale, const Tensor& shift, float eps) {
  Normed r{Tensor::empty(x.shape()), Tensor::empty({x.n(), x.c()})};
  instance_norm_forward(r.out, r.rstd, x, scale, shift, eps);
  return r;
}

}  // namespace

TEST_CASE("instance_norm: fast path matches the reference on odd shapes at every SIMD level",
          "[instance_norm]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 500;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t N = shape[0], C = shape[1], M = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++, -2.0f, 3.0f);
      const Tensor scale = random_tensor({C}, seed++), shift = random_tensor({C}, seed++);
      const Tensor dout = random_tensor(shape, seed++);
      const std::vector<double> xd = to_double(x), sd = to_double(scale), td = to_double(shift);
      const std::vector<double> dd = to_double(dout);
      const Normed r = run_forward(x, scale, shift, 1e-3f);
      std::vector<double> want(xd.size());
      instance_norm_reference_forward(want.data(), xd.data(), sd.data(), td.data(), N, C, M, 1e-3);
      check_close(r.out, want, 1e-5, 1e-5, "out");

      Tensor dx = random_tensor(shape, seed++);
      Tensor dscale = random_tensor({C}, seed++), dshift = random_tensor({C}, seed++);
      std::vector<double> want_dx = to_double(dx), want_ds = to_double(dscale),
                          want_dt = to_double(dshift);
      instance_norm_backward(dx, dscale, dshift, dout, x, r.rstd, scale);
      instance_norm_reference_backward(want_dx.data(), want_ds.data(), want_dt.data(), dd.data(),
                                       xd.data(), sd.data(), N, C, M, 1e-3);
      check_close(dx, want_dx, 1e-4, 1e-4, "dx");
      check_close(dscale, want_ds, 1e-5, 1e-5, "dscale");
      check_close(dshift, want_dt, 1e-5, 1e-5, "dshift");
    }
  });
}

TEST_CASE("instance_norm: gradients match finite differences in double", "[instance_norm]") {
  const Shape shape{2, 3, 4, 5};
  const int64_t N = 2, C = 3, M = 20;
  const double eps = 1e-3;
  const std::vector<double> x = rounded(random_doubles(shape.numel(), 511, -1.0, 2.0));
  const std::vector<double> s = rounded(random_doubles(C, 512)),
                            t = rounded(random_doubles(C, 513));
  const std::vector<double> w = rounded(random_doubles(x.size(), 514));
  auto f = [&](const std::vector<double>& xs, const std::vector<double>& ss,
               const std::vector<double>& ts) {
    std::vector<double> y(xs.size());
    instance_norm_reference_forward(y.data(), xs.data(), ss.data(), ts.data(), N, C, M, eps);
    return dot(w, y);
  };
  const auto num_dx = numeric_gradient([&](const std::vector<double>& v) { return f(v, s, t); }, x);
  const auto num_ds = numeric_gradient([&](const std::vector<double>& v) { return f(x, v, t); }, s);
  const auto num_dt = numeric_gradient([&](const std::vector<double>& v) { return f(x, s, v); }, t);

  std::vector<double> dx(x.size(), 0.0), ds(C, 0.0), dt(C, 0.0);
  instance_norm_reference_backward(dx.data(), ds.data(), dt.data(), w.data(), x.data(), s.data(), N,
                                   C, M, eps);
  for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(num_dx[i]).margin(1e-7));
  for (int64_t c = 0; c < C; ++c) {
    CHECK(ds[c] == Approx(num_ds[c]).margin(1e-7));
    CHECK(dt[c] == Approx(num_dt[c]).margin(1e-7));
  }

  // Fast path through the tape: all three inputs are variables.
  Tape tape;
  Var xv = tape.variable(tensor_from(shape, x));
  Var sv = tape.variable(tensor_from({C}, s)), tv = tape.variable(tensor_from({C}, t));
  Var y = instance_norm(tape, xv, sv, tv, static_cast<float>(eps));
  Tensor wt = tensor_from(shape, w);
  double loss = 0.0;
  for (int64_t i = 0; i < y.value().numel(); ++i) loss += double(wt[i]) * y.value()[i];
  Var probe = tape.record("dot_w", Tensor::from({1}, {static_cast<float>(loss)}), {y},
                          [y = y, wt](const Tensor& dout) mutable {
                            Tensor& g = y.grad_accumulator();
                            for (int64_t i = 0; i < g.numel(); ++i) g[i] += wt[i] * dout[0];
                          });
  tape.backward(probe);
  check_close(xv.grad(), num_dx, 1e-4, 1e-5, "fast dx");
  check_close(sv.grad(), num_ds, 1e-4, 1e-5, "fast dscale");
  check_close(tv.grad(), num_dt, 1e-4, 1e-5, "fast dshift");
}

TEST_CASE("instance_norm: accurate when the mean dwarfs the spread", "[instance_norm]") {
  // x = 1000 + small noise: a one-pass E[x^2] - E[x]^2 in float would lose it all.
  const Shape shape{1, 2, 9, 7};
  std::vector<double> x = random_doubles(shape.numel(), 521, -0.01, 0.01);
  for (double& v : x) v = static_cast<float>(1000.0 + v);
  const std::vector<double> s{1.5, -0.5}, t{0.25, 0.0};
  std::vector<double> want(x.size());
  instance_norm_reference_forward(want.data(), x.data(), s.data(), t.data(), 1, 2, 63, 1e-5);
  const Tensor xt = tensor_from(shape, x), st = tensor_from({2}, s);
  const Normed r = run_forward(xt, st, tensor_from({2}, t), 1e-5f);
  check_close(r.out, want, 1e-5, 1e-5, "out");

  const std::vector<double> dy = rounded(random_doubles(x.size(), 522));
  std::vector<double> want_dx(x.size(), 0.0), want_ds(2, 0.0), want_dt(2, 0.0);
  instance_norm_reference_backward(want_dx.data(), want_ds.data(), want_dt.data(), dy.data(),
                                   x.data(), s.data(), 1, 2, 63, 1e-5);
  Tensor dx = Tensor::zeros(shape), ds = Tensor::zeros({2}), dt = Tensor::zeros({2});
  instance_norm_backward(dx, ds, dt, tensor_from(shape, dy), xt, r.rstd, st);
  check_close(dx, want_dx, 1e-4, 1e-3, "dx");  // |dx| ~ 100 here
  check_close(ds, want_ds, 1e-5, 1e-5, "dscale");
}

TEST_CASE("instance_norm: 1 and 2 threads give the same bits", "[instance_norm][threads]") {
  const Shape shape{2, 3, 131, 127};  // planes bigger than one element-wise chunk
  const Tensor x = random_tensor(shape, 531), dout = random_tensor(shape, 532);
  const Tensor scale = random_tensor({3}, 533), shift = random_tensor({3}, 534);
  for_each_simd_level([&](kernels::SimdLevel) {
    Tensor out[2], dx[2], ds[2], dt[2];
    for (int k = 0; k < 2; ++k)
      with_threads(k + 1, [&] {
        const Normed r = run_forward(x, scale, shift, 1e-3f);
        out[k] = r.out;
        dx[k] = Tensor::zeros(shape);
        ds[k] = Tensor::zeros({3});
        dt[k] = Tensor::zeros({3});
        instance_norm_backward(dx[k], ds[k], dt[k], dout, x, r.rstd, scale);
      });
    CHECK(bit_identical(out[0], out[1]));
    CHECK(bit_identical(dx[0], dx[1]));
    CHECK(bit_identical(ds[0], ds[1]));
    CHECK(bit_identical(dt[0], dt[1]));
  });
}

TEST_CASE("instance_norm: bad shapes and eps throw", "[instance_norm]") {
  const Tensor x = Tensor::zeros({1, 3, 4, 4}), s3 = Tensor::zeros({3}), s4 = Tensor::zeros({4});
  Tensor out = Tensor::empty({1, 3, 4, 4}), rstd = Tensor::empty({1, 3});
  CHECK_THROWS_WITH(instance_norm_forward(out, rstd, x, s4, s4, 1e-3f),
                    Catch::Contains("instance_norm: scale [4]"));
  CHECK_THROWS_WITH(instance_norm_forward(out, rstd, x, s3, s4, 1e-3f),
                    Catch::Contains("shift [4]"));
  CHECK_THROWS_WITH(instance_norm_forward(out, rstd, x, s3, s3, 0.0f), Catch::Contains("eps"));
  CHECK_THROWS_WITH(instance_norm_forward(out, rstd, Tensor::zeros({3, 4, 4}), s3, s3, 1e-3f),
                    Catch::Contains("[N, C, H, W]"));
  Tensor bad_rstd = Tensor::empty({3});
  CHECK_THROWS_WITH(instance_norm_forward(out, bad_rstd, x, s3, s3, 1e-3f),
                    Catch::Contains("rstd [3]"));
  Tensor none, dx = Tensor::zeros({1, 3, 4, 5});
  CHECK_THROWS_WITH(instance_norm_backward(dx, none, none, x, x, rstd, s3),
                    Catch::Contains("instance_norm_backward: dx"));
  Tape tape;
  CHECK_THROWS_AS(
      instance_norm(tape, tape.variable(x), tape.constant(s4), tape.constant(s4), 1e-3f), Error);
}

TEST_CASE("instance_norm with relu: max(reference, 0), in place or not, at every SIMD level",
          "[instance_norm]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 700;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t N = shape[0], C = shape[1], M = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++, -2.0f, 3.0f);
      const Tensor scale = random_tensor({C}, seed++), shift = random_tensor({C}, seed++);
      std::vector<double> want(size_t(x.numel()));
      const std::vector<double> xd = to_double(x), sd = to_double(scale), td = to_double(shift);
      instance_norm_reference_forward(want.data(), xd.data(), sd.data(), td.data(), N, C, M, 1e-3);
      for (double& v : want) v = v > 0.0 ? v : 0.0;
      Tensor out = Tensor::empty(shape), rstd = Tensor::empty({N, C});
      instance_norm_forward(out, rstd, x, scale, shift, 1e-3f, true);
      check_close(out, want, 1e-5, 1e-5, "out");
      // In place (out is x): the same bits as into a separate tensor.
      Tensor inplace = x.clone(), rstd2 = Tensor::empty({N, C});
      instance_norm_forward(inplace, rstd2, inplace, scale, shift, 1e-3f, true);
      CHECK(bit_identical(inplace, out));
      CHECK(bit_identical(rstd2, rstd));
    }
  });
}

TEST_CASE("instance_norm with relu: one node, the gradients of relu(instance_norm(x))",
          "[instance_norm]") {
  const Shape shape{2, 3, 5, 7};
  const Tensor x = random_tensor(shape, 741, -2.0f, 2.0f), w = random_tensor(shape, 742);
  const Tensor scale = random_tensor({3}, 743), shift = random_tensor({3}, 744);
  Tensor grads[2][3], values[2];
  for (int fused = 0; fused < 2; ++fused) {
    Tape tape;
    Var xv = tape.variable(x.clone()), sv = tape.variable(scale.clone()),
        tv = tape.variable(shift.clone());
    Var y = fused ? instance_norm(tape, xv, sv, tv, 1e-3f, true)
                  : relu(tape, instance_norm(tape, xv, sv, tv, 1e-3f));
    CHECK(std::string(y.op()) == (fused ? "instance_norm_relu" : "relu"));
    values[fused] = y.value().clone();
    tape.backward(dot_with(tape, y, w));
    grads[fused][0] = xv.grad();
    grads[fused][1] = sv.grad();
    grads[fused][2] = tv.grad();
  }
  CHECK(bit_identical(values[0], values[1]));
  for (int k = 0; k < 3; ++k) CHECK(bit_identical(grads[0][k], grads[1][k]));
}
