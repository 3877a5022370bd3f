// Winograd F(4x4, 3x3) convolution against the plain double reference, at every
// SIMD level, on shapes that leave partial tiles, partial GEMM panels and several
// tile blocks; and bit-identical whatever the thread count. The plain-loop
// Winograd reference against the direct convolution, and the fast kernels
// against it on odd shapes.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "nn/conv2d.hpp"
#include "nn/kernels/winograd.hpp"
#include "nn/kernels/winograd_kernel.hpp"
#include "nn/kernels/winograd_reference.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::check_close;
using nst::testing::random_tensor;
using nst::testing::to_double;

namespace {

struct Case {
  int64_t N, C, H, W, OC;
  Conv2dParams p;
};

std::string describe(const Case& c) {
  return str("N=", c.N, " C=", c.C, " H=", c.H, " W=", c.W, " OC=", c.OC,
             " pad t/b/l/r=", c.p.pad_top, "/", c.p.pad_bottom, "/", c.p.pad_left, "/",
             c.p.pad_right);
}

Conv2dParams pads(int64_t t, int64_t b, int64_t l, int64_t r) {
  Conv2dParams p;
  p.pad_top = t, p.pad_bottom = b, p.pad_left = l, p.pad_right = r;
  return p;
}

// Winograd on (restored afterwards).
struct WinogradOn {
  bool saved = kernels::winograd_enabled();
  explicit WinogradOn(bool on = true) { kernels::set_winograd_enabled(on); }
  ~WinogradOn() { kernels::set_winograd_enabled(saved); }
};

// The error bound: F(4x4, 3x3) in float is less exact than a direct sum (its
// transforms scale terms by up to 8 x 5 before they cancel), so the tolerance
// is relative to the largest output, not to each element. Measured with inputs
// and weights uniform in [-1, 1], 20x20: worst error / largest output 2.8e-6 at
// 16 channels, 4.9e-6 at 64, 1.3e-5 at 512 (direct: 3e-7 to 6e-7); L2 relative
// error 1.1e-6 to 4.5e-6 (direct 2e-7 to 3.5e-7). (Session 4, AVX-512 with
// fused multiply-adds.)
constexpr double kTolerance = 5e-5;
double scale_of(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m = std::max(m, std::abs(x));
  return m;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> all = {
      {1, 16, 4, 4, 16, Conv2dParams::symmetric(1, 1)},      // one tile
      {2, 17, 13, 10, 19, Conv2dParams::symmetric(1, 1)},    // partial tiles and panels
      {1, 24, 9, 23, 33, pads(0, 0, 0, 0)},                  // valid: OH = H - 2
      {1, 16, 11, 7, 20, pads(2, 0, 0, 2)},                  // asymmetric
      {1, 20, 1, 1, 16, Conv2dParams::symmetric(1, 1)},      // 1x1 image
      {1, 64, 70, 58, 64, Conv2dParams::symmetric(1, 1)},    // several tile blocks
      {1, 16, 130, 131, 16, Conv2dParams::symmetric(1, 1)},  // whole blocks per task (23+)
  };
  return all;
}

}  // namespace

TEST_CASE("winograd: applies to 3x3 stride-1 convs with 16+ channels", "[winograd]") {
  WinogradOn on;
  auto geometry = [](int64_t C, int64_t OC, int64_t k, int64_t stride) {
    return conv2d_geometry({1, C, 20, 20}, {OC, C, k, k}, Conv2dParams::symmetric(k / 2, stride));
  };
  CHECK(kernels::winograd_applies(geometry(64, 64, 3, 1)));
  CHECK(kernels::winograd_applies(geometry(16, 16, 3, 1)));
  CHECK_FALSE(kernels::winograd_applies(geometry(3, 64, 3, 1)));  // VGG conv1_1
  CHECK_FALSE(kernels::winograd_applies(geometry(64, 3, 3, 1)));
  CHECK_FALSE(kernels::winograd_applies(geometry(64, 64, 3, 2)));
  CHECK_FALSE(kernels::winograd_applies(geometry(64, 64, 5, 1)));
  kernels::set_winograd_enabled(false);
  CHECK_FALSE(kernels::winograd_applies(geometry(64, 64, 3, 1)));
}

TEST_CASE("winograd: forward and input gradient match the double reference", "[winograd]") {
  WinogradOn on;
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    for (const Case& c : cases()) {
      INFO(describe(c));
      const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.OC, c.C, 3, 3};
      const kernels::ConvGeometry g = conv2d_geometry(in_shape, w_shape, c.p);
      REQUIRE(kernels::winograd_applies(g));
      const Tensor inp = random_tensor(in_shape, 1);
      const Tensor weight = random_tensor(w_shape, 2);
      const Tensor bias = random_tensor({c.OC}, 3);
      const Tensor dout = random_tensor({c.N, c.OC, g.OH, g.OW}, 4);

      std::vector<double> want(static_cast<size_t>(dout.numel()));
      const auto di = to_double(inp), dw = to_double(weight), db = to_double(bias);
      conv2d_reference_forward(want.data(), di.data(), dw.data(), db.data(), g);
      const double scale = scale_of(want);
      Tensor out = Tensor::empty(dout.shape());
      conv2d_forward(out, inp, weight, &bias, c.p);
      check_close(out, want, 0.0, kTolerance * scale, "forward");
      for (double& v : want) v = std::max(v, 0.0);
      conv2d_forward(out, inp, weight, &bias, c.p, Conv2dEpilogue::relu);
      check_close(out, want, 0.0, kTolerance * scale, "forward + relu");

      // The input gradient is accumulated onto what is there.
      std::vector<double> dinp_want = to_double(random_tensor(in_shape, 5));
      Tensor dinp = random_tensor(in_shape, 5);
      const auto dd = to_double(dout);
      conv2d_reference_backward_input(dinp_want.data(), dd.data(), dw.data(), g);
      conv2d_backward_input(dinp, dout, weight, c.p);
      check_close(dinp, dinp_want, 0.0, kTolerance * scale_of(dinp_want), "backward input");
    }
  });
}

TEST_CASE("winograd: agrees with the im2col path on a VGG-like layer", "[winograd]") {
  const Shape in_shape{1, 64, 37, 45}, w_shape{128, 64, 3, 3};
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  const Tensor inp = random_tensor(in_shape, 11, 0.0, 2.0);
  const Tensor weight = random_tensor(w_shape, 12, -0.05, 0.05);
  const Tensor bias = random_tensor({128}, 13);
  const Shape out_shape = conv2d_output_shape(in_shape, w_shape, p);
  Tensor fast = Tensor::empty(out_shape), plain = Tensor::empty(out_shape);
  {
    WinogradOn on(true);
    conv2d_forward(fast, inp, weight, &bias, p, Conv2dEpilogue::relu);
  }
  {
    WinogradOn off(false);
    conv2d_forward(plain, inp, weight, &bias, p, Conv2dEpilogue::relu);
  }
  CHECK(testing::relative_error(fast, plain) < 1e-5);
}

TEST_CASE("winograd: each schedule agrees with the im2col path, forward and input gradient",
          "[winograd]") {
  // The schedule follows the tile count and V's size (winograd.cpp): one panel
  // of output channels at a time with all tiles as one block; one block of
  // tiles at a time once V of all tiles passes 8 MiB (here the forward of the
  // first case, the input gradient of the second); whole blocks per task.
  const Conv2dParams p = Conv2dParams::symmetric(1, 1);
  for (const Case& c : {Case{1, 256, 60, 64, 64, p}, Case{1, 64, 60, 64, 256, p},
                        Case{1, 32, 37, 45, 48, p}, Case{1, 16, 130, 131, 16, p}}) {
    INFO(describe(c));
    const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.OC, c.C, 3, 3};
    const Shape out_shape = conv2d_output_shape(in_shape, w_shape, c.p);
    const Tensor inp = random_tensor(in_shape, 31), weight = random_tensor(w_shape, 32, -0.1, 0.1);
    const Tensor dout = random_tensor(out_shape, 33);
    testing::for_each_simd_level([&](kernels::SimdLevel) {
      Tensor out[2], dinp[2];
      for (int on = 0; on < 2; ++on) {
        WinogradOn mode(on == 1);
        out[on] = Tensor::empty(out_shape);
        conv2d_forward(out[on], inp, weight, nullptr, c.p);
        dinp[on] = Tensor::zeros(in_shape);
        conv2d_backward_input(dinp[on], dout, weight, c.p);
      }
      CHECK(testing::relative_error(out[1], out[0]) < 2e-5);
      CHECK(testing::relative_error(dinp[1], dinp[0]) < 2e-5);
    });
  }
}

TEST_CASE("winograd: 1 and 2 threads give identical bits", "[winograd]") {
  WinogradOn on;
  // Few tile blocks (each step a parallel loop), then many (whole blocks per task).
  // Panel at a time (few tiles), block at a time (V of all tiles over 8 MiB),
  // whole blocks per task (many tiles).
  for (const Case& c : {Case{2, 48, 41, 29, 40, Conv2dParams::symmetric(1, 1)},
                        Case{1, 256, 60, 64, 64, Conv2dParams::symmetric(1, 1)},
                        Case{2, 16, 100, 97, 24, Conv2dParams::symmetric(1, 1)}}) {
    INFO(describe(c));
    const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.OC, c.C, 3, 3};
    const Shape out_shape = conv2d_output_shape(in_shape, w_shape, c.p);
    const Tensor inp = random_tensor(in_shape, 21), weight = random_tensor(w_shape, 22);
    const Tensor bias = random_tensor({c.OC}, 23), dout = random_tensor(out_shape, 24);
    testing::for_each_simd_level([&](kernels::SimdLevel) {
      Tensor out[2], dinp[2];
      for (int t = 0; t < 2; ++t)
        testing::with_threads(t + 1, [&] {
          out[t] = Tensor::empty(out_shape);
          conv2d_forward(out[t], inp, weight, &bias, c.p, Conv2dEpilogue::relu);
          dinp[t] = Tensor::zeros(in_shape);
          conv2d_backward_input(dinp[t], dout, weight, c.p);
        });
      CHECK(testing::bit_identical(out[0], out[1]));
      CHECK(testing::bit_identical(dinp[0], dinp[1]));
    });
  }
}

// The weight transform is the same arithmetic in every lane, so U must have the
// same bits at every SIMD level, however its loads are arranged (AVX-512 reads
// whole kernels and transposes them; the others copy them weight by weight):
// partial panels and vectors, the flipped (input-gradient) kernels, some of a
// layer's output channels, and kernels at the weight tensor's very end.
TEST_CASE("winograd: the weight transform gives the same U at every SIMD level", "[winograd]") {
  struct WeightCase {
    int64_t A_total, C, a0, A, mr;
  };
  for (const WeightCase& wc : {WeightCase{19, 17, 0, 19, 12}, WeightCase{40, 23, 12, 12, 12},
                               WeightCase{33, 16, 0, 33, 8}, WeightCase{16, 20, 0, 16, 4},
                               WeightCase{30, 5, 6, 24, 24}, WeightCase{50, 3, 36, 14, 12}}) {
    for (const bool flip : {false, true}) {
      INFO("A_total=" << wc.A_total << " C=" << wc.C << " a0=" << wc.a0 << " A=" << wc.A
                      << " mr=" << wc.mr << " flip=" << flip);
      // [A_total][C][3][3], or [C][A_total][3][3] flipped: the same count.
      const Tensor weight = random_tensor({wc.A_total, wc.C, 3, 3}, 31);
      const int64_t panels = (wc.A + wc.mr - 1) / wc.mr, plane = panels * wc.mr * wc.C;
      const int64_t stride = kernels::winograd_plane_stride(plane);
      std::vector<std::vector<float>> U;
      testing::for_each_simd_level([&](kernels::SimdLevel) {
        std::vector<float> u(static_cast<size_t>(kernels::kWinogradPoints * stride), -7.0f);
        kernels::WinogradWeights w{weight.data(), wc.A, wc.C, wc.mr, flip, u.data(), stride};
        w.a0 = wc.a0, w.A_total = wc.A_total;
        kernels::dispatch(kernels::WinogradWeightKernel{}, w, int64_t{0}, panels);
        U.push_back(std::move(u));
      });
      REQUIRE(U.size() >= 2);
      for (size_t level = 1; level < U.size(); ++level) {
        INFO("level " << level << " against the scalar one");
        CHECK(std::memcmp(U[level].data(), U[0].data(), U[0].size() * sizeof(float)) == 0);
      }
      // Rows past A are zero, and nothing lands between the planes.
      for (int64_t k = 0; k < kernels::kWinogradPoints; ++k)
        for (int64_t i = 0; i < stride; ++i) {
          const float v = U[0][static_cast<size_t>(k * stride + i)];
          if (i >= plane) REQUIRE(v == -7.0f);
          else if ((i / wc.C / wc.mr) * wc.mr + (i % wc.mr) >= wc.A) REQUIRE(v == 0.0f);
        }
    }
  }
}

// ---- The plain-loop reference (nn/kernels/winograd_reference.hpp) ----

namespace {

// Odd channel counts and sides: partial tiles, partial lane groups at every
// SIMD width, and (131 px wide: 33 tiles a row) whole lane groups inside the
// image even with AVX-512's 16 lanes.
const std::vector<Case>& odd_cases() {
  static const std::vector<Case> all = {
      {1, 3, 7, 9, 5, Conv2dParams::symmetric(1, 1)},
      {2, 5, 9, 7, 3, Conv2dParams::symmetric(1, 1)},
      {1, 13, 13, 13, 13, Conv2dParams::symmetric(1, 1)},
      {1, 5, 7, 13, 16, Conv2dParams::symmetric(1, 1)},
      {1, 3, 13, 9, 7, pads(0, 0, 0, 0)},  // valid
      {1, 13, 9, 7, 5, pads(2, 0, 0, 2)},  // asymmetric
      {1, 5, 9, 131, 3, Conv2dParams::symmetric(1, 1)},
  };
  return all;
}

// The largest |difference| over the largest |value| of want.
double worst_relative(const std::vector<double>& got, const std::vector<double>& want) {
  double worst = 0.0;
  for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
  return worst / scale_of(want);
}
std::vector<double> as_double(const std::vector<float>& v) { return {v.begin(), v.end()}; }

}  // namespace

// In exact arithmetic F(4x4, 3x3) is the convolution itself, so in double the
// reference matches the direct sum to double rounding: this checks the
// matrices. Measured worst error / largest output: 1.2e-15 to 5.4e-15 on these
// shapes (1.3e-14 at 64 channels, 3e-14 at 512, 20 x 20).
TEST_CASE("winograd reference: equals the direct convolution in double", "[winograd]") {
  for (const Case& c : odd_cases()) {
    INFO(describe(c));
    const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.OC, c.C, 3, 3};
    const kernels::ConvGeometry g = conv2d_geometry(in_shape, w_shape, c.p);
    const auto inp = to_double(random_tensor(in_shape, 41));
    const auto weight = to_double(random_tensor(w_shape, 42));
    const auto bias = to_double(random_tensor({c.OC}, 43));
    const auto dout = to_double(random_tensor({c.N, c.OC, g.OH, g.OW}, 44));

    std::vector<double> want(dout.size()), got(dout.size());
    conv2d_reference_forward(want.data(), inp.data(), weight.data(), bias.data(), g);
    kernels::winograd_reference_forward(got.data(), inp.data(), weight.data(), bias.data(), g);
    CHECK(worst_relative(got, want) < 1e-13);

    // Accumulated onto what is there, as the direct reference does.
    std::vector<double> dinp_want = to_double(random_tensor(in_shape, 45));
    std::vector<double> dinp_got = dinp_want;
    conv2d_reference_backward_input(dinp_want.data(), dout.data(), weight.data(), g);
    kernels::winograd_reference_backward_input(dinp_got.data(), dout.data(), weight.data(), g);
    CHECK(worst_relative(dinp_got, dinp_want) < 1e-13);
  }
}

// In float, Winograd loses some precision to its transforms (they scale terms
// by up to 8 x 5 before they cancel): the same bound as the fast kernels,
// kTolerance of the largest output. Measured worst error / largest output:
// 6.7e-7 to 2.7e-6 on these shapes (6.3e-6 at 64 channels, 1.9e-5 at 512, 20 x 20,
// where the fast kernels have up to 6.0e-6 and 2.0e-5).
TEST_CASE("winograd reference: within the F(4x4, 3x3) error of the direct convolution in float",
          "[winograd]") {
  for (const Case& c : odd_cases()) {
    INFO(describe(c));
    const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.OC, c.C, 3, 3};
    const kernels::ConvGeometry g = conv2d_geometry(in_shape, w_shape, c.p);
    const Tensor inp = random_tensor(in_shape, 51), weight = random_tensor(w_shape, 52);
    const Tensor bias = random_tensor({c.OC}, 53);
    const Tensor dout = random_tensor({c.N, c.OC, g.OH, g.OW}, 54);

    std::vector<double> want(static_cast<size_t>(dout.numel()));
    const auto di = to_double(inp), dw = to_double(weight), db = to_double(bias);
    conv2d_reference_forward(want.data(), di.data(), dw.data(), db.data(), g);
    std::vector<float> got(want.size());
    kernels::winograd_reference_forward(got.data(), inp.data(), weight.data(), bias.data(), g);
    CHECK(worst_relative(as_double(got), want) < kTolerance);

    std::vector<double> dinp_want(static_cast<size_t>(inp.numel()), 0.0);
    const auto dd = to_double(dout);
    conv2d_reference_backward_input(dinp_want.data(), dd.data(), dw.data(), g);
    std::vector<float> dinp_got(dinp_want.size(), 0.0f);
    kernels::winograd_reference_backward_input(dinp_got.data(), dout.data(), weight.data(), g);
    CHECK(worst_relative(as_double(dinp_got), dinp_want) < kTolerance);
  }
}

// The fast kernels (called directly: conv2d takes them only from 16 channels)
// against the float reference: both are F(4x4, 3x3) in float, rounded in a
// different order, so they agree within kTolerance of the largest output
// (measured: at most 3.5e-6 on these shapes, scalar, SSE2 and AVX2).
TEST_CASE("winograd: the fast kernels match the reference on odd shapes", "[winograd]") {
  for (const Case& c : odd_cases()) {
    INFO(describe(c));
    const Shape in_shape{c.N, c.C, c.H, c.W}, w_shape{c.OC, c.C, 3, 3};
    const kernels::ConvGeometry g = conv2d_geometry(in_shape, w_shape, c.p);
    const Tensor inp = random_tensor(in_shape, 61), weight = random_tensor(w_shape, 62);
    const Tensor bias = random_tensor({c.OC}, 63);
    const Tensor dout = random_tensor({c.N, c.OC, g.OH, g.OW}, 64);
    const Tensor dinp_start = random_tensor(in_shape, 65);

    std::vector<float> want(static_cast<size_t>(dout.numel()));
    kernels::winograd_reference_forward(want.data(), inp.data(), weight.data(), bias.data(), g);
    std::vector<float> dinp_want(dinp_start.data(), dinp_start.data() + dinp_start.numel());
    kernels::winograd_reference_backward_input(dinp_want.data(), dout.data(), weight.data(), g);
    testing::for_each_simd_level([&](kernels::SimdLevel) {
      Tensor out = Tensor::empty(dout.shape());
      kernels::winograd_forward(out.data(), inp.data(), weight.data(), bias.data(), false, g);
      check_close(out, as_double(want), 0.0, kTolerance * scale_of(as_double(want)), "forward");
      Tensor dinp = dinp_start.clone();
      kernels::winograd_backward_input(dinp.data(), dout.data(), weight.data(), g);
      check_close(dinp, as_double(dinp_want), 0.0, kTolerance * scale_of(as_double(dinp_want)),
                  "backward input");
    });
  }
}
