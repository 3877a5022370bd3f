#include "nn/kernels/reduce.hpp"
#include "ops_testing.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("reduce: lane sums match one plain double loop for every tail length", "[reduce]") {
  for (int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 31, 1000, 1001}) {
    INFO("n = " << n);
    const std::vector<double> a = rounded(random_doubles(size_t(n), 701 + uint64_t(n)));
    const std::vector<double> x = rounded(random_doubles(size_t(n), 801 + uint64_t(n), 2.0, 3.0));
    const std::vector<float> af(a.begin(), a.end()), xf(x.begin(), x.end());
    const double mean = 2.5;
    double sum = 0, dev2 = 0, diff2 = 0, wdev = 0, prod = 0;
    for (size_t i = 0; i < a.size(); ++i) {
      sum += a[i];
      dev2 += (x[i] - mean) * (x[i] - mean);
      diff2 += (a[i] - x[i]) * (a[i] - x[i]);
      wdev += a[i] * (x[i] - mean);
      prod += a[i] * x[i];
    }
    CHECK(kernels::sum(af.data(), n) == Approx(sum).margin(1e-12));
    CHECK(kernels::sum_squared_deviation(xf.data(), mean, n) == Approx(dev2).margin(1e-12));
    CHECK(kernels::sum_squared_difference(af.data(), xf.data(), n) == Approx(diff2).margin(1e-12));
    CHECK(kernels::sum_weighted_deviation(af.data(), xf.data(), mean, n) ==
          Approx(wdev).margin(1e-12));
    CHECK(kernels::dot(af.data(), xf.data(), n) == Approx(prod).margin(1e-12));
  }
}
