// SIMD bodies of the optimiser vector kernels (compiled once per instruction
// set, NST_ARCH names it). Floats are widened to double batches; sums keep
// kAccumulators batch accumulators (batch k takes elements [k W, (k+1) W) of
// each block), added in order at the end, then lane by lane. Tails go through a
// zero-padded block, so every element gets the same arithmetic wherever it sits.
#include <algorithm>
#include <array>
#include <tuple>
#include <type_traits>

#include "nn/kernels/optim_kernel.hpp"
#include "nn/kernels/optim_vec.hpp"

namespace nst::kernels {

namespace {

template <class Arch>
using Doubles = xsimd::batch<double, Arch>;

constexpr int kAccumulators = 4;

inline double widen(float x) { return x; }
inline double widen(uint16_t h) { return bf16_value(h); }

// Loads W floats (or bfloat16 values) as W doubles.
template <class Arch>
Doubles<Arch> load_widened(const float* p) {
  alignas(64) double buf[Doubles<Arch>::size];
  for (size_t j = 0; j < Doubles<Arch>::size; ++j) buf[j] = p[j];
  return Doubles<Arch>::load_aligned(buf);
}
template <class Arch>
Doubles<Arch> load_widened(const uint16_t* p) {
  alignas(64) double buf[Doubles<Arch>::size];
  for (size_t j = 0; j < Doubles<Arch>::size; ++j) buf[j] = bf16_value(p[j]);
  return Doubles<Arch>::load_aligned(buf);
}

// Σ step(widened batches of in...) over [0, n) with kAccumulators batch accumulators.
template <class Arch, class Step, class... T>
double reduce_blocks(int64_t n, const Step& step, const T*... in) {
  using D = Doubles<Arch>;
  constexpr int64_t width = D::size;
  constexpr int64_t block = width * kAccumulators;
  D acc[kAccumulators];
  for (auto& a : acc) a = D(0.0);
  auto accumulate = [&](const T*... p) {
    for (int k = 0; k < kAccumulators; ++k) acc[k] += step(load_widened<Arch>(p + k * width)...);
  };
  int64_t i = 0;
  for (; i + block <= n; i += block) accumulate(in + i...);
  if (i < n) {  // zero-padded last block: zeros add nothing
    auto padded = [&](const auto* src) {
      using S = std::remove_cv_t<std::remove_pointer_t<decltype(src)>>;
      std::array<S, block> buf{};
      std::copy(src + i, src + n, buf.begin());
      return buf;
    };
    const auto bufs = std::make_tuple(padded(in)...);
    std::apply([&](const auto&... b) { accumulate(b.data()...); }, bufs);
  }
  D total = acc[0];
  for (int k = 1; k < kAccumulators; ++k) total += acc[k];
  alignas(64) double lanes[width];
  total.store_aligned(lanes);
  double sum = 0;
  for (int64_t j = 0; j < width; ++j) sum += lanes[j];
  return sum;
}

// y[i] = float(double(x0[i]) + alpha * double(d[i])); y may alias x0 or d.
template <class Arch, class T>
void add_scaled(float* y, const float* x0, double alpha, const T* d, int64_t n) {
  using D = Doubles<Arch>;
  constexpr int64_t width = D::size;
  const D va(alpha);
  alignas(64) double out[width];
  int64_t i = 0;
  for (; i + width <= n; i += width) {
    (load_widened<Arch>(x0 + i) + va * load_widened<Arch>(d + i)).store_aligned(out);
    for (int64_t j = 0; j < width; ++j) y[i + j] = float(out[j]);
  }
  for (; i < n; ++i) y[i] = float(double(x0[i]) + alpha * widen(d[i]));
}

}  // namespace

template <class Arch>
double DotKernel::operator()(Arch, const float* a, const float* b, int64_t n) const {
  return reduce_blocks<Arch>(n, [](Doubles<Arch> x, Doubles<Arch> y) { return x * y; }, a, b);
}

template <class Arch>
double DotBf16Kernel::operator()(Arch, const uint16_t* a, const float* b, int64_t n) const {
  return reduce_blocks<Arch>(n, [](Doubles<Arch> x, Doubles<Arch> y) { return x * y; }, a, b);
}

template <class Arch>
double SumAbsKernel::operator()(Arch, const float* a, int64_t n) const {
  return reduce_blocks<Arch>(n, [](Doubles<Arch> x) { return xsimd::abs(x); }, a);
}

template <class Arch>
void AddScaledKernel::operator()(Arch, float* y, const float* x0, double alpha, const float* d,
                                 int64_t n) const {
  add_scaled<Arch>(y, x0, alpha, d, n);
}

template <class Arch>
void AddScaledBf16Kernel::operator()(Arch, float* y, const float* x0, double alpha,
                                     const uint16_t* d, int64_t n) const {
  add_scaled<Arch>(y, x0, alpha, d, n);
}

NST_INSTANTIATE_SIMD_KERNEL(DotKernel, double, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(DotBf16Kernel, double, const uint16_t*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(SumAbsKernel, double, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AddScaledKernel, void, float*, const float*, double, const float*,
                            int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AddScaledBf16Kernel, void, float*, const float*, double,
                            const uint16_t*, int64_t)

}  // namespace nst::kernels
