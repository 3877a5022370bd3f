// SIMD bodies of the optimiser vector kernels (compiled once per instruction
// set, NST_ARCH names it). Floats are widened to double batches; sums keep
// kAccumulators batch accumulators (batch k takes elements [k W, (k+1) W) of
// each block), added in order at the end, then lane by lane. Tails go through a
// zero-padded block, so every element gets the same arithmetic wherever it sits.
#include <algorithm>
#include <array>
#include <tuple>

#include "nn/kernels/optim_kernel.hpp"

namespace nst::kernels {

namespace {

template <class Arch>
using Doubles = xsimd::batch<double, Arch>;

constexpr int kAccumulators = 4;

// Loads W floats as W doubles.
template <class Arch>
Doubles<Arch> load_widened(const float* p) {
  alignas(64) double buf[Doubles<Arch>::size];
  for (size_t j = 0; j < Doubles<Arch>::size; ++j) buf[j] = p[j];
  return Doubles<Arch>::load_aligned(buf);
}

// Σ step(widened batches of in[0..K)) over [0, n) with kAccumulators batch accumulators.
template <class Arch, size_t K, class Step>
double reduce_blocks(int64_t n, const std::array<const float*, K>& in, const Step& step) {
  using D = Doubles<Arch>;
  constexpr int64_t width = D::size;
  constexpr int64_t block = width * kAccumulators;
  D acc[kAccumulators];
  for (auto& a : acc) a = D(0.0);
  auto accumulate = [&](const std::array<const float*, K>& p) {
    for (int k = 0; k < kAccumulators; ++k) {
      std::array<D, K> v;
      for (size_t q = 0; q < K; ++q) v[q] = load_widened<Arch>(p[q] + k * width);
      acc[k] += std::apply(step, v);
    }
  };
  int64_t i = 0;
  for (; i + block <= n; i += block) {
    std::array<const float*, K> p;
    for (size_t q = 0; q < K; ++q) p[q] = in[q] + i;
    accumulate(p);
  }
  if (i < n) {  // zero-padded last block: zeros add nothing
    alignas(64) float pad[K][block] = {};
    std::array<const float*, K> p;
    for (size_t q = 0; q < K; ++q) {
      std::copy(in[q] + i, in[q] + n, pad[q]);
      p[q] = pad[q];
    }
    accumulate(p);
  }
  D total = acc[0];
  for (int k = 1; k < kAccumulators; ++k) total += acc[k];
  alignas(64) double lanes[width];
  total.store_aligned(lanes);
  double sum = 0;
  for (int64_t j = 0; j < width; ++j) sum += lanes[j];
  return sum;
}

}  // namespace

template <class Arch>
double DotKernel::operator()(Arch, const float* a, const float* b, int64_t n) const {
  return reduce_blocks<Arch, 2>(n, {a, b}, [](Doubles<Arch> x, Doubles<Arch> y) { return x * y; });
}

template <class Arch>
double SumAbsKernel::operator()(Arch, const float* a, int64_t n) const {
  return reduce_blocks<Arch, 1>(n, {a}, [](Doubles<Arch> x) { return xsimd::abs(x); });
}

template <class Arch>
void AddScaledKernel::operator()(Arch, float* y, const float* x0, double alpha, const float* d,
                                 int64_t n) const {
  using D = Doubles<Arch>;
  constexpr int64_t width = D::size;
  const D va(alpha);
  alignas(64) double out[width];
  int64_t i = 0;
  for (; i + width <= n; i += width) {
    (load_widened<Arch>(x0 + i) + va * load_widened<Arch>(d + i)).store_aligned(out);
    for (int64_t j = 0; j < width; ++j) y[i + j] = float(out[j]);
  }
  for (; i < n; ++i) y[i] = float(double(x0[i]) + alpha * double(d[i]));
}

NST_INSTANTIATE_SIMD_KERNEL(DotKernel, double, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(SumAbsKernel, double, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AddScaledKernel, void, float*, const float*, double, const float*,
                            int64_t)

}  // namespace nst::kernels
