#include "nn/wasserstein.hpp"

#include <cmath>

#include "nn/kernels/gemm.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// out = a b, C x C.
void matmul(const float* a, const float* b, float* out, int64_t C) {
  kernels::gemm(false, false, C, C, C, 1.0f, a, C, b, C, 0.0f, out, C);
}

}  // namespace

SqrtmStats sqrtm_newton_schulz(const float* A, int64_t C, float* root, float* inv_root, int max_iterations,
                               double tolerance) {
  NST_CHECK(C >= 1, "sqrtm: empty matrix");
  const size_t n = size_t(C * C);
  double norm = 0.0;
  for (size_t i = 0; i < n; ++i) norm += double(A[i]) * double(A[i]);
  norm = std::sqrt(norm);
  NST_CHECK(std::isfinite(norm) && norm > 0.0, "sqrtm: the matrix is zero or not finite");
  std::vector<float> Y(n), Z(n, 0.0f), P(n), T(n), tmp(n);
  for (size_t i = 0; i < n; ++i) Y[i] = float(double(A[i]) / norm);
  for (int64_t i = 0; i < C; ++i) Z[size_t(i * C + i)] = 1.0f;
  SqrtmStats stats;
  for (int it = 0; it < max_iterations; ++it) {
    matmul(Z.data(), Y.data(), P.data(), C);
    double residual = 0.0;  // ||I - Z Y||_F
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < C; ++j) {
        const double e = (i == j ? 1.0 : 0.0) - double(P[size_t(i * C + j)]);
        residual += e * e;
      }
    stats.residual = std::sqrt(residual / double(C));
    if (stats.residual < tolerance) break;
    for (size_t i = 0; i < n; ++i) T[i] = -0.5f * P[i];
    for (int64_t i = 0; i < C; ++i) T[size_t(i * C + i)] += 1.5f;
    matmul(Y.data(), T.data(), tmp.data(), C);
    Y.swap(tmp);
    matmul(T.data(), Z.data(), tmp.data(), C);
    Z.swap(tmp);
    stats.iterations = it + 1;
  }
  const double s = std::sqrt(norm);
  for (size_t i = 0; i < n; ++i) {
    if (root) root[i] = float(double(Y[i]) * s);
    if (inv_root) inv_root[i] = float(double(Z[i]) / s);
  }
  return stats;
}

W2Target w2_target(const Tensor& cov) {
  const int64_t C = cov.shape()[cov.rank() - 1];
  NST_CHECK(cov.numel() == C * C, "w2_target: covariance ", cov.shape().to_string(), " is not one C x C matrix");
  W2Target t;
  t.cov = cov.clone().reshape({C, C});
  double frobenius = 0.0;
  for (int64_t i = 0; i < C; ++i) t.trace += double(t.cov[i * C + i]);
  for (int64_t i = 0; i < C * C; ++i) frobenius += double(t.cov[i]) * double(t.cov[i]);
  frobenius = std::max(std::sqrt(frobenius), 1e-30);
  // ε relative to the size of S Σ S near the target (||Σs||²): the roots'
  // condition stays below 1 / kW2Regularisation, which float iterations resolve.
  t.eps = kW2Regularisation * frobenius * frobenius;
  // Σs itself may be singular: its root from Σs + kW2Regularisation ||Σs|| I.
  Tensor lifted = t.cov.clone();
  for (int64_t i = 0; i < C; ++i) lifted[i * C + i] += float(kW2Regularisation * frobenius);
  t.cov_root = Tensor::empty({C, C});
  sqrtm_newton_schulz(lifted.data(), C, t.cov_root.data(), nullptr);
  return t;
}

Var w2_covariance_term(Tape& tape, const Var& cov, const W2Target& target) {
  NST_CHECK(cov.defined() && cov.value().rank() == 3 && cov.shape()[1] == cov.shape()[2],
            "w2_covariance_term: covariance must be [N, C, C]");
  const int64_t N = cov.shape()[0], C = cov.shape()[1];
  NST_CHECK(target.cov_root.numel() == C * C, "w2_covariance_term: a ", C, "-channel covariance against a target of ",
            target.cov_root.shape().to_string());
  const size_t n = size_t(C * C);
  const float* S = target.cov_root.data();
  Tensor grad = Tensor::empty({N, C, C});  // dvalue/dΣ per sample: I - S B^-½ S
  std::vector<float> tmp(n), B(n), inv_root(n), root(n);
  double value = 0.0;
  for (int64_t s = 0; s < N; ++s) {
    const float* sigma = cov.value().data() + s * C * C;
    matmul(S, sigma, tmp.data(), C);
    matmul(tmp.data(), S, B.data(), C);
    // B is symmetric in exact arithmetic; make it so in floats, then add ε I.
    for (int64_t i = 0; i < C; ++i)
      for (int64_t j = 0; j < i; ++j) {
        const float v = 0.5f * (B[size_t(i * C + j)] + B[size_t(j * C + i)]);
        B[size_t(i * C + j)] = B[size_t(j * C + i)] = v;
      }
    for (int64_t i = 0; i < C; ++i) B[size_t(i * C + i)] += float(target.eps);
    sqrtm_newton_schulz(B.data(), C, root.data(), inv_root.data());
    double trace_sigma = 0.0, trace_root = 0.0;
    for (int64_t i = 0; i < C; ++i) {
      trace_sigma += double(sigma[i * C + i]);
      trace_root += double(root[size_t(i * C + i)]);
    }
    value += trace_sigma + target.trace - 2.0 * trace_root;
    float* g = grad.data() + s * C * C;
    matmul(S, inv_root.data(), tmp.data(), C);
    matmul(tmp.data(), S, g, C);
    for (size_t i = 0; i < n; ++i) g[i] = -g[i];
    for (int64_t i = 0; i < C; ++i) g[i * C + i] += 1.0f;
  }
  Tensor out = Tensor::from({1}, {float(value)});
  return tape.record("w2_covariance_term", out, {cov}, [cov = cov, grad](const Tensor& dout) mutable {
    Tensor& d = cov.grad_accumulator();
    const float k = dout[0];
    for (int64_t i = 0; i < d.numel(); ++i) d[i] += k * grad[i];
  });
}

}  // namespace nst
