#include "nn/elementwise.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("elementwise: fast paths match the references on odd shapes at every SIMD level",
          "[elementwise]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 100;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t n = shape.numel();
      const Tensor a = random_tensor(shape, seed++, -3.0f, 3.0f);
      const Tensor b = random_tensor(shape, seed++);
      Tensor out = Tensor::empty(shape), want = Tensor::empty(shape);

      add_forward(out, a, b);
      add_reference_forward(want.data(), a.data(), 1.0f, b.data(), n);
      CHECK(bit_identical(out, want));  // x + 1*y is exact with or without FMA
      sub_forward(out, a, b);
      add_reference_forward(want.data(), a.data(), -1.0f, b.data(), n);
      CHECK(bit_identical(out, want));
      scale_forward(out, a, 0.37f);
      affine_reference_forward(want.data(), a.data(), 0.37f, 0.0f, n);
      check_close(out, want, 1e-6, 0.0, "scale");
      affine_forward(out, a, -1.7f, 0.25f);
      affine_reference_forward(want.data(), a.data(), -1.7f, 0.25f, n);
      check_close(out, want, 1e-6, 1e-7, "affine");
      tanh_forward(out, a);
      tanh_reference_forward(want.data(), a.data(), n);
      check_close(out, want, 1e-6, 0.0, "tanh");

      // Backwards accumulate: start from a non-zero gradient.
      const Tensor start = random_tensor(shape, seed++);
      Tensor got = start.clone();
      affine_backward(got, b, -1.7f);
      Tensor expect = start.clone();
      affine_reference_backward(expect.data(), b.data(), -1.7f, n);
      check_close(got, expect, 1e-6, 1e-7, "affine_backward");
      got = start.clone();
      expect = start.clone();
      tanh_backward(got, b, out);
      tanh_reference_backward(expect.data(), b.data(), out.data(), n);
      check_close(got, expect, 1e-6, 1e-7, "tanh_backward");
      Tensor da = start.clone(), db = start.clone();
      sub_backward(da, db, b);
      add_reference_forward(expect.data(), start.data(), 1.0f, b.data(), n);
      CHECK(bit_identical(da, expect));
      add_reference_forward(expect.data(), start.data(), -1.0f, b.data(), n);
      CHECK(bit_identical(db, expect));
    }
  });
}

TEST_CASE("elementwise: in-place forwards give the out-of-place result", "[elementwise]") {
  const Shape shape{1, 5, 9, 31};
  const Tensor a = random_tensor(shape, 7), b = random_tensor(shape, 8);
  Tensor want = Tensor::empty(shape), inplace = a.clone();
  affine_forward(want, a, 2.5f, -1.0f);
  affine_forward(inplace, inplace, 2.5f, -1.0f);
  CHECK(bit_identical(inplace, want));
  inplace = a.clone();
  add_forward(want, a, b);
  add_forward(inplace, inplace, b);
  CHECK(bit_identical(inplace, want));
}

// Checks one unary op: reference backward in double and fast backward in float
// against central differences of the reference forward in double.
template <class RefForward, class FastForward, class FastBackward, class RefBackward>
void check_unary_gradient(const char* what, RefForward ref_forward, RefBackward ref_backward,
                          FastForward fast_forward, FastBackward fast_backward) {
  INFO(what);
  const Shape shape{1, 3, 5, 7};
  const int64_t n = shape.numel();
  const std::vector<double> x = rounded(random_doubles(n, 31, -2.0, 2.0));
  const std::vector<double> w = rounded(random_doubles(n, 32));
  auto f = [&](const std::vector<double>& xs) {
    std::vector<double> y(xs.size());
    ref_forward(y.data(), xs.data(), n);
    return dot(w, y);
  };
  const std::vector<double> numeric = numeric_gradient(f, x);
  std::vector<double> y(x.size()), dx(x.size(), 0.0);
  ref_forward(y.data(), x.data(), n);
  ref_backward(dx.data(), w.data(), y.data(), n);
  for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(numeric[i]).margin(1e-8));

  Tensor xt = tensor_from(shape, x), out = Tensor::empty(shape), dxt = Tensor::zeros(shape);
  fast_forward(out, xt);
  fast_backward(dxt, tensor_from(shape, w), out);
  check_close(dxt, numeric, 1e-5, 1e-6, std::string(what) + " fast backward");
}

TEST_CASE("elementwise: gradients match finite differences in double", "[elementwise]") {
  check_unary_gradient(
      "affine",
      [](double* y, const double* x, int64_t n) { affine_reference_forward(y, x, -1.7, 0.25, n); },
      [](double* dx, const double* dy, const double*, int64_t n) {
        affine_reference_backward(dx, dy, -1.7, n);
      },
      [](Tensor& out, const Tensor& x) { affine_forward(out, x, -1.7f, 0.25f); },
      [](Tensor& dx, const Tensor& dout, const Tensor&) { affine_backward(dx, dout, -1.7f); });
  check_unary_gradient(
      "scale",
      [](double* y, const double* x, int64_t n) { affine_reference_forward(y, x, 0.37, 0.0, n); },
      [](double* dx, const double* dy, const double*, int64_t n) {
        affine_reference_backward(dx, dy, 0.37, n);
      },
      [](Tensor& out, const Tensor& x) { scale_forward(out, x, 0.37f); },
      [](Tensor& dx, const Tensor& dout, const Tensor&) { scale_backward(dx, dout, 0.37f); });
  check_unary_gradient(
      "tanh", [](double* y, const double* x, int64_t n) { tanh_reference_forward(y, x, n); },
      [](double* dx, const double* dy, const double* y, int64_t n) {
        tanh_reference_backward(dx, dy, y, n);
      },
      [](Tensor& out, const Tensor& x) { tanh_forward(out, x); },
      [](Tensor& dx, const Tensor& dout, const Tensor& out) { tanh_backward(dx, dout, out); });
}

TEST_CASE("elementwise: add, sub and weighted_sum gradients through the tape", "[elementwise]") {
  // L = 0.5 * sum(w * (a + b)) - 2 * sum(w * (a - b)) + 3 * c, in double by hand:
  // dL/da = 0.5 w - 2 w, dL/db = 0.5 w + 2 w, dL/dc = 3.
  const Shape shape{1, 3, 7, 9};
  const Tensor w = random_tensor(shape, 41);
  Tape tape;
  Var a = tape.variable(random_tensor(shape, 42));
  Var b = tape.variable(random_tensor(shape, 43));
  Var c = tape.variable(Tensor::from({1}, {0.75f}));
  Var frozen = tape.constant(Tensor::from({1}, {10.0f}));
  auto weighted_total = [&](const Var& v) {  // sum(w * v) as a scalar node
    double s = 0.0;
    for (int64_t i = 0; i < v.value().numel(); ++i) s += double(w[i]) * v.value()[i];
    Tensor wv = w;
    return tape.record("dot_w", Tensor::from({1}, {static_cast<float>(s)}), {v},
                       [v = v, wv](const Tensor& dout) mutable {
                         Tensor& g = v.grad_accumulator();
                         for (int64_t i = 0; i < g.numel(); ++i) g[i] += wv[i] * dout[0];
                       });
  };
  Var sum_ab = weighted_total(add(tape, a, b));
  Var diff_ab = weighted_total(sub(tape, a, b));
  Var loss = weighted_sum(tape, {sum_ab, diff_ab, c, frozen}, {0.5f, -2.0f, 3.0f, 1.0f});
  const double want_loss = 0.5 * sum_ab.value()[0] - 2.0 * diff_ab.value()[0] + 3.0 * 0.75 + 10.0;
  CHECK(loss.value()[0] == Approx(want_loss).epsilon(1e-6));
  tape.backward(loss);
  for (int64_t i = 0; i < shape.numel(); ++i) {
    CHECK(a.grad()[i] == Approx(-1.5 * w[i]).margin(1e-6));
    CHECK(b.grad()[i] == Approx(2.5 * w[i]).margin(1e-6));
  }
  CHECK(c.grad()[0] == 3.0f);
  CHECK_FALSE(frozen.grad().defined());

  // Only constants: nothing is recorded, and a lone variable still gets its gradient.
  Tape tape2;
  Var k = weighted_sum(tape2, {frozen, frozen}, {1.0f, 2.0f});
  CHECK_FALSE(k.requires_grad());
  CHECK(k.value()[0] == 30.0f);
  Var v = tape2.variable(Tensor::from({1}, {2.0f}));
  tape2.backward(weighted_sum(tape2, {frozen, v}, {1.0f, -4.0f}));
  CHECK(v.grad()[0] == -4.0f);
}

TEST_CASE("elementwise: 1 and 2 threads give the same bits", "[elementwise][threads]") {
  const Shape shape{2, 13, 61, 67};
  const Tensor a = random_tensor(shape, 51), b = random_tensor(shape, 52);
  for_each_simd_level([&](kernels::SimdLevel) {
    Tensor got[2][4];
    for (int t = 0; t < 2; ++t)
      with_threads(t + 1, [&] {
        for (Tensor& g : got[t]) g = Tensor::empty(shape);
        add_forward(got[t][0], a, b);
        affine_forward(got[t][1], a, 0.3f, 0.1f);
        tanh_forward(got[t][2], a);
        got[t][3].copy_from(b);
        tanh_backward(got[t][3], a, got[t][2]);
      });
    for (int k = 0; k < 4; ++k) CHECK(bit_identical(got[0][k], got[1][k]));
  });
}

TEST_CASE("elementwise: bad shapes throw", "[elementwise]") {
  Tensor x = Tensor::zeros({1, 3, 4, 4}), y = Tensor::zeros({1, 4, 3, 4});
  Tensor out = Tensor::zeros({1, 3, 4, 4});
  CHECK_THROWS_WITH(add_forward(out, x, y),
                    Catch::Contains("add") && Catch::Contains("[1, 4, 3, 4]"));
  CHECK_THROWS_WITH(sub_forward(y, x, x), Catch::Contains("sub"));
  CHECK_THROWS_WITH(affine_forward(y, x, 1.0f, 0.0f), Catch::Contains("affine"));
  CHECK_THROWS_WITH(tanh_forward(y, x), Catch::Contains("tanh"));
  CHECK_THROWS_WITH(scale_backward(y, x, 2.0f), Catch::Contains("scale_backward"));
  Tensor s = Tensor::zeros({1}), big = Tensor::zeros({2});
  CHECK_THROWS_WITH(weighted_sum_forward(s, {s, big}, {1.0f, 1.0f}),
                    Catch::Contains("weighted_sum") && Catch::Contains("[2]"));
  CHECK_THROWS_WITH(weighted_sum_forward(s, {s}, {1.0f, 2.0f}), Catch::Contains("1 scalars but 2"));
  Tape tape;
  CHECK_THROWS_WITH(weighted_sum(tape, {}, {}), Catch::Contains("no terms"));
}
