// The style selection of conditional instance normalisation (Dumoulin, Shlens
// & Kudlur 2017, "A learned representation for artistic style"): a network for
// S styles keeps, for every norm layer, a table of S rows of C scales (and one
// of shifts); each sample's row is a weighted mix of the table's rows
//
//   out[n][c] = sum_s weights[n][s] * table[s][c]
//
//   table: [S, C] (or [C]: one style)   weights: [N, S] (one-hot picks a style;
//   any mix blends)   out: [N, C]
//
// and becomes that sample's scale (or shift) in instance_norm. Mixing the
// parameters, not the pictures, is what makes the blend of two styles one pass.
#pragma once

#include <cstdint>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

void style_mix_forward(Tensor& out, const Tensor& table, const Tensor& weights);
// from `out = weights * table` (a matrix product):
//   dtable[s][c] += sum_n weights[n][s] * dout[n][c]
//   dweights[n][s] += sum_c dout[n][c] * table[s][c]
// Either may be undefined (skipped).
void style_mix_backward(Tensor& dtable, Tensor& dweights, const Tensor& dout, const Tensor& table,
                        const Tensor& weights);

// Reference: plain loops, any scalar type.
template <class T>
void style_mix_reference_forward(T* out, const T* table, const T* weights, int64_t N, int64_t S,
                                 int64_t C) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      T acc = 0;
      for (int64_t s = 0; s < S; ++s) acc += weights[n * S + s] * table[s * C + c];
      out[n * C + c] = acc;
    }
}
template <class T>
void style_mix_reference_backward(T* dtable, T* dweights, const T* dout, const T* table,
                                  const T* weights, int64_t N, int64_t S, int64_t C) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t c = 0; c < C; ++c) {
        if (dtable) dtable[s * C + c] += weights[n * S + s] * dout[n * C + c];
        if (dweights) dweights[n * S + s] += dout[n * C + c] * table[s * C + c];
      }
}

Var style_mix(Tape& tape, const Var& table, const Var& weights);

}  // namespace nst
