// The covariance part of the 2-Wasserstein distance between the Gaussian fits
// of two sets of features, N(μ, Σ) for the picture and N(μs, Σs) for the
// painting (the style loss --style-loss w2):
//
//   W2² = ||μ - μs||² + tr Σ + tr Σs - 2 tr((S Σ S)^½),   S = Σs^½
//
// Σ of ReLU features is often singular, where the root's derivative is not
// defined; the term computed has ε I inside the root, with ε fixed by the
// target (kW2Regularisation ||Σs||_F², so the root's condition number stays
// below 1 / kW2Regularisation, which float iterations resolve), and the
// gradient below is the exact gradient of the value computed:
//
//   w2_covariance_term(Σ) = tr Σ + tr Σs - 2 tr((S Σ S + ε I)^½)
//   dΣ = I - S (S Σ S + ε I)^-½ S                    (symmetric)
//
// Matrix roots by the coupled Newton–Schulz iteration (Higham, "Functions of
// Matrices", 2008, §6.7): A0 = A / ||A||_F, Y0 = A0, Z0 = I,
//   T = (3 I - Z Y) / 2,  Y <- Y T,  Z <- T Z
// Y -> A0^½ and Z -> A0^-½ quadratically, once the eigenvalues of A0 are near 1
// (a tiny one first grows by ~1.5 per step); A^½ = √||A|| Y, A^-½ = Z / √||A||.
// The products are gemm()s (nn/kernels/gemm.hpp), float, in a fixed order.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

// Float Newton–Schulz resolves a condition number up to ~1e4 (at 1e-2 of the
// mean variance the 512-channel roots of real VGG features diverge to NaN), but
// with ε this large it dominates the distance of real features (the painting
// against itself: -2 x its trace at relu4_1): nst stylize does not offer w2 yet.
inline constexpr double kW2Regularisation = 1e-4;

struct SqrtmStats {
  int iterations = 0;
  double residual = 0;  // ||I - Z Y||_F / √C at the end
};

// root = A^½, inv_root = A^-½ (either may be null) of a symmetric positive
// definite C x C matrix; stops once the residual is below `tolerance`.
SqrtmStats sqrtm_newton_schulz(const float* A, int64_t C, float* root, float* inv_root,
                               int max_iterations = 100, double tolerance = 1e-5);

// Reference: the same iteration with plain loops in any scalar type.
template <class T>
void sqrtm_newton_schulz_reference(const T* A, int64_t C, T* root, T* inv_root, int iterations) {
  const size_t n = size_t(C * C);
  T norm = 0;
  for (size_t i = 0; i < n; ++i) norm += A[i] * A[i];
  norm = std::sqrt(norm);
  std::vector<T> Y(n), Z(n, T(0)), P(n), Tm(n), tmp(n);
  for (size_t i = 0; i < n; ++i) Y[i] = A[i] / norm;
  for (int64_t i = 0; i < C; ++i) Z[size_t(i * C + i)] = T(1);
  const auto matmul = [C](const std::vector<T>& a, const std::vector<T>& b, std::vector<T>& out) {
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < C; ++j) {
        T acc = 0;
        for (int64_t k = 0; k < C; ++k) acc += a[size_t(i * C + k)] * b[size_t(k * C + j)];
        out[size_t(i * C + j)] = acc;
      }
  };
  for (int it = 0; it < iterations; ++it) {
    matmul(Z, Y, P);
    for (size_t i = 0; i < n; ++i) Tm[i] = -P[i] / T(2);
    for (int64_t i = 0; i < C; ++i) Tm[size_t(i * C + i)] += T(1.5);
    matmul(Y, Tm, tmp);
    Y.swap(tmp);
    matmul(Tm, Z, tmp);
    Z.swap(tmp);
  }
  const T s = std::sqrt(norm);
  for (size_t i = 0; i < n; ++i) {
    if (root) root[i] = Y[i] * s;
    if (inv_root) inv_root[i] = Z[i] / s;
  }
}

// The painting's side, computed once per style and scale: Σs, S = Σs^½, tr Σs, ε.
struct W2Target {
  Tensor cov, cov_root;  // [C, C]
  double trace = 0, eps = 0;
};
W2Target w2_target(const Tensor& cov);  // cov: [1, C, C] or [C, C]

// The term above for every sample of cov [N, C, C] (N values summed): [1].
Var w2_covariance_term(Tape& tape, const Var& cov, const W2Target& target);

}  // namespace nst
