// Reflection padding (nn/pad.hpp): the mirror positions, the fast forward and
// backward against the plain loops on odd shapes and pads wider than the
// picture, the gradient against finite differences in double, threads, errors.
#include "nn/pad.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("reflect_pad: mirror positions without repeating the edge", "[pad]") {
  // 0 1 2 3 mirrored: ... 0 1 2 3 2 1 | 0 1 2 3 | 2 1 0 1 ...
  const int64_t want[] = {0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1};
  for (int64_t k = -6; k <= 7; ++k) CHECK(reflect_index(k, 4) == want[k + 6]);
  for (int64_t k = -5; k <= 5; ++k) CHECK(reflect_index(k, 1) == 0);
  CHECK(reflect_index(-1, 2) == 1);
  CHECK(reflect_index(2, 2) == 0);
}

TEST_CASE("reflect_pad: forward and backward match the plain loops on odd shapes", "[pad]") {
  const Pad2d pads[] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 0, 1}, {4, 4, 4, 4}, {3, 0, 9, 2},
                        {40, 33, 35, 38}};
  uint64_t seed = 500;
  for (const Shape& shape : odd_shapes())
    for (const Pad2d& p : pads) {
      INFO("shape " << shape.to_string() << " pad " << p.top << " " << p.bottom << " " << p.left
                    << " " << p.right);
      const Tensor x = random_tensor(shape, seed++);
      Tensor out = Tensor::empty(reflect_pad_shape(shape, p));
      Tensor want = Tensor::empty(out.shape());
      const int64_t planes = shape[0] * shape[1];
      reflect_pad_forward(out, x, p);
      reflect_pad_reference_forward(want.data(), x.data(), planes, shape[2], shape[3], p);
      CHECK(bit_identical(out, want));

      const Tensor dout = random_tensor(out.shape(), seed++);
      const Tensor start = random_tensor(shape, seed++);
      Tensor got = start.clone(), expect = start.clone();
      reflect_pad_backward(got, dout, p);
      reflect_pad_reference_backward(expect.data(), dout.data(), planes, shape[2], shape[3], p);
      CHECK(bit_identical(got, expect));
    }
}

TEST_CASE("reflect_pad: the gradient matches finite differences in double", "[pad]") {
  for (const Pad2d& p : {Pad2d{2, 1, 3, 0}, Pad2d{4, 4, 4, 4}, Pad2d{7, 2, 1, 6}}) {
    const Shape shape{2, 2, 3, 5};
    const int64_t planes = 4, H = 3, W = 5;
    const int64_t Ho = H + p.top + p.bottom, Wo = W + p.left + p.right;
    const std::vector<double> x = rounded(random_doubles(size_t(shape.numel()), 61));
    const std::vector<double> w = rounded(random_doubles(size_t(planes * Ho * Wo), 62));
    auto f = [&](const std::vector<double>& xs) {
      std::vector<double> y(w.size());
      reflect_pad_reference_forward(y.data(), xs.data(), planes, H, W, p);
      return dot(w, y);
    };
    const std::vector<double> numeric = numeric_gradient(f, x);
    std::vector<double> dx(x.size(), 0.0);
    reflect_pad_reference_backward(dx.data(), w.data(), planes, H, W, p);
    for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(numeric[i]).margin(1e-8));

    // Through the tape, in float.
    Tape tape;
    const Var xv = tape.variable(tensor_from(shape, x));
    const Var y = reflect_pad(tape, xv, p);
    REQUIRE(y.shape() == (Shape{2, 2, Ho, Wo}));
    tape.backward(dot_with(tape, y, tensor_from(y.shape(), w)));
    check_close(xv.grad(), numeric, 1e-5, 1e-6, "reflect_pad through the tape");
  }
}

TEST_CASE("reflect_pad: 1 and 2 threads give the same bits", "[pad][threads]") {
  const Tensor x = random_tensor({2, 7, 33, 29}, 71);
  const Pad2d p{4, 3, 4, 5};
  const Tensor dout = random_tensor(reflect_pad_shape(x.shape(), p), 72);
  Tensor out[2], grad[2];
  for (int k = 0; k < 2; ++k)
    with_threads(k + 1, [&] {
      out[k] = Tensor::empty(dout.shape());
      reflect_pad_forward(out[k], x, p);
      grad[k] = Tensor::zeros(x.shape());
      reflect_pad_backward(grad[k], dout, p);
    });
  CHECK(bit_identical(out[0], out[1]));
  CHECK(bit_identical(grad[0], grad[1]));
}

TEST_CASE("reflect_pad: bad shapes and pads throw", "[pad]") {
  CHECK_THROWS_WITH(reflect_pad_shape(Shape{1, 3, 4}, Pad2d{1, 1, 1, 1}),
                    Catch::Contains("[N, C, H, W]"));
  CHECK_THROWS_WITH(reflect_pad_shape(Shape{1, 3, 0, 4}, Pad2d{}), Catch::Contains("H, W >= 1"));
  CHECK_THROWS_WITH(reflect_pad_shape(Shape{1, 3, 4, 4}, Pad2d{1, -1, 1, 1}),
                    Catch::Contains("negative padding"));
  const Tensor x = random_tensor({1, 2, 4, 4}, 81);
  Tensor wrong = Tensor::empty({1, 2, 6, 5});
  CHECK_THROWS_WITH(reflect_pad_forward(wrong, x, Pad2d{1, 1, 1, 1}), Catch::Contains("must be"));
}
