#include "nn/mse.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"
#include "tensor/check.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("mse: fast path matches the reference on odd shapes at every SIMD level", "[mse]") {
  for_each_simd_level([](kernels::SimdLevel) {
    uint64_t seed = 200;
    for (const Shape& shape : odd_shapes()) {
      INFO("shape " << shape.to_string());
      const int64_t n = shape.numel();
      const Tensor a = random_tensor(shape, seed++), b = random_tensor(shape, seed++);
      const std::vector<double> ad = to_double(a), bd = to_double(b);
      Tensor out = Tensor::empty({1});
      mse_forward(out, a, b);
      CHECK(out[0] == Approx(mse_reference_forward(ad.data(), bd.data(), n)).epsilon(1e-6));

      const Tensor dout = Tensor::from({1}, {1.3f});
      Tensor da = random_tensor(shape, seed++), db = random_tensor(shape, seed++);
      std::vector<double> want_da = to_double(da), want_db = to_double(db);
      mse_backward(da, db, dout, a, b);
      mse_reference_backward(want_da.data(), want_db.data(), 1.3, ad.data(), bd.data(), n);
      check_close(da, want_da, 1e-5, 1e-7, "da");
      check_close(db, want_db, 1e-5, 1e-7, "db");
    }
  });
}

TEST_CASE("mse: gradients match finite differences in double", "[mse]") {
  const Shape shape{2, 3, 4, 5};
  const int64_t n = shape.numel();
  const std::vector<double> a = rounded(random_doubles(n, 211)),
                            b = rounded(random_doubles(n, 212));
  const double dout = 0.7;
  // f(a) with b fixed, and f(b) with a fixed.
  const std::vector<double> num_da = numeric_gradient(
      [&](const std::vector<double>& as) {
        return dout * mse_reference_forward(as.data(), b.data(), n);
      },
      a);
  const std::vector<double> num_db = numeric_gradient(
      [&](const std::vector<double>& bs) {
        return dout * mse_reference_forward(a.data(), bs.data(), n);
      },
      b);

  std::vector<double> da(a.size(), 0.0), db(b.size(), 0.0);
  mse_reference_backward(da.data(), db.data(), dout, a.data(), b.data(), n);
  for (size_t i = 0; i < da.size(); ++i) {
    CHECK(da[i] == Approx(num_da[i]).margin(1e-9));
    CHECK(db[i] == Approx(num_db[i]).margin(1e-9));
  }
  Tensor dat = Tensor::zeros(shape), dbt = Tensor::zeros(shape), none;
  mse_backward(dat, none, Tensor::from({1}, {0.7f}), tensor_from(shape, a), tensor_from(shape, b));
  check_close(dat, num_da, 1e-5, 1e-7, "fast da");
  mse_backward(none, dbt, Tensor::from({1}, {0.7f}), tensor_from(shape, a), tensor_from(shape, b));
  check_close(dbt, num_db, 1e-5, 1e-7, "fast db");

  // Through the tape, with the target frozen.
  Tape tape;
  Var av = tape.variable(tensor_from(shape, a));
  Var bv = tape.constant(tensor_from(shape, b));
  Var loss = mse(tape, av, bv);
  CHECK(loss.value()[0] == Approx(mse_reference_forward(a.data(), b.data(), n)).epsilon(1e-6));
  tape.backward(loss);
  std::vector<double> unit_da = num_da;
  for (double& g : unit_da) g /= dout;
  check_close(av.grad(), unit_da, 1e-5, 1e-7, "tape da");
  CHECK_FALSE(bv.grad().defined());
}

TEST_CASE("mse: 1 and 2 threads give the same bits", "[mse][threads]") {
  const Shape shape{2, 13, 61, 67};  // several chunks of partial sums
  const Tensor a = random_tensor(shape, 221), b = random_tensor(shape, 222);
  for_each_simd_level([&](kernels::SimdLevel) {
    Tensor out[2], da[2];
    for (int t = 0; t < 2; ++t)
      with_threads(t + 1, [&] {
        out[t] = Tensor::empty({1});
        mse_forward(out[t], a, b);
        da[t] = Tensor::zeros(shape);
        Tensor none;
        mse_backward(da[t], none, Tensor::from({1}, {1.0f}), a, b);
      });
    CHECK(bit_identical(out[0], out[1]));
    CHECK(bit_identical(da[0], da[1]));
  });
}

TEST_CASE("mse: bad shapes throw", "[mse]") {
  Tensor a = Tensor::zeros({1, 3, 4, 4}), b = Tensor::zeros({1, 3, 4, 5});
  Tensor out = Tensor::empty({1}), none;
  CHECK_THROWS_WITH(mse_forward(out, a, b),
                    Catch::Contains("mse") && Catch::Contains("[1, 3, 4, 5]"));
  CHECK_THROWS_WITH(mse_forward(a, a, a), Catch::Contains("scalar"));
  CHECK_THROWS_WITH(mse_forward(out, Tensor::zeros({0}), Tensor::zeros({0})),
                    Catch::Contains("empty"));
  CHECK_THROWS_WITH(mse_backward(b, none, out, a, a), Catch::Contains("da"));
  CHECK_THROWS_WITH(mse_backward(none, none, a, a, a), Catch::Contains("dout"));
}
