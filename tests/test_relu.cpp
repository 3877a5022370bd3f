#include "nn/relu.hpp"
#include "ops_testing.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("relu: fast path equals the reference on odd shapes at every SIMD level", "[relu]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 1;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const Tensor x = random_tensor(shape, seed++);
      const Tensor dout = random_tensor(shape, seed++);
      Tensor out = Tensor::empty(shape), want = Tensor::empty(shape);
      relu_forward(out, x);
      relu_reference_forward(want.data(), x.data(), x.numel());
      CHECK(bit_identical(out, want));

      Tensor dinp = random_tensor(shape, seed++);  // backward accumulates into it
      Tensor want_dinp = dinp.clone();
      relu_backward(dinp, dout, out);
      relu_reference_backward(want_dinp.data(), dout.data(), out.data(), out.numel());
      CHECK(bit_identical(dinp, want_dinp));

      Tensor in_place = x.clone();  // out and inp one tensor
      relu_forward(in_place, in_place);
      CHECK(bit_identical(in_place, want));
    }
  });
}

TEST_CASE("relu: the one-bit mask gives the reference backward on odd sizes", "[relu]") {
  // Sizes around the SIMD width, the 64-bit word and the parallel chunk, zeros,
  // -0.0f and NaN included, at every SIMD level.
  for_each_simd_level([](kernels::SimdLevel) {
  for (int64_t n : {1, 7, 15, 17, 63, 64, 65, 127, 200, 16384 * 2 + 37}) {
    INFO("n = " << n);
    Tensor out = random_tensor({n}, uint64_t(n));
    for (int64_t i = 0; i < n; i += 5) out[i] = (i / 5) % 2 ? 0.0f : -0.0f;
    if (n > 3) out[3] = std::nanf("");  // NaN > 0 is false: masked like a negative
    relu_forward(out, out);
    const ReluMask mask(out);
    for (int64_t i = 0; i < n; ++i) REQUIRE(mask.positive(i) == (out[i] > 0.0f));
    const Tensor dout = random_tensor({n}, uint64_t(n) + 1);
    Tensor dinp = random_tensor({n}, uint64_t(n) + 2), want = dinp.clone();
    mask.backward(dinp, dout);
    relu_reference_backward(want.data(), dout.data(), out.data(), n);
    CHECK(bit_identical(dinp, want));
    Tensor masked = dout.clone();  // in place: dout * (out > 0)
    mask.apply(masked);
    for (int64_t i = 0; i < n; ++i) REQUIRE(masked[i] == (out[i] > 0.0f ? dout[i] : 0.0f));
    // Every other pattern too: a mask of all bits, of none, of alternating ones.
    Tensor ones = Tensor::full({n}, 1.0f), g = dout.clone();
    ReluMask(ones).apply(g);
    CHECK(bit_identical(g, dout));
    ReluMask(Tensor::zeros({n})).apply(g);
    for (int64_t i = 0; i < n; ++i) REQUIRE(g[i] == 0.0f);
    Tensor other_shape = out.reshape({1, n});
    CHECK_THROWS_AS(mask.apply(other_shape), Error);
  }
  });
}

TEST_CASE("relu: gradient matches finite differences in double", "[relu]") {
  const Shape shape{1, 3, 5, 7};
  // Keep every input at least 0.1 from the kink at 0.
  std::vector<double> x = random_doubles(shape.numel(), 11);
  for (double& v : x) v += v < 0 ? -0.1 : 0.1;
  x = rounded(x);
  const std::vector<double> w = rounded(random_doubles(x.size(), 12));
  const int64_t n = shape.numel();
  auto f = [&](const std::vector<double>& xs) {
    std::vector<double> y(xs.size());
    relu_reference_forward(y.data(), xs.data(), n);
    return dot(w, y);
  };
  const std::vector<double> numeric = numeric_gradient(f, x);

  std::vector<double> y(x.size()), dx(x.size(), 0.0);
  relu_reference_forward(y.data(), x.data(), n);
  relu_reference_backward(dx.data(), w.data(), y.data(), n);
  for (size_t i = 0; i < x.size(); ++i) CHECK(dx[i] == Approx(numeric[i]).margin(1e-8));

  Tensor xt = tensor_from(shape, x), out = Tensor::empty(shape), dxt = Tensor::zeros(shape);
  relu_forward(out, xt);
  relu_backward(dxt, tensor_from(shape, w), out);
  check_close(dxt, numeric, 1e-5, 1e-6, "fast relu backward vs finite differences");

  Tape tape;
  Var xv = tape.variable(xt);
  Var yv = relu(tape, xv);
  CHECK(bit_identical(yv.value(), out));
}

TEST_CASE("relu: 1 and 2 threads give the same bits", "[relu][threads]") {
  const Shape shape{2, 13, 61, 67};  // several chunks and a ragged last one
  const Tensor x = random_tensor(shape, 21), dout = random_tensor(shape, 22);
  for_each_simd_level([&](kernels::SimdLevel) {
    Tensor out[2], dinp[2];
    for (int t = 0; t < 2; ++t)
      with_threads(t + 1, [&] {
        out[t] = Tensor::empty(shape);
        relu_forward(out[t], x);
        dinp[t] = Tensor::zeros(shape);
        relu_backward(dinp[t], dout, out[t]);
      });
    CHECK(bit_identical(out[0], out[1]));
    CHECK(bit_identical(dinp[0], dinp[1]));
  });
}

TEST_CASE("relu: mismatched shapes throw", "[relu]") {
  Tensor x = Tensor::zeros({1, 3, 4, 4}), small = Tensor::zeros({1, 3, 4, 3});
  CHECK_THROWS_WITH(relu_forward(small, x),
                    Catch::Contains("relu") && Catch::Contains("[1, 3, 4, 3]"));
  CHECK_THROWS_WITH(relu_backward(small, x, x), Catch::Contains("relu_backward"));
  CHECK_THROWS_AS(relu_backward(x, small, x), Error);
}
