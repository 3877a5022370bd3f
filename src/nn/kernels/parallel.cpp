#include "nn/kernels/parallel.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#ifdef __SANITIZE_THREAD__
#include <atomic>
#include <thread>
#include <vector>
#endif

#include <tbb/blocked_range.h>
#include <tbb/global_control.h>
#include <tbb/info.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "tensor/check.hpp"

namespace nst::kernels {

namespace {

std::mutex g_mutex;
std::unique_ptr<tbb::global_control> g_control;
int g_threads = 0;

int default_threads() {
  if (const char* env = std::getenv("NST_THREADS"); env && *env) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    NST_CHECK(end && *end == '\0' && n >= 1 && n <= 1024, "NST_THREADS='", env,
              "': expected a whole number from 1 to 1024");
    return static_cast<int>(n);
  }
  return tbb::info::default_concurrency();
}

void ensure_initialised() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_threads == 0) {
    g_threads = default_threads();
    g_control = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, static_cast<size_t>(g_threads));
  }
}

}  // namespace

int num_threads() {
  ensure_initialised();
  return g_threads;
}

void set_num_threads(int n) {
  NST_CHECK(n >= 0 && n <= 1024, "threads: ", n, " is out of range (0 to 1024)");
  std::lock_guard<std::mutex> lock(g_mutex);
  g_threads = n == 0 ? tbb::info::default_concurrency() : n;
  g_control.reset();
  g_control = std::make_unique<tbb::global_control>(tbb::global_control::max_allowed_parallelism,
                                                    static_cast<size_t>(g_threads));
}

void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t, int64_t)>& fn) {
  NST_CHECK(grain >= 1, "parallel_for: grain must be at least 1");
  const int64_t chunks = chunk_count(begin, end, grain);
  if (chunks == 0) return;
  ensure_initialised();
  if (chunks == 1 || g_threads == 1) {
    for (int64_t k = 0; k < chunks; ++k) fn(begin + k * grain, std::min(end, begin + (k + 1) * grain));
    return;
  }
#ifdef __SANITIZE_THREAD__
  // ThreadSanitizer cannot see the synchronisation inside the uninstrumented
  // libtbb and would report every hand-over as a race, so TSan builds run the
  // same chunks on plain threads (joined: every chunk happens before the return).
  std::atomic<int64_t> next{0};
  auto work = [&] {
    for (int64_t k = next++; k < chunks; k = next++)
      fn(begin + k * grain, std::min(end, begin + (k + 1) * grain));
  };
  std::vector<std::thread> helpers;
  for (int t = 1; t < std::min<int64_t>(g_threads, chunks); ++t) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
#else
  // One task per chunk (simple_partitioner with grain 1 over chunk indices):
  // the chunk boundaries are fixed whatever the scheduler does.
  tbb::parallel_for(
      tbb::blocked_range<int64_t>(0, chunks, 1),
      [&](const tbb::blocked_range<int64_t>& r) {
        for (int64_t k = r.begin(); k < r.end(); ++k)
          fn(begin + k * grain, std::min(end, begin + (k + 1) * grain));
      },
      tbb::simple_partitioner());
#endif
}

}  // namespace nst::kernels
