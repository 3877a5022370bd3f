// Peak memory of a stylisation, estimated before anything large is allocated,
// so a run that cannot fit is refused at once with a suggestion instead of
// being killed by the kernel an hour later.
//
// What is counted (float32, bytes), at the largest scale:
//   weights      the 16 conv layers (20.0 M values, 80 MB), plus their pages of
//                the mapped weight file (read to verify checksums)
//   activations  kept by the tape for backward: per conv layer up to the deepest
//                one needed, its output and its ReLU output; each pool output;
//                for x and for the style images (the buffer pool keeps both)
//   backward     gradients alive at once: 3 of the largest activation (4 with
//                style masks: the masked Gram's temporary)
//   optimiser    L-BFGS 2 m n + 4 n floats (lbfgs_memory_bytes), Adam 3 n
//   images       the loaded photos at full size; at the working size content,
//                styles, x, gradient, last good x, output: 8 n + 2 per style
//                (+ 2 n with --average: the running average and the picture)
//   baseline     the process itself (code, TBB, allocator slack), 36 MB, plus the
//                transformed weights of a 512-channel layer for large images
// The estimate is meant as an upper bound of the peak RSS within ~1.5x; see
// tests/test_memory_estimate.cpp for the measured numbers it was checked against.
#pragma once

#include <cstdint>
#include <string>

#include "nst/config.hpp"

namespace nst {

struct MemoryEstimate {
  int64_t weights = 0, activations = 0, backward = 0, optimizer = 0, images = 0, baseline = 0;
  int64_t total() const { return weights + activations + backward + optimizer + images + baseline; }
};

// The sizes of the loaded images: content_h x content_w (the scales keep its
// aspect), style_h x style_w the largest style; weight_file_bytes the .nstw size.
MemoryEstimate estimate_stylize_memory(const StylizeConfig& config, int64_t content_h,
                                       int64_t content_w, int64_t style_h, int64_t style_w,
                                       int64_t weight_file_bytes);

// MemAvailable from /proc/meminfo in bytes; 0 when it cannot be read.
int64_t available_memory_bytes();

// Throws nst::Error when estimate.total() > limit_bytes, with the estimate, the
// limit and what to change (smaller --size, smaller --lbfgs-history, Adam, fewer
// or shallower layers).
void check_memory_limit(const StylizeConfig& config, const MemoryEstimate& estimate,
                        int64_t limit_bytes);

// "1.23 GB"
std::string format_bytes(int64_t bytes);

}  // namespace nst
