#include "nn/kernels/simd.hpp"

#include <atomic>
#include <cstdlib>

#include <xsimd/xsimd.hpp>

#include "tensor/check.hpp"

namespace nst::kernels {

const char* simd_level_name(SimdLevel level) {
  switch (level) {
    case SimdLevel::scalar: return "scalar";
    case SimdLevel::sse2: return "sse2";
    case SimdLevel::avx2: return "avx2";
    case SimdLevel::avx512: return "avx512";
    case SimdLevel::neon: return "neon";
  }
  return "?";
}

SimdLevel parse_simd_level(const std::string& name) {
  for (SimdLevel l : {SimdLevel::scalar, SimdLevel::sse2, SimdLevel::avx2, SimdLevel::avx512,
                      SimdLevel::neon})
    if (name == simd_level_name(l)) return l;
  fail("unknown SIMD level '", name, "' (expected avx512, avx2, sse2, neon or scalar)");
}

bool simd_level_supported(SimdLevel level) {
  const auto cpu = xsimd::available_architectures();
  switch (level) {
    case SimdLevel::scalar: return true;
#if defined(NST_HAVE_SSE2)
    case SimdLevel::sse2: return cpu.sse2;
#endif
#if defined(NST_HAVE_AVX2)
    case SimdLevel::avx2: return cpu.avx2 && cpu.fma3_avx2;
#endif
#if defined(NST_HAVE_AVX512)
    case SimdLevel::avx512: return cpu.avx512f && cpu.avx512cd && cpu.avx512dq && cpu.avx512bw;
#endif
#if defined(NST_HAVE_NEON)
    case SimdLevel::neon: return cpu.neon64;
#endif
    default: return false;
  }
}

std::vector<SimdLevel> supported_simd_levels() {
  std::vector<SimdLevel> out;
  for (SimdLevel l : {SimdLevel::scalar, SimdLevel::sse2, SimdLevel::neon, SimdLevel::avx2,
                      SimdLevel::avx512})
    if (simd_level_supported(l)) out.push_back(l);
  return out;
}

namespace {

SimdLevel initial_level() {
  if (const char* env = std::getenv("NST_SIMD"); env && *env) {
    const SimdLevel wanted = parse_simd_level(env);
    NST_CHECK(simd_level_supported(wanted), "NST_SIMD=", env,
              ": this CPU or build does not support it");
    return wanted;
  }
  return supported_simd_levels().back();
}

std::atomic<int>& current_level() {
  static std::atomic<int> level{static_cast<int>(initial_level())};
  return level;
}

}  // namespace

SimdLevel simd_level() { return static_cast<SimdLevel>(current_level().load()); }

void set_simd_level(SimdLevel level) {
  NST_CHECK(simd_level_supported(level), "SIMD level ", simd_level_name(level),
            " is not supported by this CPU or build");
  current_level().store(static_cast<int>(level));
}

}  // namespace nst::kernels
