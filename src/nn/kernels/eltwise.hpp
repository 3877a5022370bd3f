// Element-wise loops for the ops in src/nn (relu, elementwise, mse,
// instance_norm): vectorised at the active SIMD level and threaded in fixed
// chunks of kEltwiseGrain elements. No xsimd or TBB in this header.
//
// Every function works on flat arrays of n floats. An output may alias an input
// of the same index (in-place use), never a shifted one. Each element depends
// only on its own inputs, so results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace nst::kernels {

// Elements per parallel chunk (a multiple of every SIMD width).
inline constexpr int64_t kEltwiseGrain = 16384;

// out[i] = inp[i] > 0 ? inp[i] : 0
void relu(float* out, const float* inp, int64_t n);
// dinp[i] += out[i] > 0 ? dout[i] : 0
void relu_backward(float* dinp, const float* dout, const float* out, int64_t n);

// A ReLU's backward needs only where its output was positive: one bit per
// element, bit i % 64 of bits[i / 64] (a partial last word is zero-filled).
inline int64_t positive_bits_words(int64_t n) { return (n + 63) / 64; }
// bits[i / 64] bit i % 64 = x[i] > 0
void positive_bits(uint64_t* bits, const float* x, int64_t n);
// g[i] = bit i ? g[i] : 0   (in place)
void mask_by_bits(float* g, const uint64_t* bits, int64_t n);
// dinp[i] += bit i ? dout[i] : 0
void add_masked_by_bits(float* dinp, const float* dout, const uint64_t* bits, int64_t n);

// out[i] = a * x[i] + y[i]   (fused multiply-add in the SIMD paths)
void axpy(float* out, float a, const float* x, const float* y, int64_t n);

// out[i] = a * x[i] + b
void affine(float* out, const float* x, float a, float b, int64_t n);

// out[i] = ((x[i] - m_hi) - m_lo) * k + t: normalise by a mean given as a float
// pair m_hi + m_lo (x - m_hi is exact near the mean), then scale and shift;
// with relu, max(that, 0) (instance norm + ReLU in one pass over the plane).
void normalize(float* out, const float* x, float m_hi, float m_lo, float k, float t, bool relu,
               int64_t n);

// dx[i] += k * dy[i] + c * ((x[i] - m_hi) - m_lo) + b: the backward of normalize,
// with k, c, b folded from the plane's statistics by the caller (instance_norm).
void normalize_backward(float* dx, const float* dy, const float* x, float m_hi, float m_lo, float k,
                        float c, float b, int64_t n);

// out[i] = tanh(x[i]), with std::tanh at every SIMD level: it runs on a few
// channels per image, and xsimd's tanh trips a GCC 12 false -Wmaybe-uninitialized.
void tanh(float* out, const float* x, int64_t n);
// dinp[i] += dout[i] * (1 - out[i]^2)
void tanh_backward(float* dinp, const float* dout, const float* out, int64_t n);

// out[i] += k * (a[i] - b[i])
void add_scaled_difference(float* out, float k, const float* a, const float* b, int64_t n);

}  // namespace nst::kernels
