// Instruction-set selection for the SIMD kernels (no xsimd in this header).
//
// One build runs on any CPU of its family: every kernel is compiled once per
// instruction set (src/nn/kernels/*.simd.cpp) and the best one the CPU
// supports is chosen at run time. NST_SIMD=avx512|avx2|sse2|neon|scalar (or
// set_simd_level) forces a lower level; `scalar` runs the plain reference loops.
#pragma once

#include <string>
#include <vector>

namespace nst::kernels {

enum class SimdLevel { scalar = 0, sse2 = 1, avx2 = 2, avx512 = 3, neon = 4 };

const char* simd_level_name(SimdLevel level);
SimdLevel parse_simd_level(const std::string& name);  // throws nst::Error

// Levels this build has and this CPU runs, lowest first (scalar always).
std::vector<SimdLevel> supported_simd_levels();
bool simd_level_supported(SimdLevel level);

// The level kernels use now: the best supported one, or NST_SIMD if set.
SimdLevel simd_level();
void set_simd_level(SimdLevel level);  // throws if this CPU/build lacks it

// Restores the previous level when it goes out of scope (for tests).
class ScopedSimdLevel {
 public:
  explicit ScopedSimdLevel(SimdLevel level) : saved_(simd_level()) { set_simd_level(level); }
  ~ScopedSimdLevel() { set_simd_level(saved_); }
  ScopedSimdLevel(const ScopedSimdLevel&) = delete;
  ScopedSimdLevel& operator=(const ScopedSimdLevel&) = delete;

 private:
  SimdLevel saved_;
};

}  // namespace nst::kernels
