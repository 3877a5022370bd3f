// Conditional instance normalisation: the style table mix (nn/style_mix) and
// instance_norm with one scale / shift row per sample, against their plain
// references and finite differences in double.
#include "nn/instance_norm.hpp"
#include "nn/style_mix.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// sum_i w_i y_i on the tape: its gradient is y's backward with dout = w.
Var probe(Tape& tape, const Var& y, const Tensor& w) {
  double loss = 0.0;
  for (int64_t i = 0; i < y.value().numel(); ++i) loss += double(w[i]) * y.value()[i];
  return tape.record("dot_w", Tensor::from({1}, {static_cast<float>(loss)}), {y},
                     [y = y, w](const Tensor& dout) mutable {
                       Tensor& g = y.grad_accumulator();
                       for (int64_t i = 0; i < g.numel(); ++i) g[i] += w[i] * dout[0];
                     });
}

}  // namespace

TEST_CASE("style_mix: matches the reference, forward and backward", "[style_mix]") {
  uint64_t seed = 900;
  for (int64_t N : {1, 2, 5})
    for (int64_t S : {1, 2, 7})
      for (int64_t C : {1, 3, 32, 129}) {
        INFO("N " << N << " S " << S << " C " << C);
        const Tensor table = random_tensor({S, C}, seed++), weights = random_tensor({N, S}, seed++);
        const Tensor dout = random_tensor({N, C}, seed++);
        Tensor out = Tensor::empty({N, C});
        style_mix_forward(out, table, weights);
        const std::vector<double> td = to_double(table), wd = to_double(weights), dd = to_double(dout);
        std::vector<double> want(size_t(N * C));
        style_mix_reference_forward(want.data(), td.data(), wd.data(), N, S, C);
        check_close(out, want, 1e-6, 1e-6, "out");

        Tensor dt = random_tensor({S, C}, seed++), dw = random_tensor({N, S}, seed++);
        std::vector<double> want_dt = to_double(dt), want_dw = to_double(dw);
        style_mix_backward(dt, dw, dout, table, weights);
        style_mix_reference_backward(want_dt.data(), want_dw.data(), dd.data(), td.data(), wd.data(),
                                     N, S, C);
        check_close(dt, want_dt, 1e-5, 1e-6, "dtable");
        check_close(dw, want_dw, 1e-5, 1e-6, "dweights");
      }
}

TEST_CASE("style_mix: a one-hot row picks that style's parameters exactly", "[style_mix]") {
  const Tensor table = random_tensor({3, 17}, 950);
  Tensor w = Tensor::zeros({2, 3});
  w[0 * 3 + 2] = 1.0f;  // sample 0: style 2
  w[1 * 3 + 0] = 1.0f;  // sample 1: style 0
  Tensor out = Tensor::empty({2, 17});
  style_mix_forward(out, table, w);
  for (int64_t c = 0; c < 17; ++c) {
    CHECK(out[c] == table[2 * 17 + c]);
    CHECK(out[17 + c] == table[c]);
  }
}

TEST_CASE("style_mix: bad shapes are clear errors", "[style_mix]") {
  Tensor out = Tensor::empty({1, 4});
  CHECK_THROWS_WITH(style_mix_forward(out, Tensor::zeros({1, 2, 4}), Tensor::zeros({1, 1})),
                    Catch::Contains("table must be [S, C]"));
  // A [C] table is one style (a single-style network's row).
  const Tensor row = random_tensor({4}, 951);
  CHECK_NOTHROW(style_mix_forward(out, row, Tensor::full({1, 1}, 1.0f)));
  for (int64_t c = 0; c < 4; ++c) CHECK(out[c] == row[c]);
  CHECK_THROWS_WITH(style_mix_forward(out, row, Tensor::zeros({1, 2})),
                    Catch::Contains("with S = 1"));
  CHECK_THROWS_WITH(style_mix_forward(out, Tensor::zeros({2, 4}), Tensor::zeros({1, 3})),
                    Catch::Contains("(the table's styles)"));
  CHECK_THROWS_WITH(style_mix_forward(out, Tensor::zeros({2, 5}), Tensor::zeros({1, 2})),
                    Catch::Contains("out [1, 4] must be [1, 5]"));
}

TEST_CASE("instance_norm with a scale row per sample: fast path matches the reference at every SIMD level",
          "[instance_norm][style_mix]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 960;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t N = shape[0], C = shape[1], M = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++, -2.0f, 3.0f);
      const Tensor scale = random_tensor({N, C}, seed++), shift = random_tensor({N, C}, seed++);
      const Tensor dout = random_tensor(shape, seed++);
      const std::vector<double> xd = to_double(x), sd = to_double(scale), td = to_double(shift);
      const std::vector<double> dd = to_double(dout);
      Tensor out = Tensor::empty(shape), rstd = Tensor::empty({N, C});
      instance_norm_forward(out, rstd, x, scale, shift, 1e-3f);
      std::vector<double> want(xd.size());
      instance_norm_reference_forward(want.data(), xd.data(), sd.data(), td.data(), N, C, M, 1e-3,
                                      true);
      check_close(out, want, 1e-5, 1e-5, "out");

      Tensor dx = random_tensor(shape, seed++);
      Tensor dscale = random_tensor({N, C}, seed++), dshift = random_tensor({N, C}, seed++);
      std::vector<double> want_dx = to_double(dx), want_ds = to_double(dscale),
                          want_dt = to_double(dshift);
      instance_norm_backward(dx, dscale, dshift, dout, x, rstd, scale);
      instance_norm_reference_backward(want_dx.data(), want_ds.data(), want_dt.data(), dd.data(),
                                       xd.data(), sd.data(), N, C, M, 1e-3, true);
      check_close(dx, want_dx, 1e-4, 1e-4, "dx");
      check_close(dscale, want_ds, 1e-5, 1e-5, "dscale");
      check_close(dshift, want_dt, 1e-5, 1e-5, "dshift");
    }
  });
}

// y = instance_norm(x; mix(scales, W), mix(shifts, W)): the conditional
// instance norm of a batch of two samples over a table of three styles.
TEST_CASE("conditional instance norm: gradients of x, both tables and the mix match finite differences in double",
          "[instance_norm][style_mix]") {
  const int64_t N = 2, C = 3, S = 3, H = 4, W = 5, M = H * W;
  const Shape shape{N, C, H, W};
  const double eps = 1e-3;
  const std::vector<double> x = rounded(random_doubles(size_t(N * C * M), 971, -1.0, 2.0));
  const std::vector<double> ts = rounded(random_doubles(size_t(S * C), 972, 0.5, 1.5));
  const std::vector<double> tt = rounded(random_doubles(size_t(S * C), 973));
  const std::vector<double> mix = rounded({0.7, 0.3, 0.0, -0.25, 0.5, 1.25});  // [N, S]
  const std::vector<double> w = rounded(random_doubles(x.size(), 974));
  auto f = [&](const std::vector<double>& xs, const std::vector<double>& scales,
               const std::vector<double>& shifts, const std::vector<double>& m) {
    std::vector<double> a(size_t(N * C)), b(size_t(N * C)), y(xs.size());
    style_mix_reference_forward(a.data(), scales.data(), m.data(), N, S, C);
    style_mix_reference_forward(b.data(), shifts.data(), m.data(), N, S, C);
    instance_norm_reference_forward(y.data(), xs.data(), a.data(), b.data(), N, C, M, eps, true);
    return dot(w, y);
  };
  const auto num_dx = numeric_gradient([&](const std::vector<double>& v) { return f(v, ts, tt, mix); }, x);
  const auto num_ds = numeric_gradient([&](const std::vector<double>& v) { return f(x, v, tt, mix); }, ts);
  const auto num_dt = numeric_gradient([&](const std::vector<double>& v) { return f(x, ts, v, mix); }, tt);
  const auto num_dm = numeric_gradient([&](const std::vector<double>& v) { return f(x, ts, tt, v); }, mix);

  // The references' own chain: instance norm's per-sample gradients, then the mix's.
  std::vector<double> a(size_t(N * C)), b(size_t(N * C));
  style_mix_reference_forward(a.data(), ts.data(), mix.data(), N, S, C);
  style_mix_reference_forward(b.data(), tt.data(), mix.data(), N, S, C);
  std::vector<double> dx(x.size(), 0.0), da(a.size(), 0.0), db(b.size(), 0.0);
  instance_norm_reference_backward(dx.data(), da.data(), db.data(), w.data(), x.data(), a.data(), N,
                                   C, M, eps, true);
  std::vector<double> ds(ts.size(), 0.0), dt(tt.size(), 0.0), dm(mix.size(), 0.0);
  style_mix_reference_backward(ds.data(), dm.data(), da.data(), ts.data(), mix.data(), N, S, C);
  style_mix_reference_backward(dt.data(), dm.data(), db.data(), tt.data(), mix.data(), N, S, C);
  for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(num_dx[i]).margin(1e-7));
  for (size_t i = 0; i < ds.size(); ++i) CHECK(ds[i] == Approx(num_ds[i]).margin(1e-7));
  for (size_t i = 0; i < dt.size(); ++i) CHECK(dt[i] == Approx(num_dt[i]).margin(1e-7));
  for (size_t i = 0; i < dm.size(); ++i) CHECK(dm[i] == Approx(num_dm[i]).margin(1e-7));

  // The fast ops on the tape, every input a variable.
  Tape tape;
  Var xv = tape.variable(tensor_from(shape, x));
  Var sv = tape.variable(tensor_from({S, C}, ts)), tv = tape.variable(tensor_from({S, C}, tt));
  Var mv = tape.variable(tensor_from({N, S}, mix));
  Var y = instance_norm(tape, xv, style_mix(tape, sv, mv), style_mix(tape, tv, mv), float(eps));
  tape.backward(probe(tape, y, tensor_from(shape, w)));
  check_close(xv.grad(), num_dx, 1e-4, 1e-5, "fast dx");
  check_close(sv.grad(), num_ds, 1e-4, 1e-5, "fast dscales");
  check_close(tv.grad(), num_dt, 1e-4, 1e-5, "fast dshifts");
  check_close(mv.grad(), num_dm, 1e-4, 1e-5, "fast dmix");
}

TEST_CASE("instance_norm: a scale that is neither [C] nor [N, C] is a clear error", "[instance_norm][style_mix]") {
  const Tensor x = random_tensor({2, 3, 4, 4}, 990);
  Tensor out = Tensor::empty(x.shape()), rstd = Tensor::empty({2, 3});
  CHECK_THROWS_WITH(instance_norm_forward(out, rstd, x, Tensor::full({3, 3}, 1.0f),
                                          Tensor::zeros({3, 3}), 1e-3f),
                    Catch::Contains("or [N, C] = [2, 3]"));
}
