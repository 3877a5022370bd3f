// Tiling and threads of the Gram matrix (gram.hpp); the SIMD block it runs is
// GramBlockKernel (gram_kernel.hpp).
#include "nn/kernels/gram.hpp"

#include <algorithm>

#include "nn/kernels/gemm.hpp"
#include "nn/kernels/gram_kernel.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/tensor.hpp"

namespace nst::kernels {

namespace {

// Tasks the forward wants at least, so that the threads stay busy when C is
// small and HW long (relu1_1: 64 channels, one block pair).
constexpr int64_t kMinGramTasks = 64;

// Side of the square tiles in which gram_backward adds dG to its transpose.
constexpr int64_t kMirrorTile = 32;

}  // namespace

// G = norm * F Fᵀ (C x HW times HW x C), symmetric: only the blocks of 64 x 64
// on and above the diagonal are summed, each over `chunks` fixed spans of k
// into its own partial, and the partials are added in span order. The spans
// depend on the shape alone (enough blocks x spans to keep the threads busy
// when C is small and HW long, as for relu1_1), so the bits do not depend on
// the thread count.
void gram_forward(float* G, const float* F, int64_t N, int64_t C, int64_t HW, float norm) {
  const int64_t blocks = (C + kGramBlockRows - 1) / kGramBlockRows;
  const int64_t pairs = blocks * (blocks + 1) / 2;  // (bi, bj) with bi <= bj
  const int64_t wanted = std::clamp<int64_t>((kMinGramTasks + pairs - 1) / pairs, 1,
                                             std::max<int64_t>(1, HW / kGramPassColumns));
  const int64_t span = ((HW + wanted - 1) / wanted + 15) / 16 * 16;
  const int64_t chunks = (HW + span - 1) / span;
  Tensor partials = Tensor::scratch(chunks * C * C);
  for (int64_t n = 0; n < N; ++n) {
    const float* Fn = F + n * C * HW;
    float* Gn = G + n * C * C;
    parallel_for(0, chunks * pairs, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t q = t / pairs;
        int64_t bi = 0, p = t % pairs;  // p-th pair in row-major upper-triangle order
        while (p >= blocks - bi) p -= blocks - bi++;
        const int64_t bj = bi + p;
        const int64_t i0 = bi * kGramBlockRows, j0 = bj * kGramBlockRows;
        const int64_t i1 = std::min(C, i0 + kGramBlockRows);
        const int64_t j1 = std::min(C, j0 + kGramBlockRows);
        const int64_t k0 = q * span, k1 = std::min(HW, k0 + span);
        for (int64_t k = k0; k < k1; k += kGramPassColumns)
          dispatch(GramBlockKernel{}, Fn, HW, k, std::min(k1, k + kGramPassColumns), i0, i1, j0, j1,
                   partials.data() + q * C * C, C, k > k0);
      }
    });
    parallel_for(0, C, std::max<int64_t>(1, 4096 / C), [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = i; j < C; ++j) {
          float s = partials[i * C + j];
          for (int64_t q = 1; q < chunks; ++q) s += partials[q * C * C + i * C + j];
          Gn[i * C + j] = Gn[j * C + i] = norm * s;
        }
    });
  }
}

void gram_backward(float* dF, const float* dG, const float* F, int64_t N, int64_t C, int64_t HW,
                   float norm, bool accumulate) {
  Tensor sym_buffer = Tensor::scratch(C * C);
  float* sym = sym_buffer.data();
  const int64_t tiles = (C + kMirrorTile - 1) / kMirrorTile;
  for (int64_t n = 0; n < N; ++n) {
    const float* dGn = dG + n * C * C;
    // sym = dG + dGᵀ, by tiles (dGᵀ read while its tile is in L1).
    parallel_for(0, tiles, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t bi = b0; bi < b1; ++bi)
        for (int64_t bj = 0; bj < tiles; ++bj)
          for (int64_t i = bi * kMirrorTile; i < std::min(C, (bi + 1) * kMirrorTile); ++i)
            for (int64_t j = bj * kMirrorTile; j < std::min(C, (bj + 1) * kMirrorTile); ++j)
              sym[i * C + j] = dGn[i * C + j] + dGn[j * C + i];
    });
    // dF += norm * (dG + dGᵀ) F   (C x C times C x HW), beta = 1 accumulates
    gemm(false, false, C, HW, C, norm, sym, C, F + n * C * HW, HW, accumulate ? 1.0f : 0.0f,
         dF + n * C * HW, HW);
  }
}

}  // namespace nst::kernels
