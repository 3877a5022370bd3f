// SIMD functors behind optim_vec.hpp (see dispatch.hpp for the pattern): the
// templated call operators live in optim_kernel.simd.cpp, compiled once per
// instruction set; the ScalarArch overloads (plain loops) in optim_kernel.cpp.
#pragma once

#include <cstdint>

#include "nn/kernels/dispatch.hpp"

namespace nst::kernels {

struct DotKernel {
  template <class Arch>
  double operator()(Arch, const float* a, const float* b, int64_t n) const;
  double operator()(ScalarArch, const float* a, const float* b, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(DotKernel, double, const float*, const float*, int64_t)

// DotKernel and AddScaledKernel with one operand in bfloat16 (the top 16 bits
// of a float): the same arithmetic on the decoded values, so the same bits.
struct DotBf16Kernel {
  template <class Arch>
  double operator()(Arch, const uint16_t* a, const float* b, int64_t n) const;
  double operator()(ScalarArch, const uint16_t* a, const float* b, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(DotBf16Kernel, double, const uint16_t*, const float*, int64_t)

struct AddScaledBf16Kernel {
  template <class Arch>
  void operator()(Arch, float* y, const float* x0, double alpha, const uint16_t* d,
                  int64_t n) const;
  void operator()(ScalarArch, float* y, const float* x0, double alpha, const uint16_t* d,
                  int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(AddScaledBf16Kernel, void, float*, const float*, double, const uint16_t*,
                        int64_t)

struct SumAbsKernel {
  template <class Arch>
  double operator()(Arch, const float* a, int64_t n) const;
  double operator()(ScalarArch, const float* a, int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(SumAbsKernel, double, const float*, int64_t)

struct AddScaledKernel {
  template <class Arch>
  void operator()(Arch, float* y, const float* x0, double alpha, const float* d, int64_t n) const;
  void operator()(ScalarArch, float* y, const float* x0, double alpha, const float* d,
                  int64_t n) const;
};
NST_DECLARE_SIMD_KERNEL(AddScaledKernel, void, float*, const float*, double, const float*, int64_t)

}  // namespace nst::kernels
