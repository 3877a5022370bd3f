#include "nn/kernels/winograd.hpp"

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "nn/kernels/parallel.hpp"
#include "nn/kernels/winograd_kernel.hpp"
#include "tensor/check.hpp"
#include "tensor/tensor.hpp"

namespace nst::kernels {

namespace {

// -1: not decided yet (read NST_CONV on first use).
std::atomic<int> g_winograd{-1};

// V and M of one block are each about this many floats (2 MB): they stay in
// L2/L3 between the three steps.
constexpr int64_t kBlockFloats = int64_t{1} << 19;
// The few-tiles schedule keeps V of all tiles in cache: at most this many floats (8 MiB).
constexpr int64_t kFewTilesFloats = int64_t{1} << 21;
// Work below this many flops is not worth a task of its own.
constexpr int64_t kMinFlopsPerTask = int64_t{1} << 21;

// Scratch of one task's thread, kept from call to call and grown to the
// largest request (a panel's U, a block's V and M: under a megabyte each).
class GrowingBuffer {
 public:
  float* get(int64_t floats) {
    if (floats > capacity_) {
      data_.reset();
      capacity_ = 0;
      try {
        data_.reset(static_cast<float*>(
            ::operator new[](size_t(floats) * sizeof(float), std::align_val_t{64})));
      } catch (const std::bad_alloc&) {
        fail("winograd: out of memory allocating ", floats * int64_t(sizeof(float)) >> 20,
             " MiB of scratch");
      }
      capacity_ = floats;
    }
    return data_.get();
  }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t{64}); }
  };
  std::unique_ptr<float, Free> data_;
  int64_t capacity_ = 0;
};

// The convolution of Winograd's method on N images of inp [N][C][H][W] into
// out [N][OC][OH][OW] (3x3 kernel, stride 1, the given top / left padding).
struct Conv3x3 {
  int64_t N, C, H, W, OC, OH, OW, pad_top, pad_left;
};

void run(float* out, const float* inp, const float* weight, bool transpose_flip,
         const float* bias, bool relu, bool accumulate, const Conv3x3& s) {
  // The kernels gather with 32-bit indices into one weight tensor and one plane.
  NST_CHECK(s.OC * s.C * 9 <= INT32_MAX && s.H * s.W <= INT32_MAX,
            "winograd: weights of ", s.OC, "x", s.C, "x3x3 or a plane of ", s.H, "x", s.W,
            " is beyond 2^31 elements");
  const int64_t tiles_h = (s.OH + 3) / 4, tiles_w = (s.OW + 3) / 4, tiles = tiles_h * tiles_w;
  const WinogradPlan plan = dispatch(WinogradPlanKernel{}, tiles);
  const int64_t mr = plan.mr, nr = plan.nr;
  const int64_t row_panels = (s.OC + mr - 1) / mr;
  // U, V and M of the whole call come from idle pool buffers (Tensor::scratch):
  // between evaluations, and during most of one, the largest activations' and
  // gradients' buffers wait idle, and 36 MiB of U for a 512-channel layer need
  // no memory of their own.
  Tensor u_buffer, v_buffer, m_buffer;

  WinogradBlock proto;
  proto.C = s.C, proto.H = s.H, proto.W = s.W, proto.OC = s.OC, proto.OH = s.OH, proto.OW = s.OW;
  proto.pad_top = s.pad_top, proto.pad_left = s.pad_left;
  proto.tiles_w = tiles_w, proto.tiles = tiles, proto.plan = plan;
  proto.bias = bias, proto.relu = relu, proto.accumulate = accumulate;

  // Few tiles (small images, deep layers): all of an image's tiles are one
  // block, and each task transforms the weights of one panel of output channels
  // into its own small buffer (L2-sized) right before its 36 GEMMs, instead of
  // writing the whole layer's U (36 MiB for 512 x 512 channels) to memory and
  // reading it back. Every panel's GEMMs read all of V, so this pays while V
  // stays in cache (at most 8 MiB), and is used only where V and M for all
  // tiles take no more memory than U would (plus 8 MiB). Same products in the
  // same order: the same bits.
  const int64_t small_blocks = (tiles + nr - 1) / nr;
  const int64_t block = plan.block, blocks = (tiles + block - 1) / block;
  const bool whole_blocks = s.N * blocks >= 8 * int64_t{num_threads()};
  const int64_t Tb_all = small_blocks * nr;
  const int64_t u_stride = winograd_plane_stride(row_panels * mr * s.C);
  if (!whole_blocks && kWinogradPoints * Tb_all * s.C <= kFewTilesFloats &&
      kWinogradPoints * Tb_all * (s.C + s.OC) <= kWinogradPoints * u_stride + kFewTilesFloats) {
    WinogradBlock b = proto;
    b.Tb = Tb_all;
    b.t0 = 0;
    b.count = tiles;
    b.v_stride = winograd_plane_stride(Tb_all * s.C);
    b.m_stride = winograd_plane_stride(s.OC * Tb_all);
    v_buffer = Tensor::scratch(kWinogradPoints * b.v_stride);
    m_buffer = Tensor::scratch(kWinogradPoints * b.m_stride);
    b.V = v_buffer.data();
    b.M = m_buffer.data();
    const int64_t input_grain = std::max<int64_t>(1, kMinFlopsPerTask / (400 * Tb_all));
    const int64_t output_grain = std::max<int64_t>(1, kMinFlopsPerTask / (200 * Tb_all));
    for (int64_t n = 0; n < s.N; ++n) {
      b.inp = inp + n * s.C * s.H * s.W;
      b.out = out + n * s.OC * s.OH * s.OW;
      parallel_for(0, s.C, input_grain,
                   [&](int64_t c0, int64_t c1) { dispatch(WinogradInputKernel{}, b, c0, c1); });
      parallel_for(0, row_panels, 1, [&](int64_t p0, int64_t p1) {
        thread_local GrowingBuffer u_panel;
        const int64_t panel_stride = winograd_plane_stride(mr * s.C);
        for (int64_t p = p0; p < p1; ++p) {
          WinogradWeights w{weight, std::min(mr, s.OC - p * mr), s.C, mr, transpose_flip,
                            u_panel.get(kWinogradPoints * panel_stride), panel_stride};
          w.a0 = p * mr, w.A_total = s.OC;
          dispatch(WinogradWeightKernel{}, w, int64_t{0}, int64_t{1});
          WinogradBlock bp = b;  // this panel's rows of M, from its own U
          bp.OC = w.A;
          bp.U = w.U;
          bp.u_stride = panel_stride;
          bp.M = b.M + p * mr * Tb_all;
          dispatch(WinogradGemmKernel{}, bp, int64_t{0}, int64_t{kWinogradPoints});
        }
      });
      parallel_for(0, s.OC, output_grain,
                   [&](int64_t o0, int64_t o1) { dispatch(WinogradOutputKernel{}, b, o0, o1); });
    }
    return;
  }

  u_buffer = Tensor::scratch(kWinogradPoints * u_stride);
  float* U = u_buffer.data();
  WinogradWeights w{weight, s.OC, s.C, mr, transpose_flip, U, u_stride};
  w.A_total = s.OC;
  const int64_t weight_grain = std::max<int64_t>(1, kMinFlopsPerTask / (120 * mr * s.C));
  parallel_for(0, row_panels, weight_grain,
               [&](int64_t p0, int64_t p1) { dispatch(WinogradWeightKernel{}, w, p0, p1); });

  proto.U = U;
  proto.u_stride = u_stride;
  const int64_t items = kWinogradPoints * row_panels;

  // Many blocks (large images): each task does whole blocks of one panel of
  // tiles, its V and M in its own core's cache, with no barrier between the
  // three steps. Few blocks: one block at a time, each step a parallel loop.
  // Each tile's arithmetic is the same either way, so are the bits.
  if (whole_blocks) {
    const int64_t Tb_max = std::min(block, Tb_all);
    parallel_for(0, s.N * blocks, 1, [&](int64_t j0, int64_t j1) {
      thread_local GrowingBuffer v_local, m_local;
      WinogradBlock b = proto;
      b.v_stride = winograd_plane_stride(Tb_max * s.C);
      b.m_stride = winograd_plane_stride(s.OC * Tb_max);
      b.V = v_local.get(kWinogradPoints * b.v_stride);
      b.M = m_local.get(kWinogradPoints * b.m_stride);
      for (int64_t j = j0; j < j1; ++j) {
        const int64_t n = j / blocks;
        b.inp = inp + n * s.C * s.H * s.W;
        b.out = out + n * s.OC * s.OH * s.OW;
        b.t0 = (j % blocks) * block;
        b.count = std::min(block, tiles - b.t0);
        b.Tb = (b.count + nr - 1) / nr * nr;
        dispatch(WinogradInputKernel{}, b, int64_t{0}, s.C);
        dispatch(WinogradGemmKernel{}, b, int64_t{0}, items);
        dispatch(WinogradOutputKernel{}, b, int64_t{0}, s.OC);
      }
    });
    return;
  }

  const int64_t per_panel = kWinogradPoints * std::max(s.C, s.OC) * nr;
  const int64_t Tb = std::min(
      Tb_all, std::max(block, nr * std::clamp<int64_t>(kBlockFloats / per_panel, 1, small_blocks)));
  WinogradBlock b = proto;
  b.Tb = Tb;
  b.v_stride = winograd_plane_stride(Tb * s.C);
  b.m_stride = winograd_plane_stride(s.OC * Tb);
  v_buffer = Tensor::scratch(kWinogradPoints * b.v_stride);
  m_buffer = Tensor::scratch(kWinogradPoints * b.m_stride);
  b.V = v_buffer.data();
  b.M = m_buffer.data();
  // Grains: a task of each step does at least kMinFlopsPerTask of work.
  const int64_t item_flops = 2 * mr * s.C * Tb;
  const int64_t gemm_grain = std::max<int64_t>(1, kMinFlopsPerTask / item_flops);
  const int64_t input_grain = std::max<int64_t>(1, kMinFlopsPerTask / (400 * Tb));
  const int64_t output_grain = std::max<int64_t>(1, kMinFlopsPerTask / (200 * Tb));
  for (int64_t n = 0; n < s.N; ++n) {
    b.inp = inp + n * s.C * s.H * s.W;
    b.out = out + n * s.OC * s.OH * s.OW;
    for (int64_t t0 = 0; t0 < tiles; t0 += Tb) {
      b.t0 = t0;
      b.count = std::min(Tb, tiles - t0);
      parallel_for(0, s.C, input_grain,
                   [&](int64_t c0, int64_t c1) { dispatch(WinogradInputKernel{}, b, c0, c1); });
      parallel_for(0, items, gemm_grain,
                   [&](int64_t i0, int64_t i1) { dispatch(WinogradGemmKernel{}, b, i0, i1); });
      parallel_for(0, s.OC, output_grain,
                   [&](int64_t o0, int64_t o1) { dispatch(WinogradOutputKernel{}, b, o0, o1); });
    }
  }
}

}  // namespace

void set_winograd_enabled(bool on) { g_winograd.store(on ? 1 : 0); }

bool winograd_enabled() {
  int v = g_winograd.load();
  if (v < 0) {
    const char* env = std::getenv("NST_CONV");
    v = env && std::string(env) == "gemm" ? 0 : 1;
    g_winograd.store(v);
  }
  return v == 1;
}

bool winograd_applies(const ConvGeometry& g) {
  return winograd_enabled() && g.KH == 3 && g.KW == 3 && g.stride_h == 1 && g.stride_w == 1 &&
         g.C >= 16 && g.OC >= 16;
}

void winograd_forward(float* out, const float* inp, const float* weight, const float* bias,
                      bool relu, const ConvGeometry& g, bool accumulate) {
  NST_CHECK(g.KH == 3 && g.KW == 3 && g.stride_h == 1 && g.stride_w == 1,
            "winograd: only 3x3 stride-1 convolutions, got ", g.KH, "x", g.KW, " stride ",
            g.stride_h, "x", g.stride_w);
  NST_CHECK(!accumulate || (!bias && !relu), "winograd: an accumulating forward takes no epilogue");
  run(out, inp, weight, false, bias, relu, accumulate,
      Conv3x3{g.N, g.C, g.H, g.W, g.OC, g.OH, g.OW, g.pad_top, g.pad_left});
}

// dinp[c][y][x] = Σ_o Σ_(i,j) dout[o][y + pad_top - i][x + pad_left - j] w[o][c][i][j]
// is a 3x3 cross-correlation of dout with w[o][c] turned by 180 degrees, padded
// by 2 - pad_top on top and 2 - pad_left on the left, from OC to C channels.
void winograd_backward_input(float* dinp, const float* dout, const float* weight,
                             const ConvGeometry& g, bool accumulate) {
  NST_CHECK(g.KH == 3 && g.KW == 3 && g.stride_h == 1 && g.stride_w == 1,
            "winograd: only 3x3 stride-1 convolutions, got ", g.KH, "x", g.KW, " stride ",
            g.stride_h, "x", g.stride_w);
  run(dinp, dout, weight, true, nullptr, false, accumulate,
      Conv3x3{g.N, g.OC, g.OH, g.OW, g.C, g.H, g.W, 2 - g.pad_top, 2 - g.pad_left});
}

}  // namespace nst::kernels
