// Winograd F(4x4, 3x3) kernels (see winograd.hpp for the algorithm): the three
// per-block steps, one SIMD functor each, and the layouts they share.
//
// Transform matrices (points 0, 1, -1, 2, -2, ∞):
//
//        | 4  0 -5  0  1  0 |        | 1/4    0     0   |
//        | 0 -4 -4  1  1  0 |        | -1/6 -1/6  -1/6  |        | 1  1  1  1  1  0 |
//   Bᵀ = | 0  4 -4 -1  1  0 |    G = | -1/6  1/6  -1/6  |   Aᵀ = | 0  1 -1  2 -2  0 |
//        | 0 -2 -1  2  1  0 |        | 1/24  1/12  1/6  |        | 0  1  1  4  4  0 |
//        | 0  2 -1 -2  1  0 |        | 1/24 -1/12  1/6  |        | 0  1 -1  8 -8  1 |
//        | 0  4  0 -5  0  1 |        | 0      0     1   |
//
// Layouts, for one block of tiles (Tb of them, a multiple of nr; tile t of the
// block is tile t0 + t of the image, row-major over the tile grid):
//   U  [36][OC/mr panels][C][mr]  transformed weights, as GEMM A panels
//   V  [36][Tb/nr panels][C][nr]  transformed input, as GEMM B panels
//   M  [36][OC][Tb]               the GEMM results
// Panels past OC (rows) or past the image's last tile (columns) are zero. The
// 36 planes (one per point ξ) of each are winograd_plane_stride apart.
#pragma once

#include <cstdint>

#include "nn/kernels/dispatch.hpp"

namespace nst::kernels {

inline constexpr int kWinogradPoints = 36;  // transformed tile: 6 x 6

// Floats from one point's plane of U, V or M to the next: the plane rounded up
// to an odd number of 64-byte lines. The transforms read or write all 36 planes
// in turn, at the same offset in each; with planes a multiple of 4 KiB apart
// (24 KiB of a 12 x 512 U panel, say), those 36 lines would all fall in one set
// of the L1 cache and evict each other (the stores of U took half of the weight
// transform's time: docs/performance.md). An odd line count puts them in 36
// different sets.
inline constexpr int64_t kLineFloats = 16;  // floats in a 64-byte cache line
inline constexpr int64_t winograd_plane_stride(int64_t plane_floats) {
  return ((plane_floats + kLineFloats - 1) / kLineFloats | 1) * kLineFloats;
}

// The GEMM register tile for one instruction set (nr is a multiple of its SIMD
// width), and the tiles of a whole block (a multiple of nr): every block's GEMMs
// read all of U, so a block of several panels of nr tiles reads it fewer times.
struct WinogradPlan {
  int64_t mr = 0, nr = 0, block = 0;
};

// One block of one image.
struct WinogradBlock {
  // The convolution: input [C][H][W] -> output [OC][OH][OW], 3x3, stride 1.
  int64_t C = 0, H = 0, W = 0, OC = 0, OH = 0, OW = 0, pad_top = 0, pad_left = 0;
  int64_t tiles_w = 0, tiles = 0;  // tile grid width, tiles in the image
  int64_t t0 = 0, count = 0;       // the block: tiles [t0, t0 + count)
  int64_t Tb = 0;                  // count rounded up to nr
  WinogradPlan plan;
  const float* inp = nullptr;   // this image's input
  float* out = nullptr;         // this image's output
  const float* bias = nullptr;  // [OC] or null
  bool relu = false, accumulate = false;
  const float* U = nullptr;
  float* V = nullptr;
  float* M = nullptr;
  int64_t u_stride = 0, v_stride = 0, m_stride = 0;  // from one point's plane to the next
};

// The plan for a layer of this many tiles per image.
struct WinogradPlanKernel {
  template <class Arch>
  WinogradPlan operator()(Arch, int64_t tiles) const;
  WinogradPlan operator()(ScalarArch, int64_t tiles) const;
};

// U for output-channel panels [p0, p1) of a conv with A output and C input
// channels. transpose_flip: `weight` is [C][A][3][3] (the forward conv whose
// input gradient this is) and each kernel is turned by 180 degrees; else it is
// [A][C][3][3].
// A may be some of the layer's output channels: those are a0 .. a0 + A - 1 of
// the A_total the weight holds (a0 = 0, A_total = A: the whole layer).
struct WinogradWeights {
  const float* weight = nullptr;
  int64_t A = 0, C = 0, mr = 0;
  bool transpose_flip = false;
  float* U = nullptr;
  int64_t u_stride = 0;  // from one point's plane of U to the next
  int64_t a0 = 0, A_total = 0;
};
struct WinogradWeightKernel {
  template <class Arch>
  void operator()(Arch, const WinogradWeights& w, int64_t p0, int64_t p1) const;
  void operator()(ScalarArch, const WinogradWeights& w, int64_t p0, int64_t p1) const;
};

// V for input channels [c0, c1).
struct WinogradInputKernel {
  template <class Arch>
  void operator()(Arch, const WinogradBlock& b, int64_t c0, int64_t c1) const;
  void operator()(ScalarArch, const WinogradBlock& b, int64_t c0, int64_t c1) const;
};

// M for items [i0, i1), item i being (ξ = i / panels, o-panel = i % panels).
struct WinogradGemmKernel {
  template <class Arch>
  void operator()(Arch, const WinogradBlock& b, int64_t i0, int64_t i1) const;
  void operator()(ScalarArch, const WinogradBlock& b, int64_t i0, int64_t i1) const;
};

// The block's output tiles for output channels [o0, o1).
struct WinogradOutputKernel {
  template <class Arch>
  void operator()(Arch, const WinogradBlock& b, int64_t o0, int64_t o1) const;
  void operator()(ScalarArch, const WinogradBlock& b, int64_t o0, int64_t o1) const;
};

}  // namespace nst::kernels

NST_DECLARE_SIMD_KERNEL(nst::kernels::WinogradPlanKernel, nst::kernels::WinogradPlan, int64_t)
NST_DECLARE_SIMD_KERNEL(nst::kernels::WinogradWeightKernel, void,
                        const nst::kernels::WinogradWeights&, int64_t, int64_t)
NST_DECLARE_SIMD_KERNEL(nst::kernels::WinogradInputKernel, void,
                        const nst::kernels::WinogradBlock&, int64_t, int64_t)
NST_DECLARE_SIMD_KERNEL(nst::kernels::WinogradGemmKernel, void, const nst::kernels::WinogradBlock&,
                        int64_t, int64_t)
NST_DECLARE_SIMD_KERNEL(nst::kernels::WinogradOutputKernel, void,
                        const nst::kernels::WinogradBlock&, int64_t, int64_t)
