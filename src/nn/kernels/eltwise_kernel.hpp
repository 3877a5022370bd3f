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
                  int64_t n) const;
  void operator()(ScalarArch, float* out, const float* x, float m_hi, float m_lo, float k, float t,
                  int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(NormalizeKernel, void, float*, const float*, float, float, float, float,
                        int64_t)

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
