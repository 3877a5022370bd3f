// Per-channel affine map with a channel permutation: how an RGB 0..255 picture
// becomes a network's input (channel order, range, mean, std), on the tape, so
// a gradient can flow from the VGG-19 back to a picture made by another network
// (the perceptual loss of feed-forward training).
//
//   out[n][c][h][w] = scale[c] * x[n][from[c]][h][w] + shift[c]
//
//   x, out: [N, C, H, W]   scale, shift, from: C values each (from: a permutation)
#pragma once
#include <cstdint>
#include <vector>

#include "tensor/autograd.hpp"
#include "tensor/tensor.hpp"

namespace nst {

struct ChannelAffine {
  std::vector<float> scale, shift;
  std::vector<int64_t> from;  // out channel c reads x channel from[c]
};

void channel_affine_forward(Tensor& out, const Tensor& x, const ChannelAffine& a);
// from `out[c] = scale[c] * x[from[c]] + shift[c]`:  dx[from[c]] += scale[c] * dout[c]
void channel_affine_backward(Tensor& dx, const Tensor& dout, const ChannelAffine& a);

// References: plain loops, any scalar type; M = H * W.
template <class T>
void channel_affine_reference_forward(T* out, const T* x, const ChannelAffine& a, int64_t N,
                                      int64_t C, int64_t M) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < M; ++i)
        out[(n * C + c) * M + i] =
            T(a.scale[size_t(c)]) * x[(n * C + a.from[size_t(c)]) * M + i] + T(a.shift[size_t(c)]);
}
template <class T>
void channel_affine_reference_backward(T* dx, const T* dout, const ChannelAffine& a, int64_t N,
                                       int64_t C, int64_t M) {
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < M; ++i)
        dx[(n * C + a.from[size_t(c)]) * M + i] += T(a.scale[size_t(c)]) * dout[(n * C + c) * M + i];
}

Var channel_affine(Tape& tape, const Var& x, const ChannelAffine& a);

}  // namespace nst
