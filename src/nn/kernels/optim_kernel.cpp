// Plain-loop (ScalarArch) bodies of the optimiser vector kernels and the
// dispatching chunk functions of optim_vec.hpp.
#include "nn/kernels/optim_kernel.hpp"

#include <cmath>

#include "nn/kernels/optim_vec.hpp"

namespace nst::kernels {

namespace {

constexpr int kLanes = 8;

// Σ term(i) in 8 interleaved lanes (lane = i mod 8), lanes added in order.
template <class Term>
double lane_sum(int64_t n, const Term& term) {
  double lane[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int j = 0; j < kLanes; ++j) lane[j] += term(i + j);
  for (int j = 0; i < n; ++i, ++j) lane[j] += term(i);
  double sum = 0;
  for (int j = 0; j < kLanes; ++j) sum += lane[j];
  return sum;
}

}  // namespace

double DotKernel::operator()(ScalarArch, const float* a, const float* b, int64_t n) const {
  return lane_sum(n, [=](int64_t i) { return double(a[i]) * double(b[i]); });
}

double DotBf16Kernel::operator()(ScalarArch, const uint16_t* a, const float* b, int64_t n) const {
  return lane_sum(n, [=](int64_t i) { return double(bf16_value(a[i])) * double(b[i]); });
}

void AddScaledBf16Kernel::operator()(ScalarArch, float* y, const float* x0, double alpha,
                                     const uint16_t* d, int64_t n) const {
  for (int64_t i = 0; i < n; ++i) y[i] = float(double(x0[i]) + alpha * double(bf16_value(d[i])));
}

double SumAbsKernel::operator()(ScalarArch, const float* a, int64_t n) const {
  return lane_sum(n, [=](int64_t i) { return std::fabs(double(a[i])); });
}

void AddScaledKernel::operator()(ScalarArch, float* y, const float* x0, double alpha,
                                 const float* d, int64_t n) const {
  for (int64_t i = 0; i < n; ++i) y[i] = float(double(x0[i]) + alpha * double(d[i]));
}

double dot_chunk(const float* a, const float* b, int64_t n) {
  return dispatch(DotKernel{}, a, b, n);
}

double sum_abs_chunk(const float* a, int64_t n) { return dispatch(SumAbsKernel{}, a, n); }

void add_scaled_chunk(float* y, const float* x0, double alpha, const float* d, int64_t n) {
  dispatch(AddScaledKernel{}, y, x0, alpha, d, n);
}

double dot_bf16_chunk(const uint16_t* a, const float* b, int64_t n) {
  return dispatch(DotBf16Kernel{}, a, b, n);
}

void add_scaled_bf16_chunk(float* y, const float* x0, double alpha, const uint16_t* d, int64_t n) {
  dispatch(AddScaledBf16Kernel{}, y, x0, alpha, d, n);
}

}  // namespace nst::kernels
