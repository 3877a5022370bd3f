// Finite-difference checks of a StyleObjective's gradient (the objective is
// a float computation through VGG-19, so differences along whole directions,
// not per pixel): for `trials` directions v, (f(x + εv) - f(x - εv)) / 2ε
// against ∇f·v. v is Gaussian (seeded); with along_gradient it also has a
// component ∇f / rms(∇f), which keeps the derivative well above the float
// rounding of f.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "nst/style_objective.hpp"

namespace nst::testing {

struct DirectionalDerivative {
  double finite_difference = 0, analytic = 0;
};

inline std::vector<DirectionalDerivative> directional_derivatives(const StyleObjective& objective, const Tensor& x,
                                                                  const Tensor& grad, uint64_t seed, int trials,
                                                                  bool along_gradient = false,
                                                                  double eps = 0.1 /* pixel units */) {
  double rms = 0;
  if (along_gradient) {
    for (int64_t i = 0; i < grad.numel(); ++i) rms += double(grad[i]) * double(grad[i]);
    rms = std::sqrt(rms / double(grad.numel()));
  }
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<DirectionalDerivative> out;
  for (int trial = 0; trial < trials; ++trial) {
    Tensor v = Tensor::empty(x.shape());
    for (int64_t i = 0; i < v.numel(); ++i)
      v[i] = along_gradient ? float(normal(rng) + double(grad[i]) / rms) : float(normal(rng));
    Tensor xp = x.clone(), xm = x.clone();
    for (int64_t i = 0; i < x.numel(); ++i) {
      xp[i] += float(eps) * v[i];
      xm[i] -= float(eps) * v[i];
    }
    DirectionalDerivative d;
    d.finite_difference = (objective.evaluate(xp, nullptr).total - objective.evaluate(xm, nullptr).total) / (2 * eps);
    for (int64_t i = 0; i < x.numel(); ++i) d.analytic += double(grad[i]) * v[i];
    out.push_back(d);
  }
  return out;
}

}  // namespace nst::testing
