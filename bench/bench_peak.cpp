// The machine's fp32 FMA peak at the active SIMD level: a register-only loop of
// independent fused multiply-adds (no loads, no stores), the ceiling that the
// "% of peak" columns divide by.
//
//   fma_peak    12 accumulators x kSteps FMAs per task, 64 tasks over the threads
//
// `nst_bench --filter fma_peak` prints its GFLOP/s (1 and 2 threads); pass that
// per-core figure as `--peak` to the other cases. 12 chains cover the FMA
// latency times the FMA ports of current x86 cores (4 cycles x 2 ports on Zen 3).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "bench.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "tensor/check.hpp"

namespace nst::bench {

namespace {

constexpr int kChains = 12;
constexpr int64_t kSteps = int64_t{1} << 22;  // per task
constexpr int64_t kTasks = 64;

// Each returns a sum of its accumulators, so the loop is not optimised away.
#if defined(__x86_64__)
[[gnu::target("avx512f")]] float fma_loop_avx512(int64_t steps, float seed) {
  __m512 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm512_set1_ps(seed + float(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm512_add_ps(sum, acc[i]);
  alignas(64) float lanes[16];  // (_mm512_reduce_add_ps trips GCC 12's -Wuninitialized)
  _mm512_store_ps(lanes, sum);
  float total = 0.0f;
  for (float v : lanes) total += v;
  return total;
}

[[gnu::target("avx2,fma")]] float fma_loop_avx2(int64_t steps, float seed) {
  __m256 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(seed + float(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm256_add_ps(sum, acc[i]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0.0f;
  for (float v : lanes) total += v;
  return total;
}

// No FMA in SSE2: a multiply and an add per step, counted as one FMA's 2 FLOPs.
float fma_loop_sse2(int64_t steps, float seed) {
  __m128 acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = _mm_set1_ps(seed + float(i));
  const __m128 a = _mm_set1_ps(0.999999f), b = _mm_set1_ps(1e-7f);
  for (int64_t s = 0; s < steps; ++s)
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm_add_ps(_mm_mul_ps(acc[i], a), b);
  __m128 sum = acc[0];
  for (int i = 1; i < kChains; ++i) sum = _mm_add_ps(sum, acc[i]);
  alignas(16) float lanes[4];
  _mm_store_ps(lanes, sum);
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}
#endif

// Floats per vector at the active level (1: the plain loop's scalar FMA).
int lanes_of(kernels::SimdLevel level) {
  switch (level) {
    case kernels::SimdLevel::avx512: return 16;
    case kernels::SimdLevel::avx2: return 8;
    case kernels::SimdLevel::sse2: return 4;
    default: return 1;
  }
}

float fma_loop(kernels::SimdLevel level, int64_t steps, float seed) {
#if defined(__x86_64__)
  switch (level) {
    case kernels::SimdLevel::avx512: return fma_loop_avx512(steps, seed);
    case kernels::SimdLevel::avx2: return fma_loop_avx2(steps, seed);
    case kernels::SimdLevel::sse2: return fma_loop_sse2(steps, seed);
    default: break;
  }
#endif
  float acc[kChains];
  for (int i = 0; i < kChains; ++i) acc[i] = seed + float(i);
  for (int64_t s = 0; s < steps; ++s)
    for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * 0.999999f + 1e-7f;
  float total = 0.0f;
  for (float v : acc) total += v;
  return total;
}

}  // namespace

std::vector<Case> peak_cases() {
  Case c;
  c.name = "fma_peak";
  const kernels::SimdLevel level = kernels::simd_level();
  c.params = {{"loop", "register-only FMAs"}};
  c.flops = 2.0 * kChains * double(lanes_of(level)) * double(kSteps) * double(kTasks);
  auto sink = std::make_shared<float>(0.0f);
  c.verify = [] { return std::string(); };
  c.prepare = [] {};
  c.run = [level, sink] {
    std::vector<float> out(kTasks);
    kernels::parallel_for(0, kTasks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) out[size_t(t)] = fma_loop(level, kSteps, float(t));
    });
    for (float v : out) *sink += v;
  };
  c.release = [] {};
  return {c};
}

}  // namespace nst::bench
