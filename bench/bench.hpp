// nst_bench: a table of named benchmark cases.
//
// Each bench/bench_<topic>.cpp defines a function returning its cases and
// bench_main.cpp lists those functions in one place. A case checks itself
// against a reference before it is timed; a case whose check fails is
// reported and never timed.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace nst::bench {

struct Case {
  std::string name;                                         // unique, matched by --filter
  std::vector<std::pair<std::string, std::string>> params;  // shown in JSON ("M", "256")
  double flops = 0;                                         // per run (0: report time only)
  // Checks the kernel the case times (e.g. on a smaller shape) at the current
  // SIMD level and thread count: "" when right, else what was wrong.
  std::function<std::string()> verify;
  std::function<void()> prepare;  // allocates inputs (not timed)
  std::function<void()> run;      // one timed run
  std::function<void()> release;  // frees inputs
};

// Machine assumption for "% of peak": fp32 FMA peak per core. Measured on the
// 2-core AMD EPYC (CPU family 25) development machine with a register-only FMA loop:
// ~115 GFLOP/s (512-bit FMA appears double-pumped), not the 280 of the data sheet.
constexpr double kPeakGflopsPerCore = 115.0;

std::vector<Case> gemm_cases();
std::vector<Case> vgg_cases();
std::vector<Case> fast_cases();
std::vector<Case> fast_conv_cases();
std::vector<Case> peak_cases();
std::vector<Case> train_cases();

}  // namespace nst::bench
