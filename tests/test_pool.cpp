#include <cmath>
#include <vector>

#include "nn/pool.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::random_tensor;
using nst::testing::to_double;

namespace {

std::string describe(const Shape& s, const Pool2dParams& p) {
  return str("input ", s.to_string(), " kernel ", p.kernel_h, "x", p.kernel_w, " stride ",
             p.stride_h, "x", p.stride_w);
}

Pool2dParams params(int64_t kh, int64_t kw, int64_t sh, int64_t sw) {
  Pool2dParams p;
  p.kernel_h = kh, p.kernel_w = kw, p.stride_h = sh, p.stride_w = sw;
  return p;
}

// Values on a coarse grid so that windows hold ties.
Tensor tied_tensor(const Shape& shape, uint64_t seed) {
  Tensor t = random_tensor(shape, seed, -2.0f, 2.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = std::round(t[i]);
  return t;
}

}  // namespace

TEST_CASE("pool2d: floor output sizes", "[pool]") {
  CHECK(pool2d_output_shape({1, 3, 7, 9}, Pool2dParams::square(2, 2)) == Shape{1, 3, 3, 4});
  CHECK(pool2d_output_shape({2, 1, 9, 9}, Pool2dParams::square(3, 2)) == Shape{2, 1, 4, 4});
  CHECK(pool2d_output_shape({1, 1, 5, 6}, params(3, 2, 1, 2)) == Shape{1, 1, 3, 3});
  CHECK(pool2d_output_shape({1, 1, 1, 1}, Pool2dParams::square(1, 1)) == Shape{1, 1, 1, 1});
}

TEST_CASE("pool2d: reference gradients match finite differences in double", "[pool]") {
  const std::vector<std::pair<Shape, Pool2dParams>> cases = {
      {{2, 2, 4, 6}, Pool2dParams::square(2, 2)},
      {{1, 2, 7, 9}, Pool2dParams::square(2, 2)},  // floor drops the last row / column
      {{1, 1, 7, 7}, Pool2dParams::square(3, 2)},  // overlapping windows
      {{1, 2, 5, 6}, params(3, 2, 1, 2)},
      {{1, 1, 3, 3}, Pool2dParams::square(1, 1)},
  };
  for (const auto& [shape, p] : cases) {
    INFO(describe(shape, p));
    const kernels::Pool2dGeometry g = pool2d_geometry("test", shape, p);
    auto inp = to_double(random_tensor(shape, 1));
    auto r = to_double(random_tensor({g.N, g.C, g.OH, g.OW}, 2));
    for (bool is_max : {true, false}) {
      INFO((is_max ? "max" : "avg"));
      auto f = [&](const std::vector<double>& v) {
        std::vector<double> out(r.size());
        if (is_max)
          max_pool2d_reference_forward(out.data(), v.data(), g);
        else
          avg_pool2d_reference_forward(out.data(), v.data(), g);
        double s = 0.0;
        for (size_t i = 0; i < out.size(); ++i) s += r[i] * out[i];
        return s;
      };
      std::vector<double> dinp(inp.size());
      if (is_max)
        max_pool2d_reference_backward(dinp.data(), r.data(), inp.data(), g);
      else
        avg_pool2d_reference_backward(dinp.data(), r.data(), g);
      auto num = testing::numeric_gradient(f, inp);
      for (size_t i = 0; i < inp.size(); ++i) CHECK(dinp[i] == Approx(num[i]).margin(1e-7));
    }
  }
}

TEST_CASE("max_pool2d: ties send the gradient to the first maximum in scan order", "[pool]") {
  // 2x2 stride 2 on a constant plane: each window's top-left pixel gets it.
  Tensor inp = Tensor::full({1, 1, 4, 4}, 3.0f);
  Tensor dout = Tensor::from({1, 1, 2, 2}, {1.0f, 2.0f, 3.0f, 4.0f});
  Tensor dinp = Tensor::zeros({1, 1, 4, 4});
  max_pool2d_backward(dinp, dout, inp, Pool2dParams::square(2, 2));
  const std::vector<float> want = {1, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4, 0, 0, 0, 0, 0};
  for (int i = 0; i < 16; ++i) CHECK(dinp[i] == want[size_t(i)]);
  // Overlapping 3x3 stride 1 windows sharing their maximum accumulate on it;
  // the tie in the second row goes to the earlier pixel (row 1, column 1).
  inp = Tensor::from({1, 1, 3, 4}, {0, 0, 0, 0, 0, 5, 5, 0, 0, 0, 0, 0});
  dout = Tensor::from({1, 1, 1, 2}, {1.0f, 10.0f});
  dinp = Tensor::zeros({1, 1, 3, 4});
  max_pool2d_backward(dinp, dout, inp, Pool2dParams::square(3, 1));
  CHECK(dinp[5] == 11.0f);
  CHECK(dinp[6] == 0.0f);
}

TEST_CASE("pool2d: fast kernels match the reference on odd shapes", "[pool]") {
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    const std::vector<Pool2dParams> all = {Pool2dParams::square(2, 2), Pool2dParams::square(3, 2),
                                           Pool2dParams::square(3, 1), Pool2dParams::square(1, 1),
                                           params(2, 3, 1, 2)};
    for (int64_t C : {1, 3, 5, 13})
      for (int64_t size : {1, 7, 9, 31})
        for (const Pool2dParams& p : all) {
          const Shape shape{2, C, size, size == 1 ? 1 : size + 2};
          if (p.kernel_h > shape[2] || p.kernel_w > shape[3]) continue;
          INFO(describe(shape, p));
          const kernels::Pool2dGeometry g = pool2d_geometry("test", shape, p);
          const Shape out_shape{g.N, g.C, g.OH, g.OW};
          Tensor inp = tied_tensor(shape, 1), dout = random_tensor(out_shape, 2);
          Tensor out = Tensor::empty(out_shape), want = Tensor::empty(out_shape);
          max_pool2d_forward(out, inp, p);
          max_pool2d_reference_forward(want.data(), inp.data(), g);
          CHECK(testing::bit_identical(out, want));
          avg_pool2d_forward(out, inp, p);
          avg_pool2d_reference_forward(want.data(), inp.data(), g);
          CHECK(testing::bit_identical(out, want));

          // Starting from -0.0f also checks that pixels which get no gradient keep their bits.
          Tensor dinp = Tensor::full(shape, -0.0f), dwant = Tensor::full(shape, -0.0f);
          max_pool2d_backward(dinp, dout, inp, p);
          max_pool2d_reference_backward(dwant.data(), dout.data(), inp.data(), g);
          CHECK(testing::bit_identical(dinp, dwant));
          // The byte-argmax path (what the autograd node keeps): same forward, same gradient.
          std::vector<uint8_t> argmax(size_t(out.numel()), 255);
          max_pool2d_forward(out, inp, p, argmax.data());
          max_pool2d_reference_forward(want.data(), inp.data(), g);
          CHECK(testing::bit_identical(out, want));
          for (uint8_t a : argmax) REQUIRE(a < p.kernel_h * p.kernel_w);
          max_pool2d_backward_argmax(dinp, dout, argmax.data(), p);
          max_pool2d_reference_backward(dwant.data(), dout.data(), inp.data(), g);
          CHECK(testing::bit_identical(dinp, dwant));
          // Writing a fresh gradient (no zeros first): the values of adding into zeros,
          // every element written (NaN would stay).
          Tensor fresh = Tensor::full(shape, std::nanf("")), zeros = Tensor::zeros(shape);
          max_pool2d_backward_argmax(fresh, dout, argmax.data(), p, false);
          max_pool2d_backward_argmax(zeros, dout, argmax.data(), p);
          CHECK(testing::same_values(fresh, zeros));
          avg_pool2d_backward(dinp, dout, p);
          avg_pool2d_reference_backward(dwant.data(), dout.data(), g);
          CHECK(testing::bit_identical(dinp, dwant));
        }
  });
}

TEST_CASE("pool2d: 1 and 2 threads give identical bits", "[pool]") {
  const Shape shape{2, 13, 63, 65};
  Tensor inp = tied_tensor(shape, 1);
  for (const Pool2dParams& p : {Pool2dParams::square(2, 2), Pool2dParams::square(3, 2)}) {
    const Shape out_shape = pool2d_output_shape(shape, p);
    Tensor dout = random_tensor(out_shape, 2);
    auto run = [&](int threads) {
      std::vector<Tensor> r = {Tensor::empty(out_shape), Tensor::empty(out_shape),
                               Tensor::zeros(shape), Tensor::zeros(shape)};
      testing::with_threads(threads, [&] {
        max_pool2d_forward(r[0], inp, p);
        avg_pool2d_forward(r[1], inp, p);
        max_pool2d_backward(r[2], dout, inp, p);
        avg_pool2d_backward(r[3], dout, p);
      });
      return r;
    };
    auto one = run(1), two = run(2);
    for (size_t i = 0; i < one.size(); ++i) CHECK(testing::bit_identical(one[i], two[i]));
  }
}

TEST_CASE("pool2d: bad shapes throw nst::Error naming the op and the shapes", "[pool]") {
  Tensor inp = Tensor::zeros({1, 3, 4, 5});
  Tensor out = Tensor::empty({1, 3, 2, 2});
  CHECK_THROWS_WITH(
      max_pool2d_forward(out, inp, Pool2dParams::square(5, 1)),
      Catch::Contains("max_pool2d: kernel 5x5 is bigger than the input [1, 3, 4, 5]"));
  CHECK_THROWS_WITH(avg_pool2d_forward(out, inp, Pool2dParams::square(2, 0)),
                    Catch::Contains("avg_pool2d") && Catch::Contains("stride 0x0"));
  Tensor out_bad = Tensor::empty({1, 3, 2, 3});
  CHECK_THROWS_WITH(
      max_pool2d_forward(out_bad, inp, Pool2dParams::square(2, 2)),
      Catch::Contains("max_pool2d: output has shape [1, 3, 2, 3], expected [1, 3, 2, 2]"));
  Tensor dinp_bad = Tensor::zeros({1, 3, 4, 4});
  CHECK_THROWS_WITH(max_pool2d_backward(dinp_bad, out, inp, Pool2dParams::square(2, 2)),
                    Catch::Contains("max_pool2d: input gradient has shape [1, 3, 4, 4]"));
  Tensor dout_bad = Tensor::zeros({1, 2, 2, 2});
  CHECK_THROWS_WITH(avg_pool2d_backward(dinp_bad, dout_bad, Pool2dParams::square(2, 2)),
                    Catch::Contains("avg_pool2d: output gradient has shape [1, 2, 2, 2]"));
  CHECK_THROWS_WITH(pool2d_output_shape({3, 4, 5}, Pool2dParams::square(2, 2)),
                    Catch::Contains("[3, 4, 5]"));
}

TEST_CASE("pool2d: autograd wires the free functions", "[pool][autograd]") {
  const Shape shape{2, 3, 7, 8};
  const Pool2dParams p = Pool2dParams::square(3, 2);
  Tensor xv = random_tensor(shape, 1);
  const Shape out_shape = pool2d_output_shape(shape, p);
  Tensor r = random_tensor(out_shape, 2);
  for (bool is_max : {true, false}) {
    Tape tape;
    Var x = tape.variable(xv);
    Var y = is_max ? max_pool2d(tape, x, p) : avg_pool2d(tape, x, p);
    Tensor want_y = Tensor::empty(out_shape), want_dx = Tensor::zeros(shape);
    if (is_max) {
      max_pool2d_forward(want_y, xv, p);
      max_pool2d_backward(want_dx, r, xv, p);
    } else {
      avg_pool2d_forward(want_y, xv, p);
      avg_pool2d_backward(want_dx, r, p);
    }
    CHECK(testing::bit_identical(y.value(), want_y));
    // loss = <y, r>
    double s = 0.0;
    for (int64_t i = 0; i < r.numel(); ++i) s += double(y.value()[i]) * r[i];
    Var loss = tape.record("dot", Tensor::from({1}, {float(s)}), {y},
                           [yv = y, r](const Tensor& dout) mutable {
                             Tensor& dy = yv.grad_accumulator();
                             for (int64_t i = 0; i < r.numel(); ++i) dy[i] += dout[0] * r[i];
                           });
    tape.backward(loss);
    CHECK(testing::bit_identical(x.grad(), want_dx));
  }
}
