#include "nn/wasserstein.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nn/kernels/gemm.hpp"
#include "nn/kernels/gram.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/reduce.hpp"
#include "nn/pixel_weights.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// tr(Xᵀ A) = Σ X∘A: each row's sum in double (kernels::dot, a fixed order),
// then the rows in order.
double trace_of_product(const float* X, const float* A, int64_t C, int64_t M) {
  std::vector<double> rows(static_cast<size_t>(C));
  kernels::parallel_for(0, C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) rows[size_t(i)] = kernels::dot(X + i * M, A + i * M, M);
  });
  double sum = 0.0;
  for (double r : rows) sum += r;
  return sum;
}

}  // namespace

PolarStats polar_newton_schulz(float* U, const float* A, int64_t C, int64_t M, int max_iterations,
                               double tolerance) {
  NST_CHECK(C >= 1 && M >= 1, "polar_newton_schulz: empty ", C, " x ", M, " matrix");
  const size_t n = size_t(C * M), nc = size_t(C * C);
  std::vector<float> G(nc), T(nc), Z(nc), Q(nc);
  Tensor next = Tensor::empty({C, M});  // pooled scratch: no fresh pages per call
  // α = ||A Aᵀ||_F^½ = (Σ σ⁴)^¼ >= σ_max.
  kernels::gram_forward(G.data(), A, 1, C, M, 1.0f);
  double alpha = 0.0;
  for (float g : G) alpha += double(g) * double(g);
  alpha = std::sqrt(std::sqrt(alpha));
  PolarStats stats;
  NST_CHECK(std::isfinite(alpha), "polar_newton_schulz: the matrix is not finite");
  if (alpha == 0.0) {  // A = 0: every U with |U| <= 1 is a subgradient; 0 is the smallest.
    std::fill(U, U + n, 0.0f);
    return stats;
  }
  const float inv_alpha = float(1.0 / alpha), inv_alpha2 = float(1.0 / (alpha * alpha));
  for (size_t i = 0; i < n; ++i) U[i] = A[i] * inv_alpha;
  for (float& g : G) g *= inv_alpha2;  // X0 X0ᵀ
  stats.nuclear_norm = trace_of_product(U, A, C, M);
  // Degree d: the C x C products of the polynomial cost d - 1 C³, the step's
  // two C x C x M products stay; more pixels than channels pay for a higher d.
  const int degree = int(std::clamp<int64_t>(M / C, 1, 8));
  std::vector<double> c(size_t(degree) + 1, 1.0);  // c_j = c_{j-1} (2j - 1) / 2j
  for (int j = 1; j <= degree; ++j)
    c[size_t(j)] = c[size_t(j - 1)] * double(2 * j - 1) / double(2 * j);
  while (stats.iterations < max_iterations) {
    // Q = q_d(Z), Z = I - G, by Horner: Q = c_d Z + c_{d-1} I, then Q <- Q Z + c_j I.
    for (size_t i = 0; i < nc; ++i) Z[i] = -G[i];
    for (int64_t i = 0; i < C; ++i) Z[size_t(i * C + i)] += 1.0f;
    for (size_t i = 0; i < nc; ++i) Q[i] = float(c[size_t(degree)]) * Z[i];
    for (int64_t i = 0; i < C; ++i) Q[size_t(i * C + i)] += float(c[size_t(degree - 1)]);
    for (int j = degree - 2; j >= 0; --j) {
      kernels::gemm(false, false, C, C, C, 1.0f, Q.data(), C, Z.data(), C, 0.0f, T.data(), C);
      for (int64_t i = 0; i < C; ++i) T[size_t(i * C + i)] += float(c[size_t(j)]);
      Q.swap(T);
    }
    // X <- q_d(I - X Xᵀ) X
    kernels::gemm(false, false, C, M, C, 1.0f, Q.data(), C, U, M, 0.0f, next.data(), M);
    std::copy(next.data(), next.data() + n, U);
    ++stats.iterations;
    // tr(Xᵀ A) = Σ σ x rises until every x is 1 (or 0).
    const double previous = stats.nuclear_norm;
    stats.nuclear_norm = trace_of_product(U, A, C, M);
    stats.change = (stats.nuclear_norm - previous) / std::max(stats.nuclear_norm, 1e-300);
    if (std::abs(stats.change) <= tolerance) break;
    kernels::gram_forward(G.data(), U, 1, C, M, 1.0f);
  }
  return stats;
}

int64_t psd_factor(double* S, const double* cov, int64_t C) {
  // With the pivots perm, a[i][k] = Σs[perm i][perm k] = (L Lᵀ)[i][k] for L
  // lower triangular, so S[j][perm i] = L[i][j] gives SᵀS = Σs.
  const size_t cc = size_t(C * C);
  std::vector<double> a(cov, cov + cc), L(cc, 0.0);
  std::vector<int64_t> perm(static_cast<size_t>(C));
  std::iota(perm.begin(), perm.end(), int64_t(0));
  double largest = 0.0;
  for (int64_t i = 0; i < C; ++i) largest = std::max(largest, cov[i * C + i]);
  int64_t rank = 0;
  for (int64_t j = 0; j < C; ++j) {
    int64_t p = j;
    for (int64_t i = j + 1; i < C; ++i)
      if (a[size_t(i * C + i)] > a[size_t(p * C + p)]) p = i;
    if (!(a[size_t(p * C + p)] > kW2RankTolerance * largest)) break;
    if (p != j) {
      for (int64_t k = 0; k < C; ++k) std::swap(a[size_t(j * C + k)], a[size_t(p * C + k)]);
      for (int64_t k = 0; k < C; ++k) std::swap(a[size_t(k * C + j)], a[size_t(k * C + p)]);
      for (int64_t k = 0; k < j; ++k) std::swap(L[size_t(j * C + k)], L[size_t(p * C + k)]);
      std::swap(perm[size_t(j)], perm[size_t(p)]);
    }
    const double d = std::sqrt(a[size_t(j * C + j)]);
    L[size_t(j * C + j)] = d;
    for (int64_t i = j + 1; i < C; ++i) L[size_t(i * C + j)] = a[size_t(i * C + j)] / d;
    for (int64_t i = j + 1; i < C; ++i)
      for (int64_t k = j + 1; k < C; ++k)
        a[size_t(i * C + k)] -= L[size_t(i * C + j)] * L[size_t(k * C + j)];
    rank = j + 1;
  }
  std::fill(S, S + cc, 0.0);
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = 0; j < rank; ++j) S[j * C + perm[size_t(i)]] = L[size_t(i * C + j)];
  return rank;
}

W2Target w2_target(const Tensor& cov) {
  const int64_t C = cov.shape()[cov.rank() - 1];
  NST_CHECK(cov.numel() == C * C, "w2_target: covariance ", cov.shape().to_string(),
            " is not one C x C matrix");
  std::vector<double> sigma(size_t(C * C)), S(size_t(C * C));
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = 0; j < C; ++j)  // symmetric in double whatever float rounding did
      sigma[size_t(i * C + j)] = 0.5 * (double(cov[i * C + j]) + double(cov[j * C + i]));
  W2Target t;
  for (int64_t i = 0; i < C; ++i) t.trace += sigma[size_t(i * C + i)];
  NST_CHECK(std::isfinite(t.trace), "w2_target: the covariance is not finite");
  t.rank = psd_factor(S.data(), sigma.data(), C);
  t.factor = Tensor::empty({C, C});
  for (int64_t i = 0; i < C * C; ++i) t.factor[i] = float(S[size_t(i)]);
  return t;
}

namespace {

// Fc = (F - μ1ᵀ) diag(√w) / √W of one sample into Fc (C x M; rows in parallel,
// each summed in a fixed order).
void centred_features(float* Fc, const float* F, const std::vector<float>& root_w,
                      const std::vector<float>& w, double W, int64_t C, int64_t M) {
  const float s = float(1.0 / std::sqrt(W));
  kernels::parallel_for(0, C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const float m = float(kernels::dot(F + i * M, w.data(), M) / W);
      for (int64_t k = 0; k < M; ++k) Fc[i * M + k] = (F[i * M + k] - m) * root_w[size_t(k)] * s;
    }
  });
}

void check_target(const char* op, const Tensor& x, const W2Target& target) {
  NST_CHECK(x.rank() == 4, op, ": features must be [N, C, H, W], got ", x.shape().to_string());
  NST_CHECK(target.factor.numel() == x.c() * x.c(), op, ": ", x.c(),
            "-channel features against a target of ", target.factor.shape().to_string());
}

}  // namespace

double w2_covariance_forward(Tensor& polar, const Tensor& x, const Tensor& mask,
                             const W2Target& target) {
  check_target("w2_covariance", x, target);
  double W = 0.0;
  const std::vector<float> w = pixel_weights("w2_covariance", x, mask, W);
  std::vector<float> root_w(w.size());
  for (size_t k = 0; k < w.size(); ++k) root_w[k] = std::sqrt(w[k]);
  NST_CHECK(polar.shape() == x.shape(), "w2_covariance: polar ", polar.shape().to_string(),
            " must be ", x.shape().to_string());
  const int64_t N = x.n(), C = x.c(), M = x.h() * x.w();
  Tensor Fc = Tensor::empty({C, M}), A = Tensor::empty({C, M});  // pooled scratch
  double value = 0.0;
  for (int64_t s = 0; s < N; ++s) {
    centred_features(Fc.data(), x.data() + s * C * M, root_w, w, W, C, M);
    float* U = polar.data() + s * C * M;
    kernels::gemm(false, false, C, M, C, 1.0f, target.factor.data(), C, Fc.data(), M, 0.0f,
                  A.data(), M);
    const double nuclear = polar_newton_schulz(U, A.data(), C, M).nuclear_norm;  // tr(Uᵀ A)
    const double trace_sigma = trace_of_product(Fc.data(), Fc.data(), C, M);     // ||Fc||²
    value += trace_sigma + target.trace - 2.0 * nuclear;
  }
  return value;
}

void w2_covariance_backward(Tensor& dx, float dout, const Tensor& polar, const Tensor& x,
                            const Tensor& mask, const W2Target& target) {
  check_target("w2_covariance_backward", x, target);
  double W = 0.0;
  const std::vector<float> w = pixel_weights("w2_covariance_backward", x, mask, W);
  std::vector<float> root_w(w.size());
  for (size_t k = 0; k < w.size(); ++k) root_w[k] = std::sqrt(w[k]);
  NST_CHECK(polar.shape() == x.shape() && dx.shape() == x.shape(), "w2_covariance_backward: polar ",
            polar.shape().to_string(), " or dx ", dx.shape().to_string(), " does not match x ",
            x.shape().to_string());
  const int64_t N = x.n(), C = x.c(), M = x.h() * x.w();
  Tensor Fc = Tensor::empty({C, M}), StU = Tensor::empty({C, M});  // pooled scratch
  const double inv_root_W = 1.0 / std::sqrt(W);
  for (int64_t s = 0; s < N; ++s) {
    centred_features(Fc.data(), x.data() + s * C * M, root_w, w, W, C, M);
    kernels::gemm(true, false, C, M, C, 1.0f, target.factor.data(), C, polar.data() + s * C * M, M,
                  0.0f, StU.data(), M);
    float* d = dx.data() + s * C * M;
    kernels::parallel_for(0, C, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        // dFc = 2 (Fc - Sᵀ U);  r = dFc √w
        const double r = 2.0 * (kernels::dot(Fc.data() + i * M, root_w.data(), M) -
                                kernels::dot(StU.data() + i * M, root_w.data(), M));
        const float g = float(double(dout) * inv_root_W),
                    c = float(double(dout) * r * inv_root_W / W);
        for (int64_t k = 0; k < M; ++k) {
          const float dfc = 2.0f * (Fc[i * M + k] - StU[i * M + k]);
          d[i * M + k] += g * dfc * root_w[size_t(k)] - c * w[size_t(k)];
        }
      }
    });
  }
}

Var w2_covariance_term(Tape& tape, const Var& x, const Tensor& mask, const W2Target& target) {
  NST_CHECK(x.defined(), "w2_covariance_term: undefined input");
  Tensor polar = Tensor::empty(x.shape());
  const double value = w2_covariance_forward(polar, x.value(), mask, target);
  Tensor out = Tensor::from({1}, {float(value)});
  return tape.record(
      "w2_covariance_term", out, {x}, [x = x, mask, target, polar](const Tensor& dout) mutable {
        w2_covariance_backward(x.grad_accumulator(), dout[0], polar, x.value(), mask, target);
      });
}

}  // namespace nst
