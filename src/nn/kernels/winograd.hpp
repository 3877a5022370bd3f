// 3x3 stride-1 convolution by Winograd's minimal filtering, F(4x4, 3x3)
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
//
// The output is cut into 4x4 tiles. For output channel o, input channel c and
// one tile, with d the 6x6 input patch under the tile (zero outside the image)
// and g the 3x3 kernel weight[o][c]:
//
//   Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A          (⊙: element-wise product)
//
// is the 4x4 block of the cross-correlation of d with g. Summed over c, the
// element-wise product becomes, for each of the 36 positions ξ of the 6x6
// transformed tile, a matrix product over channels:
//
//   U[ξ][o][c] = (G g[o][c] Gᵀ)[ξ]          weight transform  (every call)
//   V[ξ][c][t] = (Bᵀ d[c][t] B)[ξ]          input transform   (per tile t)
//   M[ξ][o][t] = Σ_c U[ξ][o][c] V[ξ][c][t]  36 GEMMs
//   out[o][tile t] = Aᵀ M[·][o][t] A        output transform
//
// With interpolation points 0, ±1, ±2 and ∞ (winograd_kernel.hpp has the
// matrices) this takes 36 multiplications per 16 outputs and input channel
// instead of 144: 4x fewer, for a small loss of precision (relative error
// about 1e-6 in float; the tests bound it against the double reference).
// winograd_reference.hpp has the same algorithm in plain loops, each transform
// a product of the matrices, which the tests hold these kernels to.
//
// Schedules (winograd.cpp picks one from the tile count and V's size):
//   - many tiles: tasks of whole blocks of tiles (input transform, 36 GEMMs,
//     output transform), V and M of a block in the task's own core's cache;
//   - few tiles, V of all tiles at most 8 MiB: all tiles are one block, and each
//     task transforms one panel of output channels' weights into a small buffer
//     right before that panel's 36 GEMMs (no layer-sized U in memory);
//   - otherwise a block of tiles at a time, the three steps as parallel loops
//     over channels, (ξ, o-panel) pairs and output channels.
// Each result element is computed by one task, in one fixed order, whatever the
// schedule and the thread count: the bits do not depend on either.
//
// The input gradient of a 3x3 stride-1 convolution is itself one (weights
// transposed and flipped, padding 2 - pad), so the backward pass runs the same
// code.
#pragma once

#include "nn/kernels/conv_gemm.hpp"

namespace nst::kernels {

// True when the Winograd path is enabled and worthwhile for this convolution
// (and so for its input gradient): a 3x3 kernel, stride 1, and at least 16
// input and output channels (below that the GEMMs are too thin for the
// transforms to pay).
bool winograd_applies(const ConvGeometry& g);

// Turns the Winograd path on or off for everything that follows (default: on,
// unless the environment variable NST_CONV=gemm). Tests and benchmarks compare
// the two.
void set_winograd_enabled(bool on);
bool winograd_enabled();

// out[N][OC][OH][OW] = conv(inp, weight) + bias, then max(., 0) when relu; with
// accumulate, out += conv(inp, weight) (no bias, no relu). Needs
// winograd_applies(g).
void winograd_forward(float* out, const float* inp, const float* weight, const float* bias,
                      bool relu, const ConvGeometry& g, bool accumulate = false);
// dinp[N][C][H][W] += the gradient of the forward through the input (= when
// not accumulating: dinp is not read). Needs winograd_applies(g).
void winograd_backward_input(float* dinp, const float* dout, const float* weight,
                             const ConvGeometry& g, bool accumulate = true);

}  // namespace nst::kernels
