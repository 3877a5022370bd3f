#include "nn/kernels/conv_gemm.hpp"

#include <algorithm>

#include "nn/kernels/gemm.hpp"
#include "nn/kernels/parallel.hpp"
#include "tensor/check.hpp"
#include "tensor/tensor.hpp"

namespace nst::kernels {

namespace {

// Work below this many floats is not worth a task of its own.
constexpr int64_t kMinFloatsPerTask = 16384;

// Smallest o >= 0 with o*s + off >= bound.
int64_t first_reaching(int64_t bound, int64_t off, int64_t s) {
  const int64_t need = bound - off;
  return need <= 0 ? 0 : (need + s - 1) / s;
}

// Walks the output positions [p0, p0 + count) of col row (kh, kw) one output row
// at a time: fn(q, ih, ow0, ow1, lo, hi), where q is the column of ow0 in the
// tile, ih the input row, and [lo, hi) within [ow0, ow1) the columns whose input
// pixel lies inside the image (empty when ih is outside).
template <class F>
void walk_tile_row(const ConvGeometry& g, int64_t p0, int64_t count, int64_t kh, int64_t kw,
                   F&& fn) {
  const int64_t off_w = kw - g.pad_left;  // iw = ow*stride_w + off_w
  const int64_t lo_w = first_reaching(0, off_w, g.stride_w);
  const int64_t hi_w = first_reaching(g.W, off_w, g.stride_w);
  int64_t p = p0;
  const int64_t end = p0 + count;
  while (p < end) {
    const int64_t oh = p / g.OW, ow0 = p % g.OW;
    const int64_t ow1 = std::min(g.OW, ow0 + (end - p));
    const int64_t ih = oh * g.stride_h - g.pad_top + kh;
    int64_t lo = std::clamp(lo_w, ow0, ow1), hi = std::clamp(hi_w, lo, ow1);
    if (ih < 0 || ih >= g.H) lo = hi = ow0;
    fn(p - p0, ih, ow0, ow1, lo, hi);
    p += ow1 - ow0;
  }
}

// Decodes col row r into (c, kh, kw).
struct ColRow {
  int64_t c, kh, kw;
};
ColRow col_row(const ConvGeometry& g, int64_t r) {
  return {r / (g.KH * g.KW), (r / g.KW) % g.KH, r % g.KW};
}

}  // namespace

int64_t col_tile_positions(const ConvGeometry& g) {
  const int64_t P = g.positions();
  int64_t tile = std::max<int64_t>(16, kColTileFloats / std::max<int64_t>(1, g.col_rows()));
  tile -= tile % 16;
  return std::min(tile, P);
}

void im2col_tile(float* col, const float* inp, const ConvGeometry& g, int64_t p0, int64_t count) {
  const int64_t grain = std::max<int64_t>(1, kMinFloatsPerTask / count);
  parallel_for(0, g.col_rows(), grain, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const ColRow k = col_row(g, r);
      const float* plane = inp + k.c * g.H * g.W;
      float* dst = col + r * count;
      const int64_t off_w = k.kw - g.pad_left;
      walk_tile_row(g, p0, count, k.kh, k.kw,
                    [&](int64_t q, int64_t ih, int64_t ow0, int64_t ow1, int64_t lo, int64_t hi) {
                      // Column ow of this output row is dst[q + ow - ow0].
                      float* d = dst + q;
                      const int64_t row = ih * g.W + off_w;  // + ow*sw = input index
                      for (int64_t ow = ow0; ow < lo; ++ow) d[ow - ow0] = 0.0f;
                      if (g.stride_w == 1 && hi > lo)  // contiguous: a plain copy
                        std::copy(plane + row + lo, plane + row + hi, d + (lo - ow0));
                      else if (g.stride_w != 1)
                        for (int64_t ow = lo; ow < hi; ++ow)
                          d[ow - ow0] = plane[row + ow * g.stride_w];
                      for (int64_t ow = hi; ow < ow1; ++ow) d[ow - ow0] = 0.0f;
                    });
    }
  });
}

// Adjoint of im2col_tile: each channel's rows are added in (kh, kw, position)
// order by the one task that owns that channel.
void col2im_tile(float* dinp, const float* col, const ConvGeometry& g, int64_t p0, int64_t count) {
  const int64_t per_channel = g.KH * g.KW * count;
  const int64_t grain = std::max<int64_t>(1, kMinFloatsPerTask / per_channel);
  parallel_for(0, g.C, grain, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      float* plane = dinp + c * g.H * g.W;
      for (int64_t kh = 0; kh < g.KH; ++kh)
        for (int64_t kw = 0; kw < g.KW; ++kw) {
          const float* src = col + ((c * g.KH + kh) * g.KW + kw) * count;
          const int64_t off_w = kw - g.pad_left;
          walk_tile_row(g, p0, count, kh, kw,
                        [&](int64_t q, int64_t ih, int64_t ow0, int64_t, int64_t lo, int64_t hi) {
                          const float* s = src + q;
                          const int64_t row = ih * g.W + off_w;
                          if (g.stride_w == 1)  // contiguous: vectorisable
                            for (int64_t ow = lo; ow < hi; ++ow) plane[row + ow] += s[ow - ow0];
                          else
                            for (int64_t ow = lo; ow < hi; ++ow)
                              plane[row + ow * g.stride_w] += s[ow - ow0];
                        });
        }
    }
  });
}

void conv_gemm_forward(float* out, const float* inp, const float* weight, const float* bias,
                       bool relu, const ConvGeometry& g, bool accumulate) {
  NST_CHECK(!accumulate || (!bias && !relu), "conv: an accumulating forward takes no epilogue");
  const float beta = accumulate ? 1.0f : 0.0f;
  const int64_t K = g.col_rows(), P = g.positions();
  const int64_t tile = col_tile_positions(g);
  Tensor scratch = g.is_pointwise() ? Tensor() : Tensor::empty({K * tile});  // pooled
  for (int64_t n = 0; n < g.N; ++n) {
    const float* inp_n = inp + n * g.C * g.H * g.W;
    float* out_n = out + n * g.OC * P;
    for (int64_t p0 = 0; p0 < P; p0 += tile) {
      const int64_t count = std::min(tile, P - p0);
      // out[:, p0:p0+count] = weight[OC][K] * col[K][count], then bias and ReLU
      // on each register tile while it is in cache.
      const GemmEpilogue epilogue{bias, relu};
      if (g.is_pointwise()) {
        gemm(false, false, g.OC, count, K, 1.0f, weight, K, inp_n + p0, P, beta, out_n + p0, P,
             epilogue);
      } else {
        im2col_tile(scratch.data(), inp_n, g, p0, count);
        gemm(false, false, g.OC, count, K, 1.0f, weight, K, scratch.data(), count, beta, out_n + p0,
             P, epilogue);
      }
    }
  }
}

// Differentiates  out[:, tile] = weight * col[tile]  through col:
//   dcol = weightᵀ[K][OC] * dout[OC][count], then dinp += col2im(dcol).
void conv_gemm_backward_input(float* dinp, const float* dout, const float* weight,
                              const ConvGeometry& g) {
  const int64_t K = g.col_rows(), P = g.positions();
  const int64_t tile = col_tile_positions(g);
  Tensor scratch = g.is_pointwise() ? Tensor() : Tensor::empty({K * tile});
  for (int64_t n = 0; n < g.N; ++n) {
    float* dinp_n = dinp + n * g.C * g.H * g.W;
    const float* dout_n = dout + n * g.OC * P;
    for (int64_t p0 = 0; p0 < P; p0 += tile) {
      const int64_t count = std::min(tile, P - p0);
      if (g.is_pointwise()) {
        gemm(true, false, K, count, g.OC, 1.0f, weight, K, dout_n + p0, P, 1.0f, dinp_n + p0, P);
      } else {
        gemm(true, false, K, count, g.OC, 1.0f, weight, K, dout_n + p0, P, 0.0f, scratch.data(),
             count);
        col2im_tile(dinp_n, scratch.data(), g, p0, count);
      }
    }
  }
}

// Differentiates  out[:, tile] = weight * col[tile] + bias:
//   dweight += dout[OC][count] * colᵀ[count][K], summed over (image, tile) in order;
//   dbias[o] += sum over images and positions of dout[o].
void conv_gemm_backward_weight(float* dweight, float* dbias, const float* dout, const float* inp,
                               const ConvGeometry& g) {
  const int64_t K = g.col_rows(), P = g.positions();
  const int64_t tile = col_tile_positions(g);
  Tensor scratch = g.is_pointwise() ? Tensor() : Tensor::empty({K * tile});
  for (int64_t n = 0; n < g.N; ++n) {
    const float* inp_n = inp + n * g.C * g.H * g.W;
    const float* dout_n = dout + n * g.OC * P;
    for (int64_t p0 = 0; p0 < P; p0 += tile) {
      const int64_t count = std::min(tile, P - p0);
      const float* col = inp_n + p0;  // pointwise: col is the input itself
      int64_t ldcol = P;
      if (!g.is_pointwise()) {
        im2col_tile(scratch.data(), inp_n, g, p0, count);
        col = scratch.data();
        ldcol = count;
      }
      gemm(false, true, g.OC, K, count, 1.0f, dout_n + p0, P, col, ldcol, 1.0f, dweight, K);
    }
  }
  if (dbias) conv_gemm_backward_bias(dbias, dout, g.N, g.OC, P);
}

// Differentiates  out[n][o][p] += bias[o]:  one task per channel sums over (n, p)
// in order, in double (a 512x512 map is 262144 terms).
void conv_gemm_backward_bias(float* dbias, const float* dout, int64_t N, int64_t OC, int64_t P) {
  const int64_t grain = std::max<int64_t>(1, kMinFloatsPerTask / std::max<int64_t>(1, N * P));
  parallel_for(0, OC, grain, [&](int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; ++o) {
      double sum = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        const float* row = dout + (n * OC + o) * P;
        for (int64_t i = 0; i < P; ++i) sum += row[i];
      }
      dbias[o] += static_cast<float>(sum);
    }
  });
}

}  // namespace nst::kernels
