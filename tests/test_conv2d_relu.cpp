// conv2d_relu: the fused autograd node against relu(conv2d(...)), finite
// differences of the composed reference in double, threads, bad shapes.
#include <algorithm>
#include <vector>

#include "nn/conv2d.hpp"
#include "nn/relu.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::random_tensor;
using nst::testing::to_double;

using nst::testing::dot_with;

namespace {


struct Grads {
  Tensor y, dx, dw, db;
};

Grads run(bool fused, const Tensor& xv, const Tensor& wv, const Tensor& bv, const Tensor& r,
          const Conv2dParams& p) {
  Tape tape;
  Var x = tape.variable(xv), w = tape.variable(wv), b = tape.variable(bv);
  Var y = fused ? conv2d_relu(tape, x, w, b, p) : relu(tape, conv2d(tape, x, w, b, p));
  const Tensor y_value = y.value().clone();  // backward() reuses and releases recorded values
  tape.backward(dot_with(tape, y, r));
  return {y_value, x.grad(), w.grad(), b.grad()};
}

}  // namespace

TEST_CASE("conv2d_relu: same bits as relu(conv2d) at every SIMD level, odd shapes",
          "[conv2d_relu]") {
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  for (int64_t C : {1, 3, 5, 13})
    for (int64_t H : {1, 7, 9, 31}) {
      const int64_t OC = C == 13 ? 5 : 13, W = H == 31 ? 7 : H;
      INFO("C=" << C << " OC=" << OC << " H=" << H << " W=" << W);
      const Tensor xv = random_tensor({1, C, H, W}, 1), wv = random_tensor({OC, C, 3, 3}, 2);
      const Tensor bv = random_tensor({OC}, 3), r = random_tensor({1, OC, H, W}, 4);
      testing::for_each_simd_level([&](kernels::SimdLevel) {
        const Grads want = run(false, xv, wv, bv, r, p), got = run(true, xv, wv, bv, r, p);
        CHECK(testing::bit_identical(got.y, want.y));
        CHECK(testing::bit_identical(got.dx, want.dx));
        CHECK(testing::bit_identical(got.dw, want.dw));
        CHECK(testing::bit_identical(got.db, want.db));
      });
    }
}

TEST_CASE("conv2d_relu: gradients match finite differences in double", "[conv2d_relu]") {
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  const Shape xs{1, 3, 5, 4}, ws{4, 3, 3, 3};
  const Tensor xv = random_tensor(xs, 5), wv = random_tensor(ws, 6), bv = random_tensor({4}, 7);
  const Tensor r = random_tensor({1, 4, 5, 4}, 8);
  const kernels::ConvGeometry g = conv2d_geometry(xs, ws, p);
  const std::vector<double> x = to_double(xv), w = to_double(wv), b = to_double(bv),
                            rd = to_double(r);
  // <r, max(conv(x, w) + b, 0)> with the reference conv in double.
  auto loss = [&](const std::vector<double>& xx, const std::vector<double>& ww,
                  const std::vector<double>& bb) {
    std::vector<double> out(rd.size());
    conv2d_reference_forward(out.data(), xx.data(), ww.data(), bb.data(), g);
    double s = 0;
    for (size_t i = 0; i < out.size(); ++i) s += rd[i] * std::max(out[i], 0.0);
    return s;
  };
  const Grads got = run(true, xv, wv, bv, r, p);
  const auto nx =
      testing::numeric_gradient([&](const std::vector<double>& v) { return loss(v, w, b); }, x);
  const auto nw =
      testing::numeric_gradient([&](const std::vector<double>& v) { return loss(x, v, b); }, w);
  const auto nb =
      testing::numeric_gradient([&](const std::vector<double>& v) { return loss(x, w, v); }, b);
  testing::check_close(got.dx, nx, 1e-3, 1e-3);
  testing::check_close(got.dw, nw, 1e-3, 1e-3);
  testing::check_close(got.db, nb, 1e-3, 1e-3);
}

TEST_CASE("conv2d_relu: 1 and 2 threads give identical bits", "[conv2d_relu]") {
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  const Tensor xv = random_tensor({1, 13, 31, 33}, 1), wv = random_tensor({37, 13, 3, 3}, 2);
  const Tensor bv = random_tensor({37}, 3), r = random_tensor({1, 37, 31, 33}, 4);
  Grads one, two;
  testing::with_threads(1, [&] { one = run(true, xv, wv, bv, r, p); });
  testing::with_threads(2, [&] { two = run(true, xv, wv, bv, r, p); });
  CHECK(testing::bit_identical(one.y, two.y));
  CHECK(testing::bit_identical(one.dx, two.dx));
  CHECK(testing::bit_identical(one.dw, two.dw));
}

TEST_CASE("conv2d_relu: bad shapes throw nst::Error naming conv2d", "[conv2d_relu]") {
  Tape tape;
  Var x = tape.variable(random_tensor({1, 3, 5, 5}, 1));
  Var w = tape.constant(random_tensor({4, 2, 3, 3}, 2));
  CHECK_THROWS_WITH(conv2d_relu(tape, x, w, Var(), Conv2dParams::symmetric(1, 1)),
                    Catch::Contains("conv2d") && Catch::Contains("[1, 3, 5, 5]"));
  CHECK_THROWS_AS(conv2d_relu(tape, Var(), w, Var(), Conv2dParams::symmetric(1, 1)), Error);
}

TEST_CASE("conv2d_relu: frozen weights on the Winograd path, same bits as relu(conv2d)",
          "[conv2d_relu][winograd]") {
  // Only x wants a gradient: the fused node keeps one bit per output (where
  // it was > 0), masks dout in place and runs the Winograd input gradient.
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  const Tensor xv = random_tensor({2, 17, 13, 9}, 31), wv = random_tensor({20, 17, 3, 3}, 32);
  const Tensor bv = random_tensor({20}, 33), r = random_tensor({2, 20, 13, 9}, 34);
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    Tensor dx[2];
    for (int fused = 0; fused < 2; ++fused) {
      Tape tape;
      Var x = tape.variable(xv), w = tape.constant(wv), b = tape.constant(bv);
      Var y = fused ? conv2d_relu(tape, x, w, b, p) : relu(tape, conv2d(tape, x, w, b, p));
      tape.backward(dot_with(tape, y, r));
      dx[fused] = x.grad();
    }
    CHECK(testing::bit_identical(dx[1], dx[0]));
  });
}
