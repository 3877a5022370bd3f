#include "nn/gram.hpp"

#include <algorithm>

#include "nn/gemm.hpp"
#include "nn/kernels/gram_kernel.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_features(const char* op, const Tensor& x) {
  NST_CHECK(x.rank() == 4, op, ": x must be [N, C, H, W], got ", x.shape().to_string());
  NST_CHECK(x.numel() > 0, op, ": x ", x.shape().to_string(), " is empty");
}

// Side of the square tiles in which gram_backward adds dG to its transpose.
constexpr int64_t kMirrorTile = 32;

}  // namespace

// G = norm * F Fᵀ (C x HW times HW x C), symmetric: only the blocks of 64 x 64
// on and above the diagonal are summed, each over `chunks` fixed spans of k
// into its own partial, and the partials are added in span order. The spans
// depend on the shape alone (enough blocks x spans to keep the threads busy
// when C is small and HW long, as for relu1_1), so the bits do not depend on
// the thread count.
void gram_forward(Tensor& out, const Tensor& x) {
  check_features("gram", x);
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(out.shape() == (Shape{N, C, C}), "gram: out ", out.shape().to_string(),
            " must be [N, C, C] = ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  const float norm = 1.0f / static_cast<float>(C * HW);
  const int64_t blocks = (C + kernels::kGramBlockRows - 1) / kernels::kGramBlockRows;
  const int64_t pairs = blocks * (blocks + 1) / 2;  // (bi, bj) with bi <= bj
  constexpr int64_t kMinTasks = 64;
  const int64_t wanted = std::clamp<int64_t>((kMinTasks + pairs - 1) / pairs, 1,
                                             std::max<int64_t>(1, HW / kernels::kGramPassColumns));
  const int64_t span = ((HW + wanted - 1) / wanted + 15) / 16 * 16;
  const int64_t chunks = (HW + span - 1) / span;
  Tensor partials = Tensor::scratch(chunks * C * C);
  for (int64_t n = 0; n < N; ++n) {
    const float* F = x.data() + n * C * HW;
    float* G = out.data() + n * C * C;
    kernels::parallel_for(0, chunks * pairs, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t q = t / pairs;
        int64_t bi = 0, p = t % pairs;  // p-th pair in row-major upper-triangle order
        while (p >= blocks - bi) p -= blocks - bi++;
        const int64_t bj = bi + p;
        const int64_t i0 = bi * kernels::kGramBlockRows, j0 = bj * kernels::kGramBlockRows;
        const int64_t i1 = std::min(C, i0 + kernels::kGramBlockRows);
        const int64_t j1 = std::min(C, j0 + kernels::kGramBlockRows);
        const int64_t k0 = q * span, k1 = std::min(HW, k0 + span);
        for (int64_t k = k0; k < k1; k += kernels::kGramPassColumns)
          kernels::dispatch(kernels::GramBlockKernel{}, F, HW, k,
                            std::min(k1, k + kernels::kGramPassColumns), i0, i1, j0, j1,
                            partials.data() + q * C * C, C, k > k0);
      }
    });
    kernels::parallel_for(0, C, std::max<int64_t>(1, 4096 / C), [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i)
        for (int64_t j = i; j < C; ++j) {
          float s = partials[i * C + j];
          for (int64_t q = 1; q < chunks; ++q) s += partials[q * C * C + i * C + j];
          G[i * C + j] = G[j * C + i] = norm * s;
        }
    });
  }
}

void gram_backward(Tensor& dx, const Tensor& dout, const Tensor& x, bool accumulate) {
  check_features("gram_backward", x);
  const int64_t N = x.n(), C = x.c(), HW = x.h() * x.w();
  NST_CHECK(dout.shape() == (Shape{N, C, C}), "gram_backward: dout ", dout.shape().to_string(),
            " must be ", Shape{N, C, C}.to_string(), " for x ", x.shape().to_string());
  NST_CHECK(dx.shape() == x.shape(), "gram_backward: dx ", dx.shape().to_string(), " must match x ",
            x.shape().to_string());
  const float norm = 1.0f / static_cast<float>(C * HW);
  Tensor sym_buffer = Tensor::scratch(C * C);
  float* sym = sym_buffer.data();
  const int64_t tiles = (C + kMirrorTile - 1) / kMirrorTile;
  for (int64_t n = 0; n < N; ++n) {
    const float* dG = dout.data() + n * C * C;
    // sym = dG + dGᵀ, by tiles (dGᵀ read while its tile is in L1).
    kernels::parallel_for(0, tiles, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t bi = b0; bi < b1; ++bi)
        for (int64_t bj = 0; bj < tiles; ++bj)
          for (int64_t i = bi * kMirrorTile; i < std::min(C, (bi + 1) * kMirrorTile); ++i)
            for (int64_t j = bj * kMirrorTile; j < std::min(C, (bj + 1) * kMirrorTile); ++j)
              sym[i * C + j] = dG[i * C + j] + dG[j * C + i];
    });
    // dF += norm * (dG + dGᵀ) F   (C x C times C x HW), beta = 1 accumulates
    gemm(false, false, C, HW, C, norm, sym, C, x.data() + n * C * HW, HW,
         accumulate ? 1.0f : 0.0f, dx.data() + n * C * HW, HW);
  }
}

Var gram(Tape& tape, const Var& x) {
  NST_CHECK(x.defined(), "gram: undefined input");
  check_features("gram", x.value());
  Tensor out = Tensor::empty(Shape{x.shape()[0], x.shape()[1], x.shape()[1]});
  gram_forward(out, x.value());
  return tape.record("gram", out, {x}, [x = x](const Tensor& dout) mutable {
    bool accumulate = false;
    Tensor& dx = x.grad_buffer(accumulate);
    gram_backward(dx, dout, x.value(), accumulate);
  });
}

}  // namespace nst
