#include "nn/channel_affine.hpp"
#include "ops_testing.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

// Caffe-style: RGB 0..255 -> BGR minus the mean, and a 5-channel permutation.
ChannelAffine affine_for(int64_t C) {
  ChannelAffine a;
  for (int64_t c = 0; c < C; ++c) {
    a.from.push_back(C - 1 - c);
    a.scale.push_back(0.5f + 0.25f * float(c));
    a.shift.push_back(-10.0f * float(c) + 3.0f);
  }
  return a;
}

}  // namespace

TEST_CASE("channel_affine: fast path matches the reference on odd shapes at every SIMD level",
          "[channel_affine]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 7;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const ChannelAffine a = affine_for(shape[1]);
      const int64_t M = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++, -100.0f, 300.0f);
      Tensor out = Tensor::empty(shape), want = Tensor::empty(shape);
      channel_affine_forward(out, x, a);
      channel_affine_reference_forward(want.data(), x.data(), a, shape[0], shape[1], M);
      check_close(out, want, 1e-6, 1e-5, "forward");
      const Tensor dout = random_tensor(shape, seed++);
      const Tensor start = random_tensor(shape, seed++);
      Tensor dx = start.clone(), dx_want = start.clone();
      channel_affine_backward(dx, dout, a);
      channel_affine_reference_backward(dx_want.data(), dout.data(), a, shape[0], shape[1], M);
      check_close(dx, dx_want, 1e-6, 1e-6, "backward accumulates");
    }
  });
}

TEST_CASE("channel_affine: gradient matches finite differences in double", "[channel_affine]") {
  constexpr int64_t N = 2, C = 3, H = 3, W = 4, M = H * W, n = N * C * M;
  const ChannelAffine a = affine_for(C);
  const std::vector<double> x = random_doubles(size_t(n), 11);
  const std::vector<double> r = random_doubles(size_t(n), 12);
  const auto f = [&](const std::vector<double>& v) {
    std::vector<double> y(static_cast<size_t>(n));
    channel_affine_reference_forward(y.data(), v.data(), a, N, C, M);
    return dot(y, r);
  };
  std::vector<double> g(size_t(n), 0.0);
  channel_affine_reference_backward(g.data(), r.data(), a, N, C, M);
  const std::vector<double> want = numeric_gradient(f, x);
  for (size_t i = 0; i < g.size(); ++i) CHECK(g[i] == Approx(want[i]).margin(1e-8));
}

TEST_CASE("channel_affine: the tape op and Vgg19's input convention", "[channel_affine]") {
  const Shape shape{2, 3, 5, 7};
  const ChannelAffine a = affine_for(3);
  const Tensor x = random_tensor(shape, 3, 0.0f, 255.0f);
  const Tensor r = random_tensor(shape, 4);
  Tape tape;
  const Var xv = tape.variable(x);
  const Var y = channel_affine(tape, xv, a);
  tape.backward(dot_with(tape, y, r));
  Tensor want = Tensor::zeros(shape);
  channel_affine_backward(want, r, a);
  CHECK(bit_identical(xv.grad(), want));

  ChannelAffine bad = a;
  bad.from = {0, 0, 1};
  Tensor out = Tensor::empty(shape);
  CHECK_THROWS_WITH(channel_affine_forward(out, x, bad), Catch::Contains("not a permutation"));
  bad = a;
  bad.scale.pop_back();
  CHECK_THROWS_WITH(channel_affine_forward(out, x, bad), Catch::Contains("3 channels"));
}
