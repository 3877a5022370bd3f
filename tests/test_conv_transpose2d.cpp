#include <vector>

#include "nn/conv2d.hpp"
#include "nn/conv_transpose2d.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::check_close;
using nst::testing::random_tensor;
using nst::testing::to_double;

using nst::testing::dot_with;

namespace {

using Params = ConvTranspose2dParams;

struct Case {
  int64_t N, C, H, W, OC, KH, KW;
  Params p;
};

std::string describe(const Case& c) {
  return str("N=", c.N, " C=", c.C, " H=", c.H, " W=", c.W, " OC=", c.OC, " k=", c.KH, "x", c.KW,
             " stride=", c.p.stride_h, "x", c.p.stride_w, " crop t/b/l/r=", c.p.crop_top, "/",
             c.p.crop_bottom, "/", c.p.crop_left, "/", c.p.crop_right);
}

double probe(const std::vector<double>& inp, const std::vector<double>& weight,
             const std::vector<double>& bias, const std::vector<double>& r,
             const kernels::ConvGeometry& t) {
  std::vector<double> out(r.size());
  conv_transpose2d_reference_forward(out.data(), inp.data(), weight.data(), bias.data(), t);
  double s = 0.0;
  for (size_t i = 0; i < out.size(); ++i) s += r[i] * out[i];
  return s;
}

}  // namespace

TEST_CASE("conv_transpose2d: output sizes of the TF and PyTorch conventions",
          "[conv_transpose2d]") {
  // TF SAME, k 3, s 2: 2H x 2W, keeping rows 0..2H-1 of the 2H+1 full rows.
  Params p = Params::same(3, 3, 2);
  CHECK((p.crop_top == 0 && p.crop_bottom == 1 && p.crop_left == 0 && p.crop_right == 1));
  CHECK(conv_transpose2d_output_shape({1, 4, 5, 6}, {4, 2, 3, 3}, p) == Shape{1, 2, 10, 12});
  p = Params::same(4, 4, 2);  // total 2: 1 each side
  CHECK((p.crop_top == 1 && p.crop_bottom == 1));
  CHECK(conv_transpose2d_output_shape({1, 4, 5, 6}, {4, 2, 4, 4}, p) == Shape{1, 2, 10, 12});
  p = Params::same(1, 1, 2);  // k < s: one zero row added at the bottom
  CHECK((p.crop_top == 0 && p.crop_bottom == -1));
  CHECK(conv_transpose2d_output_shape({1, 4, 5, 6}, {4, 2, 1, 1}, p) == Shape{1, 2, 10, 12});
  // PyTorch: (H-1)*s - 2*padding + k + output_padding.
  p = Params::torch(1, 1, 2);
  CHECK(conv_transpose2d_output_shape({1, 4, 5, 6}, {4, 2, 3, 3}, p) == Shape{1, 2, 10, 12});
  p = Params::torch(0, 0, 1);
  CHECK(conv_transpose2d_output_shape({1, 4, 5, 6}, {4, 2, 3, 3}, p) == Shape{1, 2, 7, 8});
}

TEST_CASE("conv_transpose2d: TF SAME is the gradient of the SAME conv2d", "[conv_transpose2d]") {
  // Definition: conv_transpose2d(x, w) with SAME = d/dimage <conv2d_SAME(image, w), x>
  // for an image of H*s x W*s.
  for (int64_t k : {1, 3, 4, 5})
    for (int64_t s : {1, 2, 3}) {
      INFO("k=" << k << " s=" << s);
      const int64_t N = 2, C = 3, OC = 2, H = 4, W = 5;
      Tensor x = random_tensor({N, C, H, W}, 1), w = random_tensor({C, OC, k, k}, 2);
      const Conv2dParams cp = Conv2dParams::same(k, k, s, H * s, W * s);
      REQUIRE(conv2d_output_shape({N, OC, H * s, W * s}, w.shape(), cp) == x.shape());
      Tensor want = Tensor::zeros({N, OC, H * s, W * s});
      conv2d_backward_input(want, x, w, cp);
      Tensor got = Tensor::empty({N, OC, H * s, W * s});
      conv_transpose2d_forward(got, x, w, nullptr, Params::same(k, k, s));
      check_close(got, want, 1e-6, 1e-6, "fast");
      // The same in the reference loops (scatter vs conv2d gradient), in double.
      const auto t = conv_transpose2d_geometry(x.shape(), w.shape(), Params::same(k, k, s));
      const auto g = conv2d_geometry({N, OC, H * s, W * s}, w.shape(), cp);
      auto x_d = to_double(x), w_d = to_double(w);
      std::vector<double> ref_t(size_t(want.numel())), ref_g(size_t(want.numel()));
      conv_transpose2d_reference_forward(ref_t.data(), x_d.data(), w_d.data(),
                                         static_cast<const double*>(nullptr), t);
      conv2d_reference_backward_input(ref_g.data(), x_d.data(), w_d.data(), g);
      for (size_t i = 0; i < ref_t.size(); ++i) CHECK(ref_t[i] == Approx(ref_g[i]).margin(1e-12));
    }
}

TEST_CASE("conv_transpose2d: PyTorch padding crops the full result", "[conv_transpose2d]") {
  // out[oy][ox] = full[oy + padding][ox + padding], 0 past the end of full.
  const int64_t N = 1, C = 2, OC = 3, H = 3, W = 4, k = 3, s = 2;
  Tensor x = random_tensor({N, C, H, W}, 1), w = random_tensor({C, OC, k, k}, 2);
  Tensor b = random_tensor({OC}, 3);
  const Shape full_shape =
      conv_transpose2d_output_shape(x.shape(), w.shape(), Params::torch(0, 0, s));
  CHECK(full_shape == Shape{N, OC, (H - 1) * s + k, (W - 1) * s + k});
  Tensor full = Tensor::empty(full_shape);
  conv_transpose2d_forward(full, x, w, &b, Params::torch(0, 0, s));
  for (int64_t pad : {0, 1, 2})
    for (int64_t out_pad : {0, 1}) {
      INFO("padding=" << pad << " output_padding=" << out_pad);
      const Params p = Params::torch(pad, out_pad, s);
      const Shape shape = conv_transpose2d_output_shape(x.shape(), w.shape(), p);
      CHECK(shape[2] == (H - 1) * s - 2 * pad + k + out_pad);
      Tensor out = Tensor::empty(shape);
      conv_transpose2d_forward(out, x, w, &b, p);
      for (int64_t o = 0; o < OC; ++o)
        for (int64_t oy = 0; oy < shape[2]; ++oy)
          for (int64_t ox = 0; ox < shape[3]; ++ox) {
            const int64_t fy = oy + pad, fx = ox + pad;
            const bool inside = fy < full_shape[2] && fx < full_shape[3];
            CHECK(out.at(0, o, oy, ox) ==
                  Approx(inside ? full.at(0, o, fy, fx) : b[o]).margin(1e-6));
          }
    }
}

TEST_CASE("conv_transpose2d: reference gradients match finite differences in double",
          "[conv_transpose2d]") {
  Params asym;
  asym.stride_h = 2, asym.stride_w = 1;
  asym.crop_top = 1, asym.crop_bottom = -1, asym.crop_left = 0, asym.crop_right = 2;
  const std::vector<Case> cases = {
      {2, 3, 3, 4, 2, 1, 1, Params::torch(0, 0, 1)},
      {1, 2, 3, 3, 3, 3, 3, Params::same(3, 3, 2)},
      {1, 2, 4, 3, 2, 3, 3, Params::torch(1, 1, 2)},
      {1, 1, 2, 3, 2, 9, 9, Params::same(9, 9, 1)},
      {2, 2, 3, 3, 3, 3, 2, asym},
  };
  for (const Case& c : cases) {
    INFO(describe(c));
    const kernels::ConvGeometry t =
        conv_transpose2d_geometry({c.N, c.C, c.H, c.W}, {c.C, c.OC, c.KH, c.KW}, c.p);
    auto inp = to_double(random_tensor({c.N, c.C, c.H, c.W}, 1));
    auto weight = to_double(random_tensor({c.C, c.OC, c.KH, c.KW}, 2));
    auto bias = to_double(random_tensor({c.OC}, 3));
    auto r = to_double(random_tensor({c.N, c.OC, t.OH, t.OW}, 4));
    std::vector<double> dinp(inp.size()), dweight(weight.size()), dbias(bias.size());
    conv_transpose2d_reference_backward_input(dinp.data(), r.data(), weight.data(), t);
    conv_transpose2d_reference_backward_weight(dweight.data(), dbias.data(), r.data(), inp.data(),
                                               t);
    auto num_inp = testing::numeric_gradient(
        [&](const std::vector<double>& v) { return probe(v, weight, bias, r, t); }, inp);
    auto num_weight = testing::numeric_gradient(
        [&](const std::vector<double>& v) { return probe(inp, v, bias, r, t); }, weight);
    auto num_bias = testing::numeric_gradient(
        [&](const std::vector<double>& v) { return probe(inp, weight, v, r, t); }, bias);
    for (size_t i = 0; i < inp.size(); ++i) CHECK(dinp[i] == Approx(num_inp[i]).margin(1e-7));
    for (size_t i = 0; i < weight.size(); ++i)
      CHECK(dweight[i] == Approx(num_weight[i]).margin(1e-7));
    for (size_t i = 0; i < bias.size(); ++i) CHECK(dbias[i] == Approx(num_bias[i]).margin(1e-7));
  }
}

namespace {

void check_fast_against_reference(const Case& c) {
  INFO(describe(c));
  const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.C, c.OC, c.KH, c.KW};
  const kernels::ConvGeometry t = conv_transpose2d_geometry(in_shape, w_shape, c.p);
  const Shape out_shape{c.N, c.OC, t.OH, t.OW};
  Tensor inp = random_tensor(in_shape, 11), weight = random_tensor(w_shape, 12);
  Tensor bias = random_tensor({c.OC}, 13), dout = random_tensor(out_shape, 14);
  auto inp_d = to_double(inp), w_d = to_double(weight), b_d = to_double(bias);
  auto dout_d = to_double(dout);
  const double tol = 2e-6 * double(c.C * c.KH * c.KW) + 1e-5;

  std::vector<double> want(size_t(out_shape.numel()));
  conv_transpose2d_reference_forward(want.data(), inp_d.data(), w_d.data(), b_d.data(), t);
  Tensor out = Tensor::empty(out_shape);
  conv_transpose2d_forward(out, inp, weight, &bias, c.p);
  check_close(out, want, tol, tol, "forward");

  std::vector<double> dinp_want(size_t(inp.numel()), 1.0);
  conv_transpose2d_reference_backward_input(dinp_want.data(), dout_d.data(), w_d.data(), t);
  Tensor dinp = Tensor::full(in_shape, 1.0f);
  conv_transpose2d_backward_input(dinp, dout, weight, c.p);
  const double itol = 2e-6 * double(c.OC * c.KH * c.KW) + 1e-5;
  check_close(dinp, dinp_want, itol, itol, "backward input");

  std::vector<double> dw_want(size_t(weight.numel()), 1.0), db_want(size_t(c.OC), 1.0);
  conv_transpose2d_reference_backward_weight(dw_want.data(), db_want.data(), dout_d.data(),
                                             inp_d.data(), t);
  Tensor dweight = Tensor::full(w_shape, 1.0f), dbias = Tensor::full({c.OC}, 1.0f);
  conv_transpose2d_backward_weight(dweight, &dbias, dout, inp, c.p);
  const double wtol = 2e-6 * double(c.N * t.OH * t.OW) + 1e-5;
  check_close(dweight, dw_want, wtol, wtol, "backward weight");
  check_close(dbias, db_want, wtol, wtol, "backward bias");
}

}  // namespace

TEST_CASE("conv_transpose2d: fast kernels match the reference on odd shapes",
          "[conv_transpose2d]") {
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    const int64_t channels[] = {1, 3, 5, 13};
    int variant = 0;
    for (int64_t C : channels)
      for (int64_t size : {1, 7, 9, 31})
        for (int64_t k : {1, 3})
          for (int64_t s : {1, 2}) {
            const int64_t OC = channels[(variant + 3) % 4];
            const int64_t H = size, W = size == 1 ? 1 : size - 2;
            const Params p = variant % 2 ? Params::same(k, k, s) : Params::torch(0, 0, s);
            check_fast_against_reference({1 + variant % 2, C, H, W, OC, k, k, p});
            ++variant;
          }
  });
  // Several col tiles (K = OC*KH*KW = 1296: 800 input positions per tile).
  check_fast_against_reference({1, 3, 37, 37, 16, 9, 9, Params::same(9, 9, 1)});
  check_fast_against_reference({1, 5, 30, 31, 16, 3, 3, Params::torch(1, 1, 2)});
}

TEST_CASE("conv_transpose2d: 1 and 2 threads give identical bits", "[conv_transpose2d]") {
  const Params p = Params::same(3, 3, 2);
  const Shape in_shape{2, 40, 23, 53}, w_shape{40, 13, 3, 3};
  const Shape out_shape = conv_transpose2d_output_shape(in_shape, w_shape, p);
  Tensor inp = random_tensor(in_shape, 1), weight = random_tensor(w_shape, 2);
  Tensor bias = random_tensor({13}, 3), dout = random_tensor(out_shape, 4);
  auto run = [&](int threads) {
    std::vector<Tensor> r = {Tensor::empty(out_shape), Tensor::zeros(in_shape),
                             Tensor::zeros(w_shape), Tensor::zeros({13})};
    testing::with_threads(threads, [&] {
      conv_transpose2d_forward(r[0], inp, weight, &bias, p);
      conv_transpose2d_backward_input(r[1], dout, weight, p);
      conv_transpose2d_backward_weight(r[2], &r[3], dout, inp, p);
    });
    return r;
  };
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    auto one = run(1), two = run(2);
    for (size_t i = 0; i < one.size(); ++i) CHECK(testing::bit_identical(one[i], two[i]));
  });
}

TEST_CASE("conv_transpose2d: bad shapes throw nst::Error naming the op and the shapes",
          "[conv_transpose2d]") {
  Tensor inp = Tensor::zeros({1, 3, 4, 4});
  const Params p = Params::same(3, 3, 2);
  Tensor out = Tensor::empty({1, 2, 8, 8});
  Tensor w_bad = Tensor::zeros({5, 2, 3, 3});
  CHECK_THROWS_WITH(conv_transpose2d_forward(out, inp, w_bad, nullptr, p),
                    Catch::Contains("conv_transpose2d") && Catch::Contains("[1, 3, 4, 4]") &&
                        Catch::Contains("[5, 2, 3, 3]") && Catch::Contains("channels"));
  Tensor w = Tensor::zeros({3, 2, 3, 3}), bias_bad = Tensor::zeros({3});
  CHECK_THROWS_WITH(conv_transpose2d_forward(out, inp, w, &bias_bad, p),
                    Catch::Contains("conv_transpose2d: bias has shape [3], expected [2]"));
  Tensor out_bad = Tensor::empty({1, 2, 9, 8});
  CHECK_THROWS_WITH(conv_transpose2d_forward(out_bad, inp, w, nullptr, p),
                    Catch::Contains("output has shape [1, 2, 9, 8], expected [1, 2, 8, 8]"));
  Params crop_all = Params::torch(0, 0, 1);
  crop_all.crop_top = 4, crop_all.crop_bottom = 4;
  CHECK_THROWS_WITH(conv_transpose2d_output_shape(inp.shape(), w.shape(), crop_all),
                    Catch::Contains("leave no output"));
  CHECK_THROWS_AS(Params::torch(1, 2, 2), Error);
  CHECK_THROWS_AS(Params::same(3, 3, 0), Error);
  CHECK_THROWS_AS(conv_transpose2d_output_shape({3, 4, 4}, w.shape(), p), Error);
}

TEST_CASE("conv_transpose2d: autograd wires the free functions", "[conv_transpose2d][autograd]") {
  const Params p = Params::torch(1, 1, 2);
  const Shape in_shape{2, 3, 4, 5}, w_shape{3, 4, 3, 3};
  const Shape out_shape = conv_transpose2d_output_shape(in_shape, w_shape, p);
  Tensor xv = random_tensor(in_shape, 1), wv = random_tensor(w_shape, 2);
  Tensor bv = random_tensor({4}, 3), r = random_tensor(out_shape, 4);
  Tensor want_dx = Tensor::zeros(in_shape), want_dw = Tensor::zeros(w_shape);
  Tensor want_db = Tensor::zeros({4});
  conv_transpose2d_backward_input(want_dx, r, wv, p);
  conv_transpose2d_backward_weight(want_dw, &want_db, r, xv, p);
  for (bool weight_frozen : {true, false}) {
    Tape tape;
    Var x = tape.variable(xv);
    Var w = weight_frozen ? tape.constant(wv) : tape.variable(wv);
    Var b = tape.variable(bv);
    Var y = conv_transpose2d(tape, x, w, b, p);
    Tensor want_y = Tensor::empty(out_shape);
    conv_transpose2d_forward(want_y, xv, wv, &bv, p);
    CHECK(testing::bit_identical(y.value(), want_y));
    tape.backward(dot_with(tape, y, r));
    CHECK(testing::bit_identical(x.grad(), want_dx));
    CHECK(testing::bit_identical(b.grad(), want_db));
    if (weight_frozen)
      CHECK_FALSE(w.grad().defined());
    else
      CHECK(testing::bit_identical(w.grad(), want_dw));
  }
}

TEST_CASE("conv_transpose2d: output phases match the reference (strides 2, 3, kernels 2-5)",
          "[conv_transpose2d]") {
  // Every phase count and tap count: k < s (phases without taps), k = s, k > s;
  // odd sizes, 1x1 inputs, the SAME crops and PyTorch's.
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    int variant = 0;
    for (int64_t s : {2, 3})
      for (int64_t k : {2, 3, 4, 5})
        for (int64_t size : {1, 5, 8}) {
          const int64_t C = variant % 2 ? 3 : 13, OC = variant % 3 ? 5 : 2;
          const Params p = variant % 2 ? Params::same(k, k, s) : Params::torch(1, s - 1, s);
          if (conv_transpose2d_output_shape({1, C, size, size + 2}, {C, OC, k, k}, p)[2] >= 1)
            check_fast_against_reference({1 + variant % 2, C, size, size + 2, OC, k, k, p});
          ++variant;
        }
    // Different strides and crops per axis; a kernel 2 x 5.
    Params asym;
    asym.stride_h = 3, asym.stride_w = 2;
    asym.crop_top = 2, asym.crop_bottom = -1, asym.crop_left = 0, asym.crop_right = 3;
    check_fast_against_reference({2, 4, 7, 6, 3, 2, 5, asym});
    // The network's layer shape: several column tiles and row bands.
    check_fast_against_reference({1, 16, 19, 45, 8, 3, 3, Params::same(3, 3, 2)});
    // Whole column tiles at every width (53 phase columns), blended into the
    // other phase's columns; K = 4 * 40 taps in passes, 5 channel panels.
    check_fast_against_reference({2, 40, 9, 53, 20, 3, 3, Params::same(3, 3, 2)});
    check_fast_against_reference({1, 40, 9, 53, 20, 3, 3, Params::torch(1, 0, 2)});
  });
  // Wide enough (OC * s * OW = 65536) for chunks of 32 phase rows: two chunks.
  check_fast_against_reference({1, 2, 37, 512, 64, 3, 3, Params::same(3, 3, 2)});
}

TEST_CASE("conv_transpose2d: stride 3 with 1 and 2 threads gives identical bits",
          "[conv_transpose2d]") {
  const Params p = Params::same(5, 5, 3);
  const Shape in_shape{2, 7, 29, 21}, w_shape{7, 6, 5, 5};
  const Shape out_shape = conv_transpose2d_output_shape(in_shape, w_shape, p);
  Tensor inp = random_tensor(in_shape, 1), weight = random_tensor(w_shape, 2);
  Tensor bias = random_tensor({6}, 3);
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    Tensor one = Tensor::empty(out_shape), two = Tensor::empty(out_shape);
    testing::with_threads(1, [&] { conv_transpose2d_forward(one, inp, weight, &bias, p); });
    testing::with_threads(2, [&] { conv_transpose2d_forward(two, inp, weight, &bias, p); });
    CHECK(testing::bit_identical(one, two));
  });
}
