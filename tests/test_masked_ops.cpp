// The ops of region-specific styling: the masked Gram matrix (nn/gram.hpp)
// and the pixel-weighted mean squared error (nn/mse.hpp), against their plain
// references and finite differences in double.
#include <cmath>

#include "nn/gram.hpp"
#include "nn/elementwise.hpp"
#include "nn/mse.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("masked gram: fast path matches the reference on odd shapes at every SIMD level", "[masks]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 1400;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t N = shape[0], C = shape[1], HW = shape[2] * shape[3];
      const Tensor x = random_tensor(shape, seed++), mask = random_mask(shape[2], shape[3], seed++);
      const Tensor dout = random_tensor({N, C, C}, seed++);
      const std::vector<double> xd = to_double(x), dd = to_double(dout), md = to_double(mask);
      Tensor out = Tensor::empty({N, C, C});
      masked_gram_forward(out, x, mask);
      Tensor dx = random_tensor(shape, seed++);
      std::vector<double> want(static_cast<size_t>(N * C * C)), want_dx = to_double(dx);
      masked_gram_backward(dx, dout, x, mask);
      for (int64_t n = 0; n < N; ++n) {
        masked_gram_reference_forward(want.data() + n * C * C, xd.data() + n * C * HW, md.data(), C, HW);
        masked_gram_reference_backward(want_dx.data() + n * C * HW, dd.data() + n * C * C,
                                       xd.data() + n * C * HW, md.data(), C, HW);
      }
      check_close(out, want, 1e-5, 1e-6, "masked gram");
      check_close(dx, want_dx, 1e-5, 1e-6, "dx");
      // A fresh gradient is written, not added.
      Tensor fresh = Tensor::full(shape, std::nanf("")), zeros = Tensor::zeros(shape);
      masked_gram_backward(fresh, dout, x, mask, false);
      masked_gram_backward(zeros, dout, x, mask, true);
      CHECK(same_values(fresh, zeros));
    }
  });
}

TEST_CASE("masked gram: gradient matches finite differences in double", "[masks]") {
  const Shape shape{2, 3, 4, 5};
  const int64_t N = 2, C = 3, HW = 20;
  const std::vector<double> x = rounded(random_doubles(shape.numel(), 1411));
  const std::vector<double> w = rounded(random_doubles(static_cast<size_t>(N * C * C), 1412));
  const Tensor mask = random_mask(4, 5, 1413);
  const std::vector<double> m = to_double(mask);
  auto forward = [&](const std::vector<double>& xs) {
    std::vector<double> g(static_cast<size_t>(N * C * C));
    for (int64_t n = 0; n < N; ++n)
      masked_gram_reference_forward(g.data() + n * C * C, xs.data() + n * C * HW, m.data(), C, HW);
    return g;
  };
  const std::vector<double> numeric =
      numeric_gradient([&](const std::vector<double>& xs) { return dot(w, forward(xs)); }, x);
  std::vector<double> dx(x.size(), 0.0);
  for (int64_t n = 0; n < N; ++n)
    masked_gram_reference_backward(dx.data() + n * C * HW, w.data() + n * C * C, x.data() + n * C * HW, m.data(),
                                   C, HW);
  for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(numeric[i]).margin(1e-9));

  Tensor dxt = Tensor::zeros(shape);
  masked_gram_backward(dxt, tensor_from({N, C, C}, w), tensor_from(shape, x), mask);
  check_close(dxt, numeric, 1e-5, 1e-6, "fast backward");

  Tape tape;
  Var xv = tape.variable(tensor_from(shape, x));
  Var g = masked_gram(tape, xv, mask);
  check_close(g.value(), forward(x), 1e-5, 1e-6, "tape forward");
}

TEST_CASE("masked gram: a mask of ones is gram, a half mask is the Gram of that half", "[masks]") {
  const Tensor x = random_tensor({1, 5, 6, 8}, 1421);
  Tensor plain = Tensor::empty({1, 5, 5}), ones = Tensor::empty({1, 5, 5});
  gram_forward(plain, x);
  masked_gram_forward(ones, x, Tensor::full({1, 1, 6, 8}, 1.0f));
  check_close(ones, plain, 1e-6, 1e-7, "mask of ones");
  // A mask of 0.25 everywhere: the same Gram (normalised by the region's weight).
  masked_gram_forward(ones, x, Tensor::full({1, 1, 6, 8}, 0.25f));
  check_close(ones, plain, 1e-6, 1e-7, "uniform mask");
  // Left half: the Gram of the left 6 x 4 pixels alone.
  Tensor left = Tensor::zeros({1, 1, 6, 8}), crop = Tensor::empty({1, 5, 6, 4});
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t c = 0; c < 4; ++c) left[y * 8 + c] = 1.0f;
  for (int64_t ch = 0; ch < 5; ++ch)
    for (int64_t y = 0; y < 6; ++y)
      for (int64_t c = 0; c < 4; ++c) crop[(ch * 6 + y) * 4 + c] = x[(ch * 6 + y) * 8 + c];
  Tensor got = Tensor::empty({1, 5, 5}), want = Tensor::empty({1, 5, 5});
  masked_gram_forward(got, x, left);
  gram_forward(want, crop);
  check_close(got, want, 1e-6, 1e-7, "half mask");
}

TEST_CASE("masked gram: 1 and 2 threads give the same bits", "[masks][threads]") {
  const Shape shape{2, 13, 17, 19};
  const Tensor x = random_tensor(shape, 1431), dout = random_tensor({2, 13, 13}, 1432);
  const Tensor mask = random_mask(17, 19, 1433);
  Tensor out[2], dx[2];
  for (int t = 0; t < 2; ++t)
    with_threads(t + 1, [&] {
      out[t] = Tensor::empty({2, 13, 13});
      masked_gram_forward(out[t], x, mask);
      dx[t] = Tensor::zeros(shape);
      masked_gram_backward(dx[t], dout, x, mask);
    });
  CHECK(bit_identical(out[0], out[1]));
  CHECK(bit_identical(dx[0], dx[1]));
}

TEST_CASE("masked gram: bad masks throw", "[masks]") {
  const Tensor x = Tensor::zeros({1, 3, 4, 4});
  Tensor out = Tensor::empty({1, 3, 3});
  CHECK_THROWS_WITH(masked_gram_forward(out, x, Tensor::full({1, 1, 4, 5}, 1.0f)),
                    Catch::Contains("mask") && Catch::Contains("[1, 1, 4, 4]"));
  CHECK_THROWS_WITH(masked_gram_forward(out, x, Tensor::zeros({1, 1, 4, 4})), Catch::Contains("zero everywhere"));
  Tensor negative = Tensor::full({1, 1, 4, 4}, 1.0f);
  negative[5] = -0.5f;
  CHECK_THROWS_WITH(masked_gram_forward(out, x, negative), Catch::Contains(">= 0"));
  Tensor nan = Tensor::full({1, 1, 4, 4}, 1.0f);
  nan[2] = std::nanf("");
  CHECK_THROWS_WITH(masked_gram_forward(out, x, nan), Catch::Contains("mask value"));
}

TEST_CASE("weighted mse: fast path matches the reference on odd shapes, and w = 1 is mse", "[masks]") {
  uint64_t seed = 1500;
  for (const Shape& shape : odd_shapes()) {
    INFO("shape " << shape.to_string());
    const int64_t planes = shape[0] * shape[1], HW = shape[2] * shape[3];
    const Tensor a = random_tensor(shape, seed++), b = random_tensor(shape, seed++);
    const Tensor w = random_mask(shape[2], shape[3], seed++);
    const std::vector<double> ad = to_double(a), bd = to_double(b), wd = to_double(w);
    Tensor out = Tensor::empty({1});
    weighted_mse_forward(out, a, b, w);
    CHECK(out[0] == Approx(weighted_mse_reference_forward(ad.data(), bd.data(), wd.data(), planes, HW))
                        .epsilon(1e-6)
                        .margin(1e-12));
    Tensor da = random_tensor(shape, seed++), db = random_tensor(shape, seed++);
    std::vector<double> want_da = to_double(da), want_db = to_double(db);
    weighted_mse_backward(da, db, Tensor::from({1}, {1.3f}), a, b, w);
    weighted_mse_reference_backward(want_da.data(), want_db.data(), 1.3, ad.data(), bd.data(), wd.data(), planes,
                                    HW);
    check_close(da, want_da, 1e-5, 1e-7, "da");
    check_close(db, want_db, 1e-5, 1e-7, "db");

    Tensor plain = Tensor::empty({1}), ones = Tensor::empty({1});
    mse_forward(plain, a, b);
    weighted_mse_forward(ones, a, b, Tensor::full({1, 1, shape[2], shape[3]}, 1.0f));
    CHECK(ones[0] == Approx(plain[0]).epsilon(1e-6));
  }
}

TEST_CASE("weighted mse: gradients match finite differences in double", "[masks]") {
  const Shape shape{2, 3, 4, 5};
  const int64_t planes = 6, HW = 20;
  const std::vector<double> a = rounded(random_doubles(shape.numel(), 1511)),
                            b = rounded(random_doubles(shape.numel(), 1512));
  const Tensor wt = random_mask(4, 5, 1513);
  const std::vector<double> w = to_double(wt);
  const double dout = 0.7;
  const auto f = [&](const std::vector<double>& as, const std::vector<double>& bs) {
    return dout * weighted_mse_reference_forward(as.data(), bs.data(), w.data(), planes, HW);
  };
  const std::vector<double> num_da = numeric_gradient([&](const std::vector<double>& as) { return f(as, b); }, a);
  const std::vector<double> num_db = numeric_gradient([&](const std::vector<double>& bs) { return f(a, bs); }, b);
  std::vector<double> da(a.size(), 0.0), db(b.size(), 0.0);
  weighted_mse_reference_backward(da.data(), db.data(), dout, a.data(), b.data(), w.data(), planes, HW);
  for (size_t i = 0; i < da.size(); ++i) {
    CHECK(da[i] == Approx(num_da[i]).margin(1e-9));
    CHECK(db[i] == Approx(num_db[i]).margin(1e-9));
  }
  Tape tape;
  Var av = tape.variable(tensor_from(shape, a)), bv = tape.variable(tensor_from(shape, b));
  Var loss = weighted_mse(tape, av, bv, wt);
  Var scaled = scale(tape, loss, float(dout));
  tape.backward(scaled);
  check_close(av.grad(), num_da, 1e-5, 1e-7, "tape da");
  check_close(bv.grad(), num_db, 1e-5, 1e-7, "tape db");
}

TEST_CASE("weighted mse: 1 and 2 threads give the same bits, bad weights throw", "[masks][threads]") {
  const Shape shape{2, 13, 17, 19};
  const Tensor a = random_tensor(shape, 1521), b = random_tensor(shape, 1522), w = random_mask(17, 19, 1523);
  Tensor out[2], da[2];
  for (int t = 0; t < 2; ++t)
    with_threads(t + 1, [&] {
      out[t] = Tensor::empty({1});
      weighted_mse_forward(out[t], a, b, w);
      da[t] = Tensor::zeros(shape);
      Tensor none;
      weighted_mse_backward(da[t], none, Tensor::from({1}, {1.0f}), a, b, w);
    });
  CHECK(bit_identical(out[0], out[1]));
  CHECK(bit_identical(da[0], da[1]));
  Tensor out1 = Tensor::empty({1});
  CHECK_THROWS_WITH(weighted_mse_forward(out1, a, b, Tensor::full({1, 1, 17, 18}, 1.0f)),
                    Catch::Contains("weights") && Catch::Contains("[1, 1, 17, 19]"));
}
