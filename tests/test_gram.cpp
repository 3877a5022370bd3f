#include "nn/gram.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

#include <cmath>
#include <cstring>

using namespace nst;
using namespace nst::testing;

TEST_CASE("gram: fast path matches the reference on odd shapes at every SIMD level", "[gram]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 400;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++);
      const Tensor dout = random_tensor({N, C, C}, seed++);
      const std::vector<double> xd = to_double(x), dd = to_double(dout);
      Tensor out = Tensor::empty({N, C, C});
      gram_forward(out, x);
      Tensor dx = random_tensor(shape, seed++);
      std::vector<double> want(static_cast<size_t>(N * C * C)), want_dx = to_double(dx);
      gram_backward(dx, dout, x);
      for (int64_t n = 0; n < N; ++n) {
        gram_reference_forward(want.data() + n * C * C, xd.data() + n * C * HW, C, HW);
        gram_reference_backward(want_dx.data() + n * C * HW, dd.data() + n * C * C,
                                xd.data() + n * C * HW, C, HW);
      }
      check_close(out, want, 1e-5, 1e-7, "gram");
      check_close(dx, want_dx, 1e-5, 1e-6, "dx");
    }
  });
}

TEST_CASE("gram: gradient matches finite differences in double", "[gram]") {
  const Shape shape{2, 3, 4, 5};
  const int64_t N = 2, C = 3, HW = 20;
  const std::vector<double> x = rounded(random_doubles(shape.numel(), 411));
  const std::vector<double> w = rounded(random_doubles(static_cast<size_t>(N * C * C), 412));
  auto forward = [&](const std::vector<double>& xs) {
    std::vector<double> g(static_cast<size_t>(N * C * C));
    for (int64_t n = 0; n < N; ++n)
      gram_reference_forward(g.data() + n * C * C, xs.data() + n * C * HW, C, HW);
    return g;
  };
  const std::vector<double> numeric =
      numeric_gradient([&](const std::vector<double>& xs) { return dot(w, forward(xs)); }, x);
  std::vector<double> dx(x.size(), 0.0);
  for (int64_t n = 0; n < N; ++n)
    gram_reference_backward(dx.data() + n * C * HW, w.data() + n * C * C, x.data() + n * C * HW, C,
                            HW);
  for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(numeric[i]).margin(1e-9));

  Tensor dxt = Tensor::zeros(shape);
  gram_backward(dxt, tensor_from({N, C, C}, w), tensor_from(shape, x));
  check_close(dxt, numeric, 1e-5, 1e-7, "fast backward");

  Tape tape;
  Var xv = tape.variable(tensor_from(shape, x));
  Var g = gram(tape, xv);
  CHECK(g.shape() == (Shape{N, C, C}));
  check_close(g.value(), forward(x), 1e-6, 1e-7, "tape forward");
}

TEST_CASE("gram: symmetric, normalised by C*H*W", "[gram]") {
  // One channel of ones over 2x3 pixels: G = 6 / 6 = 1.
  Tensor out = Tensor::empty({1, 1, 1});
  gram_forward(out, Tensor::full({1, 1, 2, 3}, 1.0f));
  CHECK(out[0] == 1.0f);
  const Tensor x = random_tensor({1, 5, 7, 9}, 421);
  Tensor g = Tensor::empty({1, 5, 5});
  gram_forward(g, x);
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j) CHECK(g[i * 5 + j] == g[j * 5 + i]);
}

TEST_CASE("gram: 1 and 2 threads give the same bits", "[gram][threads]") {
  const Shape shape{2, 13, 17, 19};
  const Tensor x = random_tensor(shape, 431), dout = random_tensor({2, 13, 13}, 432);
  Tensor out[2], dx[2];
  for (int t = 0; t < 2; ++t)
    with_threads(t + 1, [&] {
      out[t] = Tensor::empty({2, 13, 13});
      gram_forward(out[t], x);
      dx[t] = Tensor::zeros(shape);
      gram_backward(dx[t], dout, x);
    });
  CHECK(bit_identical(out[0], out[1]));
  CHECK(bit_identical(dx[0], dx[1]));
}

TEST_CASE("gram: bad shapes throw", "[gram]") {
  Tensor x = Tensor::zeros({1, 3, 4, 4});
  Tensor out = Tensor::empty({1, 3, 3}), wrong = Tensor::empty({1, 3, 4});
  CHECK_THROWS_WITH(gram_forward(out, Tensor::zeros({3, 4, 4})),
                    Catch::Contains("gram") && Catch::Contains("[3, 4, 4]"));
  CHECK_THROWS_WITH(gram_forward(wrong, x), Catch::Contains("[1, 3, 4]"));
  Tensor dx = Tensor::zeros({1, 3, 4, 5});
  CHECK_THROWS_WITH(gram_backward(dx, out, x), Catch::Contains("gram_backward"));
  CHECK_THROWS_WITH(gram_backward(x, wrong, x), Catch::Contains("dout"));
}

TEST_CASE("gram: blocks over spans of H*W, the same bits on 1 and 2 threads", "[gram]") {
  // 70 channels: two row blocks (one partial); 5 channels x 70000: 34 spans of
  // H*W summed in order; 130 x 3000: three blocks, a span each.
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 900;
    for (const Shape& shape : {Shape{1, 70, 50, 100}, Shape{2, 5, 7, 10000}, Shape{1, 130, 3, 1000}}) {
      INFO("shape " << shape.to_string());
      const int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++);
      Tensor one = Tensor::empty({N, C, C}), two = Tensor::empty({N, C, C});
      testing::with_threads(1, [&] { gram_forward(one, x); });
      testing::with_threads(2, [&] { gram_forward(two, x); });
      CHECK(std::memcmp(one.data(), two.data(), size_t(one.numel()) * sizeof(float)) == 0);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < C; ++i)
          for (int64_t j = 0; j < C; ++j)
            REQUIRE(one.data()[n * C * C + i * C + j] == one.data()[n * C * C + j * C + i]);
      const std::vector<double> xd = to_double(x);
      std::vector<double> want(static_cast<size_t>(N * C * C));
      for (int64_t n = 0; n < N; ++n)
        gram_reference_forward(want.data() + n * C * C, xd.data() + n * C * HW, C, HW);
      check_close(one, want, 1e-5, 1e-7, "gram");
    }
  });
}

TEST_CASE("gram: a fresh gradient is written, not added to zeros", "[gram]") {
  const Shape shape{2, 13, 7, 9};
  const Tensor x = random_tensor(shape, 31), dout = random_tensor({2, 13, 13}, 32);
  Tensor fresh = Tensor::full(shape, std::nanf("")), zeros = Tensor::zeros(shape);
  gram_backward(fresh, dout, x, false);
  gram_backward(zeros, dout, x);
  CHECK(testing::same_values(fresh, zeros));
}
