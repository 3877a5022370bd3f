// Nearest-neighbour upsampling (nn/upsample.hpp): the fast forward and backward
// against the plain loops on odd shapes and factors, the gradient against
// finite differences in double, threads, errors.
#include "nn/upsample.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("upsample: a 2 x 2 picture by 2", "[upsample]") {
  const Tensor x = tensor_from({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor out = Tensor::empty(upsample_nearest_shape(x.shape(), 2));
  upsample_nearest_forward(out, x, 2);
  const Tensor want = tensor_from({1, 1, 4, 4}, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
  CHECK(bit_identical(out, want));
}

TEST_CASE("upsample: forward and backward match the plain loops on odd shapes", "[upsample]") {
  uint64_t seed = 900;
  for (const Shape& shape : odd_shapes())
    for (int64_t s : {1, 2, 3}) {
      INFO("shape " << shape.to_string() << " factor " << s);
      const Tensor x = random_tensor(shape, seed++);
      Tensor out = Tensor::empty(upsample_nearest_shape(shape, s));
      Tensor want = Tensor::empty(out.shape());
      const int64_t planes = shape[0] * shape[1];
      upsample_nearest_forward(out, x, s);
      upsample_nearest_reference_forward(want.data(), x.data(), planes, shape[2], shape[3], s);
      CHECK(bit_identical(out, want));

      const Tensor dout = random_tensor(out.shape(), seed++);
      const Tensor start = random_tensor(shape, seed++);
      Tensor got = start.clone(), expect = start.clone();
      upsample_nearest_backward(got, dout, s);
      upsample_nearest_reference_backward(expect.data(), dout.data(), planes, shape[2], shape[3], s);
      CHECK(bit_identical(got, expect));
    }
}

TEST_CASE("upsample: the gradient matches finite differences in double", "[upsample]") {
  for (int64_t s : {2, 3}) {
    const Shape shape{2, 2, 3, 5};
    const int64_t planes = 4, H = 3, W = 5;
    const std::vector<double> x = rounded(random_doubles(size_t(shape.numel()), 91));
    const std::vector<double> w = rounded(random_doubles(size_t(planes * H * W * s * s), 92));
    auto f = [&](const std::vector<double>& xs) {
      std::vector<double> y(w.size());
      upsample_nearest_reference_forward(y.data(), xs.data(), planes, H, W, s);
      return dot(w, y);
    };
    const std::vector<double> numeric = numeric_gradient(f, x);
    std::vector<double> dx(x.size(), 0.0);
    upsample_nearest_reference_backward(dx.data(), w.data(), planes, H, W, s);
    for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(numeric[i]).margin(1e-8));

    Tape tape;
    const Var xv = tape.variable(tensor_from(shape, x));
    const Var y = upsample_nearest(tape, xv, s);
    REQUIRE(y.shape() == (Shape{2, 2, H * s, W * s}));
    tape.backward(dot_with(tape, y, tensor_from(y.shape(), w)));
    check_close(xv.grad(), numeric, 1e-5, 1e-6, "upsample through the tape");
  }
}

TEST_CASE("upsample: 1 and 2 threads give the same bits", "[upsample][threads]") {
  const Tensor x = random_tensor({2, 7, 33, 29}, 95);
  const Tensor dout = random_tensor(upsample_nearest_shape(x.shape(), 2), 96);
  Tensor out[2], grad[2];
  for (int k = 0; k < 2; ++k)
    with_threads(k + 1, [&] {
      out[k] = Tensor::empty(dout.shape());
      upsample_nearest_forward(out[k], x, 2);
      grad[k] = Tensor::zeros(x.shape());
      upsample_nearest_backward(grad[k], dout, 2);
    });
  CHECK(bit_identical(out[0], out[1]));
  CHECK(bit_identical(grad[0], grad[1]));
}

TEST_CASE("upsample: bad shapes and factors throw", "[upsample]") {
  CHECK_THROWS_WITH(upsample_nearest_shape(Shape{1, 3, 4}, 2), Catch::Contains("[N, C, H, W]"));
  CHECK_THROWS_WITH(upsample_nearest_shape(Shape{1, 3, 4, 4}, 0), Catch::Contains("factor 0"));
  const Tensor x = random_tensor({1, 2, 4, 4}, 97);
  Tensor wrong = Tensor::empty({1, 2, 8, 7});
  CHECK_THROWS_WITH(upsample_nearest_forward(wrong, x, 2), Catch::Contains("must be"));
}
