// Run-time dispatch of SIMD kernels (kernel layer only: includes xsimd).
//
// A kernel is a functor with a templated call operator:
//
//   struct AxpyKernel {
//     template <class Arch> void operator()(Arch, float a, const float* x, float* y, int64_t n) const;
//     void operator()(ScalarArch, float a, const float* x, float* y, int64_t n) const;  // plain loops
//   };
//   NST_DECLARE_SIMD_KERNEL(AxpyKernel, void, float, const float*, float*, int64_t);
//
// Its template is defined in a file `name.simd.cpp`, which CMake compiles once
// per instruction set with NST_ARCH set to the xsimd architecture and that
// set's -m flags, ending with NST_INSTANTIATE_SIMD_KERNEL(...) (same argument
// list). Callers write `dispatch(AxpyKernel{}, a, x, y, n)`: the level chosen
// by simd_level() picks the instantiation. The dispatching translation unit
// sees only `extern template` declarations, so no wide instruction leaks into
// code that runs on every CPU.
//
// Only the kernel layer dispatches: an op in src/nn calls a plain entry point
// (e.g. gram_forward in gram.hpp), whose .cpp cuts the work into tiles, runs
// them with parallel_for and dispatches each (docs/CONVENTIONS.md).
#pragma once

#include <utility>

#include <xsimd/xsimd.hpp>

#include "nn/kernels/simd.hpp"

namespace nst::kernels {

// Tag for the reference (non-SIMD) path.
struct ScalarArch {};

template <class F, class... Args>
decltype(auto) dispatch(const F& f, Args&&... args) {
  switch (simd_level()) {
#if defined(NST_HAVE_AVX512)
    case SimdLevel::avx512: return f(xsimd::avx512f{}, std::forward<Args>(args)...);
#endif
#if defined(NST_HAVE_AVX2)
    case SimdLevel::avx2: return f(xsimd::fma3<xsimd::avx2>{}, std::forward<Args>(args)...);
#endif
#if defined(NST_HAVE_SSE2)
    case SimdLevel::sse2: return f(xsimd::sse2{}, std::forward<Args>(args)...);
#endif
#if defined(NST_HAVE_NEON)
    case SimdLevel::neon: return f(xsimd::neon64{}, std::forward<Args>(args)...);
#endif
    default: return f(ScalarArch{}, std::forward<Args>(args)...);
  }
}

}  // namespace nst::kernels

// Declaration boilerplate only (the kernels themselves are plain templates).
#define NST_EXTERN_KERNEL_FOR(ARCH, F, RET, ...) \
  extern template RET F::operator()<ARCH>(ARCH, __VA_ARGS__) const;

#if defined(NST_HAVE_AVX512)
#define NST_EXTERN_AVX512(F, RET, ...) NST_EXTERN_KERNEL_FOR(xsimd::avx512f, F, RET, __VA_ARGS__)
#else
#define NST_EXTERN_AVX512(F, RET, ...)
#endif
#if defined(NST_HAVE_AVX2)
#define NST_EXTERN_AVX2(F, RET, ...) \
  NST_EXTERN_KERNEL_FOR(xsimd::fma3<xsimd::avx2>, F, RET, __VA_ARGS__)
#else
#define NST_EXTERN_AVX2(F, RET, ...)
#endif
#if defined(NST_HAVE_SSE2)
#define NST_EXTERN_SSE2(F, RET, ...) NST_EXTERN_KERNEL_FOR(xsimd::sse2, F, RET, __VA_ARGS__)
#else
#define NST_EXTERN_SSE2(F, RET, ...)
#endif
#if defined(NST_HAVE_NEON)
#define NST_EXTERN_NEON(F, RET, ...) NST_EXTERN_KERNEL_FOR(xsimd::neon64, F, RET, __VA_ARGS__)
#else
#define NST_EXTERN_NEON(F, RET, ...)
#endif

// In a header: the instantiations exist elsewhere, one per instruction set.
#define NST_DECLARE_SIMD_KERNEL(F, RET, ...)  \
  NST_EXTERN_AVX512(F, RET, __VA_ARGS__)      \
  NST_EXTERN_AVX2(F, RET, __VA_ARGS__)        \
  NST_EXTERN_SSE2(F, RET, __VA_ARGS__)        \
  NST_EXTERN_NEON(F, RET, __VA_ARGS__)

// At the end of a .simd.cpp: instantiate for the instruction set of this build.
#define NST_INSTANTIATE_SIMD_KERNEL(F, RET, ...) \
  template RET F::operator()<NST_ARCH>(NST_ARCH, __VA_ARGS__) const;
