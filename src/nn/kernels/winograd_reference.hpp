// Winograd F(4x4, 3x3) in plain loops: the reference the fast kernels
// (winograd.hpp) are tested against, to be read beside Lavin & Gray, "Fast
// Algorithms for Convolutional Neural Networks" (2016), section 4.
//
// The output is cut into 4x4 tiles. For output channel o and one tile, with
// d[c] the 6x6 input patch of channel c under the tile (zero outside the image,
// its corner 4 tile-rows - pad_top, 4 tile-columns - pad_left) and g[o][c] the
// 3x3 kernel:
//
//   U[o][c] = G g[o][c] Gᵀ          6x3 · 3x3 · 3x6   weight transform
//   V[c]    = Bᵀ d[c] B             6x6 · 6x6 · 6x6   input transform
//   M[o]    = Σ_c U[o][c] ⊙ V[c]    element-wise products, summed over c
//   Y[o]    = Aᵀ M[o] A             4x6 · 6x6 · 6x4   output transform
//
// and Y[o] is the tile of out[o] (its rows and columns past OH, OW dropped).
// Bᵀ, G and Aᵀ are those of the interpolation points 0, 1, -1, 2, -2 and ∞,
// the fast kernels' own (winograd_kernel.hpp spells them out). The fast kernels
// factor each product into a few adds (winograd_transforms.hpp) and sum over c
// in a GEMM, so the two agree to rounding, not to the bit.
//
// Shapes: inp [N][C][H][W], weight [OC][C][3][3], bias [OC] (may be null),
// out [N][OC][OH][OW]; stride 1, padding g.pad_top and g.pad_left (any, as
// for the fast kernels), OH and OW as given in g.
#pragma once

#include "nn/kernels/conv_gemm.hpp"

namespace nst::kernels {

// out = conv(inp, weight) + bias, tile by tile. T: float or double.
template <class T>
void winograd_reference_forward(T* out, const T* inp, const T* weight, const T* bias,
                                const ConvGeometry& g);

// Differentiates the forward through inp (accumulates):
//   dinp[n][c][y][x] += Σ_o Σ_(i,j) dout[n][o][y + pad_top - i][x + pad_left - j]
//                                     * weight[o][c][i][j]
// which is itself a 3x3 convolution of dout [N][OC][OH][OW], from OC to C
// channels, with the kernels weight[o][c] turned by 180 degrees and padding
// 2 - pad_top, 2 - pad_left: the same tiles, as the fast kernels do it.
template <class T>
void winograd_reference_backward_input(T* dinp, const T* dout, const T* weight,
                                       const ConvGeometry& g);

}  // namespace nst::kernels
