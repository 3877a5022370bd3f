// nst_bench — times the kernels at the shapes style transfer uses.
//
//   nst_bench                      every case, 1 and 2 threads, table
//   nst_bench --filter gemm_NN     cases whose name contains the text
//   nst_bench --threads 2 --repeat 10 --json
//
// Each case is first checked against its reference at the same SIMD level and
// thread count; a wrong kernel is reported and not timed (exit status 1).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>

#include <sys/resource.h>
#include <vector>

#include "bench.hpp"
#include "tools/args.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "tensor/check.hpp"

namespace {

using nst::bench::Case;

// Every benchmark group: add a line per new bench_<topic>.cpp.
std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (auto& c : nst::bench::gemm_cases()) cases.push_back(std::move(c));
  for (auto& c : nst::bench::vgg_cases()) cases.push_back(std::move(c));
  for (auto& c : nst::bench::fast_cases()) cases.push_back(std::move(c));
  for (auto& c : nst::bench::fast_conv_cases()) cases.push_back(std::move(c));
  for (auto& c : nst::bench::peak_cases()) cases.push_back(std::move(c));
  for (auto& c : nst::bench::train_cases()) cases.push_back(std::move(c));
  return cases;
}

struct Timing {
  double best = 0, median = 0;  // wall seconds per run
  double cpu_share = 0;  // process CPU time / (wall time x threads): < 1 when idle or crowded out
};

// Peak resident set of this process so far, MB: VmHWM of /proc/self/status. It
// never decreases, so it covers every case run before too. (Not ru_maxrss: on
// Linux that keeps the high-water mark of the process image before execve, so a
// bench started from a large Python process would report the Python's.)
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;
}

Timing time_case(const Case& c, int repeat, int threads) {
  c.run();  // warm-up: caches, thread pool, packing buffers
  std::vector<double> seconds;
  const std::clock_t cpu0 = std::clock();
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    c.run();
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double cpu = static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  double total = 0;
  for (double s : seconds) total += s;
  std::sort(seconds.begin(), seconds.end());
  return {seconds.front(), seconds[seconds.size() / 2], cpu / (total * threads)};
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

void print_json(const Case& c, int threads, const char* simd, const Timing& t, double peak) {
  std::cout << "{\"name\": \"" << json_escape(c.name) << "\", \"simd\": \"" << simd
            << "\", \"threads\": " << threads;
  for (const auto& [key, value] : c.params) {
    const bool number = key == "size" || key == "C" || key == "OC" || key == "H";
    std::cout << ", \"" << json_escape(key) << "\": ";
    if (number)
      std::cout << value;
    else
      std::cout << '"' << json_escape(value) << '"';
  }
  // The objective's cases: one evaluation (value and image gradient) per run.
  if (c.name.rfind("vgg_objective_", 0) == 0)
    std::cout << nst::str(", \"seconds_per_eval\": ", t.best);
  std::cout << nst::str(", \"best_ms\": ", t.best * 1e3, ", \"median_ms\": ", t.median * 1e3,
                        ", \"cpu_share\": ", t.cpu_share, ", \"peak_rss_mb\": ", peak_rss_mb());
  if (c.flops > 0) {
    const double gflops = c.flops / t.best * 1e-9;
    std::cout << nst::str(", \"gflops\": ", gflops, ", \"peak_gflops\": ", peak * threads,
                          ", \"peak_percent\": ", 100.0 * gflops / (peak * threads));
  }
  std::cout << "}\n";
}

void print_row(const Case& c, int threads, const Timing& t, double peak) {
  char line[256];
  if (c.flops > 0) {
    const double gflops = c.flops / t.best * 1e-9;
    std::snprintf(line, sizeof line, "%-30s %7d %10.2f %10.2f %5.0f%% %7.0f %9.1f %7.1f%%",
                  c.name.c_str(), threads, t.best * 1e3, t.median * 1e3, 100.0 * t.cpu_share,
                  peak_rss_mb(), gflops, 100.0 * gflops / (peak * threads));
  } else {
    std::snprintf(line, sizeof line, "%-30s %7d %10.2f %10.2f %5.0f%% %7.0f", c.name.c_str(),
                  threads, t.best * 1e3, t.median * 1e3, 100.0 * t.cpu_share, peak_rss_mb());
  }
  std::cout << line << std::endl;
}

int run(int argc, char** argv) {
  nst::ArgParser parser("nst_bench", "Times the kernels at the shapes style transfer uses.");
  parser.option("filter", "TEXT", "only cases whose name contains TEXT");
  parser.option("threads", "N", "thread count (default: 1, then 2)");
  parser.option("repeat", "N", "timed runs per case (best and median reported)", "5");
  parser.option("peak", "GFLOPS", "fp32 peak per core for '% of peak'",
                nst::str(nst::bench::kPeakGflopsPerCore));
  parser.option("size", "S", "only the cases at S x S px (256, 512, 1024)");
  parser.flag("json", "one JSON object per case and thread count instead of a table");
  const auto args = parser.parse(argc - 1, argv + 1);  // without the program name
  if (!args) return 0;
  const int repeat = static_cast<int>(args->get_int("repeat", 1, 1000));
  std::vector<int> thread_counts = {1, 2};
  if (args->has("threads")) thread_counts = {static_cast<int>(args->get_int("threads", 1, 1024))};
  const bool json = args->flag("json");
  const double peak = args->get_double("peak", 1e-3, 1e6);
  const char* simd = nst::kernels::simd_level_name(nst::kernels::simd_level());

  std::vector<Case> cases = all_cases();
  if (args->has("filter")) {
    const std::string text = args->get("filter");
    std::erase_if(cases, [&](const Case& c) { return c.name.find(text) == std::string::npos; });
    NST_CHECK(!cases.empty(), "nst_bench: no case name contains '", text, "'");
  }
  if (args->has("size")) {
    const std::string size = nst::str(args->get_int("size", 1, 1 << 16));
    std::erase_if(cases, [&](const Case& c) {
      const auto it = std::find_if(c.params.begin(), c.params.end(),
                                   [](const auto& kv) { return kv.first == "size"; });
      return it == c.params.end() || it->second != size;
    });
    NST_CHECK(!cases.empty(), "nst_bench: no case at --size ", size);
  }
  if (!json) {
    std::cout << "SIMD level " << simd << "; % of peak assumes " << peak
              << " GFLOP/s fp32 per core times the threads (--peak; default: measured FMA loop on the 2-core development machine)"
                 "\ncpu: process CPU time / (wall time x threads), low when other programs "
                 "compete for the cores\nrss MB: peak resident set of the whole process so far "
                 "(VmHWM)\n";
    std::printf("%-30s %7s %10s %10s %6s %7s %9s %8s\n", "case", "threads", "best ms",
                "median ms", "cpu", "rss MB", "GFLOP/s", "peak");
  }
  int wrong = 0;
  for (const Case& c : cases)
    for (int threads : thread_counts) {
      nst::kernels::set_num_threads(threads);
      if (const std::string error = c.verify(); !error.empty()) {
        std::cerr << "nst_bench: " << c.name << " (" << threads
                  << " threads) differs from its reference, not timed: " << error << "\n";
        ++wrong;
        continue;
      }
      c.prepare();
      const Timing t = time_case(c, repeat, threads);
      c.release();
      if (json)
        print_json(c, threads, simd, t, peak);
      else
        print_row(c, threads, t, peak);
    }
  return wrong == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
}
