// Threading for the kernels (no TBB in this header).
//
// Work is split into fixed chunks that depend only on the range and the grain,
// never on the number of threads, and every reduction adds its per-chunk
// partial results in chunk order. So any thread count gives the same bits.
#pragma once

#include <cstdint>
#include <functional>

namespace nst::kernels {

// Threads the kernels may use: NST_THREADS if set, else every core.
int num_threads();
// Sets the thread count for everything that follows (0 = every core).
void set_num_threads(int n);

// Calls fn(lo, hi) for the chunks [begin + k*grain, min(begin + (k+1)*grain, end)),
// possibly in parallel. fn must only write to places its chunk owns.
void parallel_for(int64_t begin, int64_t end, int64_t grain,
                  const std::function<void(int64_t lo, int64_t hi)>& fn);

// Number of chunks parallel_for makes of [begin, end) with this grain.
inline int64_t chunk_count(int64_t begin, int64_t end, int64_t grain) {
  return end > begin ? (end - begin + grain - 1) / grain : 0;
}

}  // namespace nst::kernels
