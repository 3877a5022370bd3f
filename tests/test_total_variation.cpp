#include "nn/total_variation.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("total_variation: fast path matches the reference on odd shapes", "[total_variation]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 300;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t P = shape[0] * shape[1], H = shape[2], W = shape[3];
      const Tensor x = random_tensor(shape, seed++);
      const std::vector<double> xd = to_double(x);
      Tensor out = Tensor::empty({1});
      total_variation_forward(out, x);
      const double want = total_variation_reference_forward(xd.data(), P, H, W);
      CHECK(out[0] == Approx(want).epsilon(1e-6).margin(1e-30));

      Tensor dx = random_tensor(shape, seed++);
      std::vector<double> want_dx = to_double(dx);
      total_variation_backward(dx, Tensor::from({1}, {0.6f}), x);
      total_variation_reference_backward(want_dx.data(), 0.6, xd.data(), P, H, W);
      check_close(dx, want_dx, 1e-5, 1e-6, "dx");
    }
  });
}

TEST_CASE("total_variation: gradient matches finite differences in double", "[total_variation]") {
  const Shape shape{2, 3, 5, 7};
  const int64_t P = 6, H = 5, W = 7;
  const std::vector<double> x = rounded(random_doubles(shape.numel(), 311));
  const std::vector<double> numeric = numeric_gradient(
      [&](const std::vector<double>& xs) {
        return total_variation_reference_forward(xs.data(), P, H, W);
      },
      x);
  std::vector<double> dx(x.size(), 0.0);
  total_variation_reference_backward(dx.data(), 1.0, x.data(), P, H, W);
  for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(numeric[i]).margin(1e-8));

  Tape tape;
  Var xv = tape.variable(tensor_from(shape, x));
  Var loss = total_variation(tape, xv);
  CHECK(loss.value()[0] ==
        Approx(total_variation_reference_forward(x.data(), P, H, W)).epsilon(1e-6));
  tape.backward(loss);
  check_close(xv.grad(), numeric, 1e-5, 1e-6, "fast backward through the tape");
}

TEST_CASE("total_variation: known value on a tiny image", "[total_variation]") {
  // [[0, 1], [3, 7]]: horizontal (1-0)^2 + (7-3)^2 = 17, vertical (3-0)^2 + (7-1)^2 = 45.
  Tensor out = Tensor::empty({1});
  total_variation_forward(out, Tensor::from({1, 1, 2, 2}, {0, 1, 3, 7}));
  CHECK(out[0] == 62.0f);
}

TEST_CASE("total_variation: 1 and 2 threads give the same bits", "[total_variation][threads]") {
  const Shape shape{2, 13, 41, 37};
  const Tensor x = random_tensor(shape, 321);
  Tensor out[2], dx[2];
  for (int t = 0; t < 2; ++t)
    with_threads(t + 1, [&] {
      out[t] = Tensor::empty({1});
      total_variation_forward(out[t], x);
      dx[t] = Tensor::zeros(shape);
      total_variation_backward(dx[t], Tensor::from({1}, {1.0f}), x);
    });
  CHECK(bit_identical(out[0], out[1]));
  CHECK(bit_identical(dx[0], dx[1]));
}

TEST_CASE("total_variation: bad shapes throw", "[total_variation]") {
  Tensor out = Tensor::empty({1}), x = Tensor::zeros({1, 3, 4, 4});
  CHECK_THROWS_WITH(total_variation_forward(out, Tensor::zeros({3, 4, 4})),
                    Catch::Contains("total_variation") && Catch::Contains("[3, 4, 4]"));
  CHECK_THROWS_WITH(total_variation_forward(x, x), Catch::Contains("scalar"));
  Tensor dx = Tensor::zeros({1, 3, 4, 5});
  CHECK_THROWS_WITH(total_variation_backward(dx, out, x), Catch::Contains("[1, 3, 4, 5]"));
  CHECK_THROWS_WITH(total_variation_backward(x, x, x), Catch::Contains("dout"));
}
