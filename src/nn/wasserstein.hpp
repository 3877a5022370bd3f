// The covariance part of the squared 2-Wasserstein distance between the
// Gaussian fits of two sets of features, N(μ, Σ) for the picture and N(μs, Σs)
// for the painting (--style-loss w2; the mean part is an mse, nst/losses.cpp):
//
//   W2² = ||μ - μs||² + tr Σ + tr Σs - 2 tr((S Σ Sᵀ)^½),   SᵀS = Σs
//
// tr((S Σ Sᵀ)^½) is the sum of the roots of the eigenvalues of Σ Σs, the same
// for every factor S of Σs: the usual Σs^½, or the pivoted Cholesky factor
// taken here (w2_target, in double, once per painting and scale).
//
// Per sample, F: C x M features, w: M pixel weights (1 without a mask), W = Σw:
//   Fc = (F - μ1ᵀ) diag(√w) / √W       so that Σ = Fc Fcᵀ and tr Σ = ||Fc||²
//   A  = S Fc                          (C x M), A Aᵀ = S Σ Sᵀ
//   tr((S Σ Sᵀ)^½) = ||A||_* = tr(Uᵀ A),   U = A's polar factor (A = U P)
//   term = tr Σ + tr Σs - 2 tr(Uᵀ A)
//   dFc = 2 (Fc - Sᵀ U)                (d||A||_*/dA = U, |U| <= 1)
//   dF = (dFc diag(√w) - (dFc √w) wᵀ / W) / √W          (through μ and √w)
// The gradient never inverts Σ: singular Σ (dead channels, M < C) is fine, U
// is 0 (a subgradient) on A's null space.
//
// U by the Newton–Schulz polar iteration and its higher-order members, the
// [d/0] Padé iterations (Higham, "Functions of Matrices", 2008, ch. 8): X0 = A / α
// with α = ||A Aᵀ||_F^½ >= σ_max(A), then
//   G = X Xᵀ,   X <- q_d(I - G) X,   q_d(z) = Σ_{j<=d} c_j z^j, c_j = C(2j, j) / 4^j
// (q_d: (1 - z)^-½'s Taylor polynomial; d = 1 is the classic X <- (3I - G) X / 2).
// Each singular value x = σ/α goes x <- x q_d(1 - x²): up by Σ c_j (1.5 for
// d = 1, 3.3 for d = 8) a step while small, to 1 with order d + 1 near it,
// never past 1; zero stays zero. Its condition is cond(A), not cond(A)² as for
// a root of A Aᵀ. The products are the Gram and GEMM kernels (nn/kernels),
// float, summed in a fixed order at any thread count.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct PolarStats {
  int iterations = 0;
  double nuclear_norm = 0;  // tr(Uᵀ A) = Σ σ when converged
  double change = 0;        // its relative rise in the last step
};

// U = polar factor of A, both C x M (row-major). Stops once tr(Xᵀ A) rose by
// at most `tolerance` (relative) in a step, or after max_iterations: singular
// values far below σ_max, which contribute as little, may then be short of 1.
PolarStats polar_newton_schulz(float* U, const float* A, int64_t C, int64_t M,
                               int max_iterations = 60, double tolerance = 1e-6);

// Reference: the classic iteration (d = 1) with plain loops in any scalar
// type, a fixed number of steps.
template <class T>
void polar_newton_schulz_reference(T* U, const T* A, int64_t C, int64_t M, int iterations) {
  const auto gram = [C, M](const std::vector<T>& x, std::vector<T>& g) {  // g = x xᵀ
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < C; ++j) {
        T acc = 0;
        for (int64_t k = 0; k < M; ++k) acc += x[size_t(i * M + k)] * x[size_t(j * M + k)];
        g[size_t(i * C + j)] = acc;
      }
  };
  std::vector<T> X(A, A + C * M), G(size_t(C * C)), next(size_t(C * M));
  gram(X, G);
  T alpha = 0;
  for (const T& g : G) alpha += g * g;
  alpha = std::sqrt(std::sqrt(alpha));
  for (T& x : X) x = alpha > T(0) ? x / alpha : T(0);
  for (int it = 0; it < iterations; ++it) {
    gram(X, G);
    for (int64_t i = 0; i < C; ++i)
      for (int64_t k = 0; k < M; ++k) {
        T acc = T(3) * X[size_t(i * M + k)];
        for (int64_t j = 0; j < C; ++j) acc -= G[size_t(i * C + j)] * X[size_t(j * M + k)];
        next[size_t(i * M + k)] = acc / T(2);
      }
    X.swap(next);
  }
  std::copy(X.begin(), X.end(), U);
}

// The painting's side, once per style and scale: SᵀS = Σs, tr Σs.
struct W2Target {
  Tensor factor;  // S: [C, C]
  double trace = 0;
  int64_t rank = 0;  // of Σs, as the pivoted Cholesky found it
};
W2Target w2_target(const Tensor& cov);  // cov: [1, C, C] or [C, C]

// S (C x C, row-major) with SᵀS = Σs, by Cholesky with diagonal pivoting in
// double; pivots below kW2RankTolerance x the largest variance end it (Σs
// positive semi-definite of that rank). Returns the rank.
inline constexpr double kW2RankTolerance = 1e-10;
int64_t psd_factor(double* S, const double* cov, int64_t C);

// The term above, summed over the samples of x [N, C, H, W]; polar receives U
// for every sample ([N, C, H, W]).
double w2_covariance_forward(Tensor& polar, const Tensor& x, const Tensor& mask,
                             const W2Target& target);
// dx += dout * d term/dx
void w2_covariance_backward(Tensor& dx, float dout, const Tensor& polar, const Tensor& x,
                            const Tensor& mask, const W2Target& target);

// Reference value of one sample in any scalar type (F: C x M, w: M, S: C x C).
template <class T>
T w2_covariance_reference(const T* F, const T* w, const T* S, T trace_s, int64_t C, int64_t M,
                          int iterations) {
  T W = 0;
  for (int64_t k = 0; k < M; ++k) W += w[k];
  std::vector<T> Fc(size_t(C * M)), A(size_t(C * M), T(0)), U(size_t(C * M));
  T value = trace_s;
  for (int64_t i = 0; i < C; ++i) {
    T mu = 0;
    for (int64_t k = 0; k < M; ++k) mu += F[i * M + k] * w[k] / W;
    for (int64_t k = 0; k < M; ++k) {
      const T v = (F[i * M + k] - mu) * std::sqrt(w[k] / W);
      Fc[size_t(i * M + k)] = v;
      value += v * v;
    }
  }
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = 0; j < C; ++j)
      for (int64_t k = 0; k < M; ++k) A[size_t(i * M + k)] += S[i * C + j] * Fc[size_t(j * M + k)];
  polar_newton_schulz_reference(U.data(), A.data(), C, M, iterations);
  for (size_t i = 0; i < A.size(); ++i) value -= T(2) * U[i] * A[i];
  return value;
}

// The op: [1], the term summed over the samples.
Var w2_covariance_term(Tape& tape, const Var& x, const Tensor& mask, const W2Target& target);

}  // namespace nst
