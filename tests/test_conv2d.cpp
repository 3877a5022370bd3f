#include <array>
#include <cmath>
#include <vector>

#include "nn/conv2d.hpp"
#include "nn/kernels/conv_direct.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::check_close;
using nst::testing::random_tensor;
using nst::testing::to_double;

using nst::testing::dot_with;

namespace {

struct Case {
  int64_t N, C, H, W, OC, KH, KW;
  Conv2dParams p;
};

std::string describe(const Case& c) {
  return str("N=", c.N, " C=", c.C, " H=", c.H, " W=", c.W, " OC=", c.OC, " k=", c.KH, "x", c.KW,
             " stride=", c.p.stride_h, "x", c.p.stride_w, " pad t/b/l/r=", c.p.pad_top, "/",
             c.p.pad_bottom, "/", c.p.pad_left, "/", c.p.pad_right);
}

// <r, conv2d_reference(inp, weight, bias)> in double: a scalar whose gradient
// is the backward of dout = r.
double probe(const std::vector<double>& inp, const std::vector<double>& weight,
             const std::vector<double>& bias, const std::vector<double>& r,
             const kernels::ConvGeometry& g) {
  std::vector<double> out(r.size());
  conv2d_reference_forward(out.data(), inp.data(), weight.data(), bias.data(), g);
  double s = 0.0;
  for (size_t i = 0; i < out.size(); ++i) s += r[i] * out[i];
  return s;
}

}  // namespace

TEST_CASE("conv2d: SAME and symmetric padding", "[conv2d]") {
  // TF SAME, stride 2, k 3, even size: pad_total 1, the extra pixel bottom/right.
  Conv2dParams p = Conv2dParams::same(3, 3, 2, 8, 6);
  CHECK(p.pad_top == 0);
  CHECK(p.pad_bottom == 1);
  CHECK(p.pad_left == 0);
  CHECK(p.pad_right == 1);
  CHECK(conv2d_output_shape({1, 2, 8, 6}, {4, 2, 3, 3}, p) == Shape{1, 4, 4, 3});
  // Odd size: pad_total 2, split evenly.
  p = Conv2dParams::same(3, 3, 2, 7, 7);
  CHECK((p.pad_top == 1 && p.pad_bottom == 1));
  CHECK(conv2d_output_shape({1, 2, 7, 7}, {4, 2, 3, 3}, p) == Shape{1, 4, 4, 4});
  p = Conv2dParams::same(9, 1, 1, 5, 5);
  CHECK((p.pad_top == 4 && p.pad_bottom == 4 && p.pad_left == 0 && p.pad_right == 0));
  CHECK(conv2d_output_shape({2, 1, 5, 5}, {3, 1, 9, 1}, p) == Shape{2, 3, 5, 5});
  p = Conv2dParams::symmetric(1, 2);
  CHECK(conv2d_output_shape({1, 3, 9, 8}, {5, 3, 3, 3}, p) == Shape{1, 5, 5, 4});
}

TEST_CASE("conv2d: reference gradients match finite differences in double", "[conv2d]") {
  Conv2dParams asym;  // stride (2, 1), every pad different
  asym.stride_h = 2, asym.pad_top = 0, asym.pad_bottom = 1, asym.pad_left = 2, asym.pad_right = 1;
  const std::vector<Case> cases = {
      {2, 3, 5, 4, 2, 1, 1, Conv2dParams::symmetric(0, 1)},
      {1, 2, 6, 6, 3, 3, 3, Conv2dParams::same(3, 3, 2, 6, 6)},  // pads 0/1
      {1, 2, 5, 7, 2, 3, 3, Conv2dParams::symmetric(1, 1)},
      {1, 1, 9, 10, 2, 9, 9, Conv2dParams::same(9, 9, 1, 9, 10)},
      {2, 2, 5, 4, 3, 3, 2, asym},
  };
  for (const Case& c : cases) {
    INFO(describe(c));
    const kernels::ConvGeometry g =
        conv2d_geometry({c.N, c.C, c.H, c.W}, {c.OC, c.C, c.KH, c.KW}, c.p);
    auto inp = to_double(random_tensor({c.N, c.C, c.H, c.W}, 1));
    auto weight = to_double(random_tensor({c.OC, c.C, c.KH, c.KW}, 2));
    auto bias = to_double(random_tensor({c.OC}, 3));
    auto r = to_double(random_tensor({c.N, c.OC, g.OH, g.OW}, 4));

    std::vector<double> dinp(inp.size()), dweight(weight.size()), dbias(bias.size());
    conv2d_reference_backward_input(dinp.data(), r.data(), weight.data(), g);
    conv2d_reference_backward_weight(dweight.data(), dbias.data(), r.data(), inp.data(), g);

    auto num_inp = testing::numeric_gradient(
        [&](const std::vector<double>& v) { return probe(v, weight, bias, r, g); }, inp);
    auto num_weight = testing::numeric_gradient(
        [&](const std::vector<double>& v) { return probe(inp, v, bias, r, g); }, weight);
    auto num_bias = testing::numeric_gradient(
        [&](const std::vector<double>& v) { return probe(inp, weight, v, r, g); }, bias);
    for (size_t i = 0; i < inp.size(); ++i) CHECK(dinp[i] == Approx(num_inp[i]).margin(1e-7));
    for (size_t i = 0; i < weight.size(); ++i)
      CHECK(dweight[i] == Approx(num_weight[i]).margin(1e-7));
    for (size_t i = 0; i < bias.size(); ++i) CHECK(dbias[i] == Approx(num_bias[i]).margin(1e-7));
  }
}

namespace {

// Fast forward / backward against the double reference for one case.
void check_fast_against_reference(const Case& c) {
  INFO(describe(c));
  const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.OC, c.C, c.KH, c.KW};
  const kernels::ConvGeometry g = conv2d_geometry(in_shape, w_shape, c.p);
  const Shape out_shape{c.N, c.OC, g.OH, g.OW};
  Tensor inp = random_tensor(in_shape, 11), weight = random_tensor(w_shape, 12);
  Tensor bias = random_tensor({c.OC}, 13), dout = random_tensor(out_shape, 14);
  const double tol = 2e-6 * double(g.col_rows()) + 1e-5;

  std::vector<double> want(size_t(out_shape.numel()));
  auto inp_d = to_double(inp), w_d = to_double(weight), b_d = to_double(bias);
  auto dout_d = to_double(dout);
  conv2d_reference_forward(want.data(), inp_d.data(), w_d.data(), b_d.data(), g);
  Tensor out = Tensor::empty(out_shape);
  conv2d_forward(out, inp, weight, &bias, c.p);
  check_close(out, want, tol, tol, "forward");
  conv2d_forward(out, inp, weight, &bias, c.p, Conv2dEpilogue::relu);
  for (double& v : want) v = std::max(v, 0.0);
  check_close(out, want, tol, tol, "forward + relu");

  // Backward accumulates: start from ones and expect ones + gradient.
  std::vector<double> dinp_want(size_t(inp.numel()), 1.0);
  conv2d_reference_backward_input(dinp_want.data(), dout_d.data(), w_d.data(), g);
  Tensor dinp = Tensor::full(in_shape, 1.0f);
  conv2d_backward_input(dinp, dout, weight, c.p);
  check_close(dinp, dinp_want, tol, tol, "backward input");

  std::vector<double> dw_want(size_t(weight.numel()), 1.0), db_want(size_t(c.OC), 1.0);
  conv2d_reference_backward_weight(dw_want.data(), db_want.data(), dout_d.data(), inp_d.data(), g);
  Tensor dweight = Tensor::full(w_shape, 1.0f), dbias = Tensor::full({c.OC}, 1.0f);
  conv2d_backward_weight(dweight, &dbias, dout, inp, c.p);
  const double wtol = 2e-6 * double(c.N * g.positions()) + 1e-5;
  check_close(dweight, dw_want, wtol, wtol, "backward weight");
  check_close(dbias, db_want, wtol, wtol, "backward bias");
}

}  // namespace

TEST_CASE("conv2d: fast kernels match the reference on odd shapes", "[conv2d]") {
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    const int64_t channels[] = {1, 3, 5, 13};
    int variant = 0;
    for (int64_t C : channels)
      for (int64_t size : {1, 7, 9, 31})
        for (int64_t k : {1, 3})
          for (int64_t s : {1, 2}) {
            const int64_t OC = channels[(variant + 1) % 4];
            const int64_t H = size, W = size == 1 ? 1 : size + 2;
            const Conv2dParams p = variant % 2 ? Conv2dParams::same(k, k, s, H, W)
                                               : Conv2dParams::symmetric((k - 1) / 2, s);
            check_fast_against_reference({1 + variant % 2, C, H, W, OC, k, k, p});
            ++variant;
          }
  });
}

TEST_CASE("conv2d: several im2col tiles per image", "[conv2d]") {
  // K = 1296 makes tiles of 800 positions: 37x37 needs two, the last partial
  // and starting mid-row; the second case strides by 2 with K = 1568.
  check_fast_against_reference({1, 16, 37, 37, 4, 9, 9, Conv2dParams::same(9, 9, 1, 37, 37)});
  check_fast_against_reference({2, 32, 61, 61, 3, 7, 7, Conv2dParams::same(7, 7, 2, 61, 61)});
  // 1x1 stride 1 without padding reads the input directly (no col), two images.
  check_fast_against_reference({2, 13, 9, 11, 5, 1, 1, Conv2dParams::symmetric(0, 1)});
  CHECK(kernels::col_tile_positions(conv2d_geometry({1, 16, 37, 37}, {4, 16, 9, 9},
                                                    Conv2dParams::same(9, 9, 1, 37, 37))) == 800);
}

TEST_CASE("conv2d: 1 and 2 threads give identical bits", "[conv2d]") {
  const Conv2dParams p = Conv2dParams::same(3, 3, 2, 45, 47);
  const Shape in_shape{2, 13, 45, 47}, w_shape{24, 13, 3, 3};
  const Shape out_shape = conv2d_output_shape(in_shape, w_shape, p);
  Tensor inp = random_tensor(in_shape, 1), weight = random_tensor(w_shape, 2);
  Tensor bias = random_tensor({24}, 3), dout = random_tensor(out_shape, 4);
  auto run = [&](int threads) {
    std::vector<Tensor> r = {Tensor::empty(out_shape), Tensor::zeros(in_shape),
                             Tensor::zeros(w_shape), Tensor::zeros({24})};
    testing::with_threads(threads, [&] {
      conv2d_forward(r[0], inp, weight, &bias, p, Conv2dEpilogue::relu);
      conv2d_backward_input(r[1], dout, weight, p);
      conv2d_backward_weight(r[2], &r[3], dout, inp, p);
    });
    return r;
  };
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    auto one = run(1), two = run(2);
    for (size_t i = 0; i < one.size(); ++i) CHECK(testing::bit_identical(one[i], two[i]));
  });
}

TEST_CASE("conv2d: bad shapes throw nst::Error naming conv2d and the shapes", "[conv2d]") {
  Tensor inp = Tensor::zeros({1, 3, 8, 8});
  Tensor out = Tensor::empty({1, 4, 8, 8});
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  Tensor w_bad_c = Tensor::zeros({4, 5, 3, 3});
  CHECK_THROWS_WITH(conv2d_forward(out, inp, w_bad_c, nullptr, p),
                    Catch::Contains("conv2d") && Catch::Contains("[1, 3, 8, 8]") &&
                        Catch::Contains("[4, 5, 3, 3]") && Catch::Contains("channels"));
  Tensor w_big = Tensor::zeros({4, 3, 11, 3});
  CHECK_THROWS_WITH(conv2d_output_shape(inp.shape(), w_big.shape(), p),
                    Catch::Contains("conv2d") && Catch::Contains("kernel 11x3") &&
                        Catch::Contains("padded input 10x10"));
  Tensor w = Tensor::zeros({4, 3, 3, 3}), bias_bad = Tensor::zeros({5});
  CHECK_THROWS_WITH(conv2d_forward(out, inp, w, &bias_bad, p),
                    Catch::Contains("conv2d: bias has shape [5], expected [4]"));
  Tensor out_bad = Tensor::empty({1, 4, 7, 8});
  CHECK_THROWS_WITH(
      conv2d_forward(out_bad, inp, w, nullptr, p),
      Catch::Contains("conv2d: output has shape [1, 4, 7, 8], expected [1, 4, 8, 8]"));
  Tensor dw = Tensor::zeros({4, 3, 3, 3}), dout_bad = Tensor::zeros({1, 4, 8, 7});
  CHECK_THROWS_WITH(conv2d_backward_weight(dw, nullptr, dout_bad, inp, p),
                    Catch::Contains("conv2d: output gradient has shape [1, 4, 8, 7]"));
  CHECK_THROWS_WITH(conv2d_output_shape({3, 8, 8}, w.shape(), p), Catch::Contains("conv2d"));
  CHECK_THROWS_AS(conv2d_output_shape(inp.shape(), w.shape(), Conv2dParams::symmetric(-1, 1)),
                  Error);
  CHECK_THROWS_AS(conv2d_output_shape(inp.shape(), w.shape(), Conv2dParams::symmetric(1, 0)),
                  Error);
  CHECK_THROWS_AS(Conv2dParams::same(3, 3, 0, 8, 8), Error);
  Tensor square = Tensor::zeros({1, 4, 8, 8}), w44 = Tensor::zeros({4, 4, 3, 3});
  CHECK_THROWS_WITH(conv2d_forward(square, square, w44, nullptr, p),
                    Catch::Contains("conv2d: the output must not share memory with the input"));
}

TEST_CASE("conv2d: autograd wires the free functions, frozen weight gets no gradient",
          "[conv2d][autograd]") {
  const Conv2dParams p = Conv2dParams::same(3, 3, 2, 7, 8);
  const Shape in_shape{2, 3, 7, 8}, w_shape{5, 3, 3, 3};
  const Shape out_shape = conv2d_output_shape(in_shape, w_shape, p);
  Tensor xv = random_tensor(in_shape, 1), wv = random_tensor(w_shape, 2);
  Tensor bv = random_tensor({5}, 3), r = random_tensor(out_shape, 4);

  Tensor want_dx = Tensor::zeros(in_shape), want_dw = Tensor::zeros(w_shape);
  Tensor want_db = Tensor::zeros({5});
  conv2d_backward_input(want_dx, r, wv, p);
  conv2d_backward_weight(want_dw, &want_db, r, xv, p);

  for (bool weight_frozen : {true, false}) {
    Tape tape;
    Var x = tape.variable(xv);
    Var w = weight_frozen ? tape.constant(wv) : tape.variable(wv);
    Var b = tape.variable(bv);
    Var y = conv2d(tape, x, w, b, p);
    Tensor want_y = Tensor::empty(out_shape);
    conv2d_forward(want_y, xv, wv, &bv, p);
    CHECK(testing::bit_identical(y.value(), want_y));
    tape.backward(dot_with(tape, y, r));
    CHECK(testing::bit_identical(x.grad(), want_dx));
    CHECK(testing::bit_identical(b.grad(), want_db));
    if (weight_frozen)
      CHECK_FALSE(w.grad().defined());
    else
      CHECK(testing::bit_identical(w.grad(), want_dw));
  }
  // No bias, constant input: only the weight gradient.
  Tape tape;
  Var x = tape.constant(xv);
  Var w = tape.variable(wv);
  Var y = conv2d(tape, x, w, Var(), p);
  tape.backward(dot_with(tape, y, r));
  CHECK_FALSE(x.grad().defined());
  Tensor want_dw_only = Tensor::zeros(w_shape);
  conv2d_backward_weight(want_dw_only, nullptr, r, xv, p);
  CHECK(testing::bit_identical(w.grad(), want_dw_only));
}

TEST_CASE("conv2d: steady state allocates nothing (pooled scratch)", "[conv2d]") {
  const Conv2dParams p = Conv2dParams::same(3, 3, 1, 20, 21);
  const Shape in_shape{1, 8, 20, 21}, w_shape{6, 8, 3, 3};
  Tensor inp = random_tensor(in_shape, 1), weight = random_tensor(w_shape, 2);
  Tensor out = Tensor::empty(conv2d_output_shape(in_shape, w_shape, p));
  Tensor dinp = Tensor::zeros(in_shape), dweight = Tensor::zeros(w_shape);
  auto step = [&] {
    conv2d_forward(out, inp, weight, nullptr, p);
    conv2d_backward_input(dinp, out, weight, p);
    conv2d_backward_weight(dweight, nullptr, out, inp, p);
  };
  step();
  const int64_t before = BufferPool::global().fresh_allocations();
  for (int i = 0; i < 3; ++i) step();
  CHECK(BufferPool::global().fresh_allocations() == before);
}

TEST_CASE("conv2d: a fresh input gradient is written, not added to zeros", "[conv2d]") {
  // 3x3 stride 1 (Winograd), stride 2 and 1x1 (im2col / GEMM), odd sizes.
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    uint64_t seed = 77;
    for (const auto& [C, OC, H, W, k, s] :
         std::vector<std::array<int64_t, 6>>{{5, 7, 13, 9, 3, 1},
                                             {3, 64, 31, 17, 3, 1},
                                             {5, 7, 13, 9, 3, 2},
                                             {13, 5, 9, 7, 1, 1}}) {
      INFO("C " << C << " OC " << OC << " " << H << "x" << W << " k " << k << " s " << s);
      const Conv2dParams p = Conv2dParams::symmetric((k - 1) / 2, s);
      const Shape in{2, C, H, W};
      const Tensor weight = testing::random_tensor({OC, C, k, k}, seed++);
      const Tensor dout =
          testing::random_tensor(conv2d_output_shape(in, weight.shape(), p), seed++);
      Tensor fresh = Tensor::full(in, std::nanf("")), zeros = Tensor::zeros(in);
      conv2d_backward_input(fresh, dout, weight, p, false);
      conv2d_backward_input(zeros, dout, weight, p);
      CHECK(testing::same_values(fresh, zeros));
    }
  });
}

TEST_CASE("conv2d: the direct kernel (few channels, strided) matches the reference", "[conv2d]") {
  // The feed-forward style network's 9x9 convs (3 -> 32, 32 -> 3) and stride-2
  // 3x3 convs, at odd sizes: column tails of every SIMD width, several row
  // bands, channel panels with a partial last one; strides 2 and 3.
  const std::vector<Case> cases = {
      {1, 3, 13, 11, 32, 9, 9, Conv2dParams::same(9, 9, 1, 13, 11)},
      {1, 32, 11, 37, 3, 9, 9, Conv2dParams::same(9, 9, 1, 11, 37)},
      {2, 5, 7, 9, 1, 9, 9, Conv2dParams::same(9, 9, 1, 7, 9)},
      {1, 3, 40, 9, 2, 5, 3, Conv2dParams::symmetric(2, 1)},
      {2, 13, 17, 21, 24, 3, 3, Conv2dParams::same(3, 3, 2, 17, 21)},
      {1, 9, 16, 35, 10, 3, 3, Conv2dParams::same(3, 3, 2, 16, 35)},
      {1, 4, 19, 20, 7, 5, 5, Conv2dParams::same(5, 5, 3, 19, 20)},
      {1, 6, 1, 1, 5, 3, 3, Conv2dParams::same(3, 3, 2, 1, 1)},
      // K = 333 taps in passes of at most 128 (64 at AVX-512), 9 channel
      // panels (the band slice copied per pass), a partial last one.
      {1, 37, 23, 61, 35, 3, 3, Conv2dParams::same(3, 3, 2, 23, 61)},
  };
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    for (const Case& c : cases) {
      const kernels::ConvGeometry g =
          conv2d_geometry({c.N, c.C, c.H, c.W}, {c.OC, c.C, c.KH, c.KW}, c.p);
      INFO(describe(c));
      CHECK(kernels::conv_direct_applies(g));
      check_fast_against_reference(c);
    }
  });
}

TEST_CASE("conv2d: the direct kernel gives identical bits on 1 and 2 threads", "[conv2d]") {
  // 9x9 32 -> 3 over several bands of rows, two images.
  const Shape in_shape{2, 32, 41, 27}, w_shape{3, 32, 9, 9};
  const Conv2dParams p = Conv2dParams::same(9, 9, 1, 41, 27);
  const Shape out_shape = conv2d_output_shape(in_shape, w_shape, p);
  Tensor inp = random_tensor(in_shape, 1), weight = random_tensor(w_shape, 2);
  Tensor bias = random_tensor({3}, 3);
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    Tensor one = Tensor::empty(out_shape), two = Tensor::empty(out_shape);
    const auto relu = Conv2dEpilogue::relu;
    testing::with_threads(1, [&] { conv2d_forward(one, inp, weight, &bias, p, relu); });
    testing::with_threads(2, [&] { conv2d_forward(two, inp, weight, &bias, p, relu); });
    CHECK(testing::bit_identical(one, two));
  });
  // Stride 2, several passes over K and copied band slices (K = 360, OC = 40).
  const Shape in2{1, 40, 37, 53}, w2{40, 40, 3, 3};
  const Conv2dParams p2 = Conv2dParams::same(3, 3, 2, 37, 53);
  const Shape out2 = conv2d_output_shape(in2, w2, p2);
  Tensor inp2 = random_tensor(in2, 4), weight2 = random_tensor(w2, 5);
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    Tensor one = Tensor::empty(out2), two = Tensor::empty(out2);
    testing::with_threads(1, [&] { conv2d_forward(one, inp2, weight2, nullptr, p2); });
    testing::with_threads(2, [&] { conv2d_forward(two, inp2, weight2, nullptr, p2); });
    CHECK(testing::bit_identical(one, two));
  });
}
