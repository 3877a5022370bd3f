// SIMD functors behind eltwise.hpp (see dispatch.hpp for the pattern). Each has
// a templated call operator, defined in eltwise_kernel.simd.cpp and compiled
// once per instruction set, and a ScalarArch overload with the plain loop,
// defined in eltwise_kernel.cpp. All work on [0, n) of flat float arrays.
#pragma once

#include <cstdint>

#include "nn/kernels/dispatch.hpp"

namespace nst::kernels {

struct ReluKernel {
  template <class Arch>
  void operator()(Arch, float* out, const float* inp, int64_t n) const;
  void operator()(ScalarArch, float* out, const float* inp, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(ReluKernel, void, float*, const float*, int64_t)

struct ReluBackwardKernel {
  template <class Arch>
  void operator()(Arch, float* dinp, const float* dout, const float* out, int64_t n) const;
  void operator()(ScalarArch, float* dinp, const float* dout, const float* out, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(ReluBackwardKernel, void, float*, const float*, const float*, int64_t)

// The ReLU bit masks (eltwise.hpp) over n elements starting at a word
// boundary: bit i % 64 of bits[i / 64] is element i.
struct PositiveBitsKernel {
  template <class Arch>
  void operator()(Arch, uint64_t* bits, const float* x, int64_t n) const;
  void operator()(ScalarArch, uint64_t* bits, const float* x, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(PositiveBitsKernel, void, uint64_t*, const float*, int64_t)

// g[i] = bit i ? g[i] : 0;  with accumulate: d[i] += bit i ? g[i] : 0.
struct MaskByBitsKernel {
  template <class Arch>
  void operator()(Arch, float* d, const float* g, const uint64_t* bits, int64_t n,
                  bool accumulate) const;
  void operator()(ScalarArch, float* d, const float* g, const uint64_t* bits, int64_t n,
                  bool accumulate) const;
};
NST_DECLARE_SIMD_KERNEL(MaskByBitsKernel, void, float*, const float*, const uint64_t*, int64_t,
                        bool)

struct AxpyKernel {
  template <class Arch>
  void operator()(Arch, float* out, float a, const float* x, const float* y, int64_t n) const;
  void operator()(ScalarArch, float* out, float a, const float* x, const float* y, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(AxpyKernel, void, float*, float, const float*, const float*, int64_t)

struct AffineKernel {
  template <class Arch>
  void operator()(Arch, float* out, const float* x, float a, float b, int64_t n) const;
  void operator()(ScalarArch, float* out, const float* x, float a, float b, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(AffineKernel, void, float*, const float*, float, float, int64_t)

struct NormalizeKernel {
  template <class Arch>
  void operator()(Arch, float* out, const float* x, float m_hi, float m_lo, float k, float t,
                  bool relu, int64_t n) const;
  void operator()(ScalarArch, float* out, const float* x, float m_hi, float m_lo, float k, float t,
                  bool relu, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(NormalizeKernel, void, float*, const float*, float, float, float, float,
                        bool, int64_t)

struct NormalizeBackwardKernel {
  template <class Arch>
  void operator()(Arch, float* dx, const float* dy, const float* x, float m_hi, float m_lo, float k,
                  float c, float b, int64_t n) const;
  void operator()(ScalarArch, float* dx, const float* dy, const float* x, float m_hi, float m_lo,
                  float k, float c, float b, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(NormalizeBackwardKernel, void, float*, const float*, const float*, float,
                        float, float, float, float, int64_t)

struct TanhBackwardKernel {
  template <class Arch>
  void operator()(Arch, float* dinp, const float* dout, const float* out, int64_t n) const;
  void operator()(ScalarArch, float* dinp, const float* dout, const float* out, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(TanhBackwardKernel, void, float*, const float*, const float*, int64_t)

struct AddScaledDifferenceKernel {
  template <class Arch>
  void operator()(Arch, float* out, float k, const float* a, const float* b, int64_t n) const;
  void operator()(ScalarArch, float* out, float k, const float* a, const float* b, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(AddScaledDifferenceKernel, void, float*, float, const float*, const float*,
                        int64_t)

}  // namespace nst::kernels
