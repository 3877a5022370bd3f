// Several ops chained through one Tape, checked against finite differences of
// the same chain built from the double-precision references.
#include <algorithm>
#include <cmath>

#include "nn/elementwise.hpp"
#include "nn/gram.hpp"
#include "nn/instance_norm.hpp"
#include "nn/mse.hpp"
#include "nn/relu.hpp"
#include "nn/total_variation.hpp"
#include "ops_testing.hpp"
#include "tensor/autograd.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

constexpr int64_t N = 1, C = 3, H = 5, W = 7, M = H * W;
constexpr double kEps = 1e-3;

// L = 2 * mse(gram(z), target) + 0.3 * tv(tanh(0.5 x + 0.1)),
// z = 0.5 * (relu(instance_norm(x, s, t)) + (x - c)).
double chain_reference(const std::vector<double>& x, const std::vector<double>& s,
                       const std::vector<double>& t, const std::vector<double>& c,
                       const std::vector<double>& target) {
  const size_t n = x.size();
  std::vector<double> y(n), z(n), d(n), g(C * C), a(n);
  instance_norm_reference_forward(y.data(), x.data(), s.data(), t.data(), N, C, M, kEps);
  relu_reference_forward(y.data(), y.data(), int64_t(n));
  add_reference_forward(d.data(), x.data(), -1.0, c.data(), int64_t(n));
  add_reference_forward(z.data(), y.data(), 1.0, d.data(), int64_t(n));
  affine_reference_forward(z.data(), z.data(), 0.5, 0.0, int64_t(n));
  gram_reference_forward(g.data(), z.data(), C, M);
  const double style = mse_reference_forward(g.data(), target.data(), C * C);
  affine_reference_forward(a.data(), x.data(), 0.5, 0.1, int64_t(n));
  tanh_reference_forward(a.data(), a.data(), int64_t(n));
  const double tv = total_variation_reference_forward(a.data(), N * C, H, W);
  return 2.0 * style + 0.3 * tv;
}

}  // namespace

TEST_CASE("ops chained on a tape: gradients match finite differences in double", "[ops-chain]") {
  const Shape shape{N, C, H, W};
  const std::vector<double> x = rounded(random_doubles(shape.numel(), 601, -1.0, 1.0));
  const std::vector<double> s = rounded(random_doubles(C, 602, 0.5, 1.5));
  const std::vector<double> t = rounded(random_doubles(C, 603, -0.2, 0.2));
  const std::vector<double> c = rounded(random_doubles(shape.numel(), 604));
  const std::vector<double> target = rounded(random_doubles(C * C, 605, 0.0, 0.3));

  Tape tape;
  Var xv = tape.variable(tensor_from(shape, x));
  Var sv = tape.variable(tensor_from({C}, s));
  Var tv = tape.variable(tensor_from({C}, t));
  Var cv = tape.constant(tensor_from(shape, c));
  Var target_v = tape.constant(tensor_from({N, C, C}, target));

  Var y = relu(tape, instance_norm(tape, xv, sv, tv, static_cast<float>(kEps)));
  Var z = scale(tape, add(tape, y, sub(tape, xv, cv)), 0.5f);
  Var style = mse(tape, gram(tape, z), target_v);
  Var smooth = total_variation(tape, tanh(tape, affine(tape, xv, 0.5f, 0.1f)));
  Var loss = weighted_sum(tape, {style, smooth}, {2.0f, 0.3f});
  CHECK(loss.value()[0] == Approx(chain_reference(x, s, t, c, target)).epsilon(1e-5));
  tape.backward(loss);

  const auto num_dx = numeric_gradient(
      [&](const std::vector<double>& v) { return chain_reference(v, s, t, c, target); }, x);
  const auto num_ds = numeric_gradient(
      [&](const std::vector<double>& v) { return chain_reference(x, v, t, c, target); }, s);
  const auto num_dt = numeric_gradient(
      [&](const std::vector<double>& v) { return chain_reference(x, s, v, c, target); }, t);
  double largest = 0.0;  // the checks below must compare gradients well above atol
  for (double g : num_dx) largest = std::max(largest, std::abs(g));
  CHECK(largest > 1e-2);
  check_close(xv.grad(), num_dx, 1e-3, 1e-5, "dL/dx");
  check_close(sv.grad(), num_ds, 1e-3, 1e-5, "dL/dscale");
  check_close(tv.grad(), num_dt, 1e-3, 1e-5, "dL/dshift");
  CHECK_FALSE(cv.grad().defined());
  CHECK_FALSE(target_v.grad().defined());
}
