// Plain-loop (ScalarArch) bodies of the element-wise kernels, and the threaded
// entry points of eltwise.hpp: fixed chunks of kEltwiseGrain, each dispatched
// to the active SIMD level.
#include "nn/kernels/eltwise_kernel.hpp"

#include <algorithm>
#include <cmath>

#include "nn/kernels/eltwise.hpp"
#include "nn/kernels/parallel.hpp"

namespace nst::kernels {

void ReluKernel::operator()(ScalarArch, float* out, const float* inp, int64_t n) const {
  for (int64_t i = 0; i < n; ++i) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

void ReluBackwardKernel::operator()(ScalarArch, float* dinp, const float* dout, const float* out,
                                    int64_t n) const {
  for (int64_t i = 0; i < n; ++i) dinp[i] += out[i] > 0.0f ? dout[i] : 0.0f;
}

void AxpyKernel::operator()(ScalarArch, float* out, float a, const float* x, const float* y,
                            int64_t n) const {
  for (int64_t i = 0; i < n; ++i) out[i] = a * x[i] + y[i];
}

void AffineKernel::operator()(ScalarArch, float* out, const float* x, float a, float b,
                              int64_t n) const {
  for (int64_t i = 0; i < n; ++i) out[i] = a * x[i] + b;
}

void NormalizeKernel::operator()(ScalarArch, float* out, const float* x, float m_hi, float m_lo,
                                 float k, float t, bool relu, int64_t n) const {
  for (int64_t i = 0; i < n; ++i) {
    const float y = ((x[i] - m_hi) - m_lo) * k + t;
    out[i] = relu ? (y > 0.0f ? y : 0.0f) : y;
  }
}

void NormalizeBackwardKernel::operator()(ScalarArch, float* dx, const float* dy, const float* x,
                                         float m_hi, float m_lo, float k, float c, float b,
                                         int64_t n) const {
  for (int64_t i = 0; i < n; ++i) dx[i] += k * dy[i] + (c * ((x[i] - m_hi) - m_lo) + b);
}

void TanhBackwardKernel::operator()(ScalarArch, float* dinp, const float* dout, const float* out,
                                    int64_t n) const {
  for (int64_t i = 0; i < n; ++i) dinp[i] += dout[i] * (1.0f - out[i] * out[i]);
}

void AddScaledDifferenceKernel::operator()(ScalarArch, float* out, float k, const float* a,
                                           const float* b, int64_t n) const {
  for (int64_t i = 0; i < n; ++i) out[i] += k * (a[i] - b[i]);
}

void PositiveBitsKernel::operator()(ScalarArch, uint64_t* bits, const float* x, int64_t n) const {
  for (int64_t w = 0; w * 64 < n; ++w) {
    const int m = int(std::min<int64_t>(64, n - 64 * w));
    uint64_t word = 0;
    for (int b = 0; b < m; ++b) word |= uint64_t(x[64 * w + b] > 0.0f) << b;
    bits[w] = word;
  }
}

void MaskByBitsKernel::operator()(ScalarArch, float* d, const float* g, const uint64_t* bits,
                                  int64_t n, bool accumulate) const {
  for (int64_t i = 0; i < n; ++i) {
    const float v = (bits[i / 64] >> (i % 64)) & 1 ? g[i] : 0.0f;
    d[i] = accumulate ? d[i] + v : v;
  }
}

// One word of 64 bits per 64 elements; chunks are whole words, so tasks never
// share a word.
void positive_bits(uint64_t* bits, const float* x, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(PositiveBitsKernel{}, bits + lo / 64, x + lo, hi - lo);
  });
}

void mask_by_bits(float* g, const uint64_t* bits, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(MaskByBitsKernel{}, g + lo, g + lo, bits + lo / 64, hi - lo, false);
  });
}

void add_masked_by_bits(float* dinp, const float* dout, const uint64_t* bits, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(MaskByBitsKernel{}, dinp + lo, dout + lo, bits + lo / 64, hi - lo, true);
  });
}

void relu(float* out, const float* inp, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(ReluKernel{}, out + lo, inp + lo, hi - lo);
  });
}

void relu_backward(float* dinp, const float* dout, const float* out, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(ReluBackwardKernel{}, dinp + lo, dout + lo, out + lo, hi - lo);
  });
}

void axpy(float* out, float a, const float* x, const float* y, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(AxpyKernel{}, out + lo, a, x + lo, y + lo, hi - lo);
  });
}

void affine(float* out, const float* x, float a, float b, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(AffineKernel{}, out + lo, x + lo, a, b, hi - lo);
  });
}

void normalize(float* out, const float* x, float m_hi, float m_lo, float k, float t, bool relu,
               int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(NormalizeKernel{}, out + lo, x + lo, m_hi, m_lo, k, t, relu, hi - lo);
  });
}

void normalize_backward(float* dx, const float* dy, const float* x, float m_hi, float m_lo, float k,
                        float c, float b, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(NormalizeBackwardKernel{}, dx + lo, dy + lo, x + lo, m_hi, m_lo, k, c, b, hi - lo);
  });
}

void tanh(float* out, const float* x, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) out[i] = std::tanh(x[i]);
  });
}

void tanh_backward(float* dinp, const float* dout, const float* out, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(TanhBackwardKernel{}, dinp + lo, dout + lo, out + lo, hi - lo);
  });
}

void add_scaled_difference(float* out, float k, const float* a, const float* b, int64_t n) {
  parallel_for(0, n, kEltwiseGrain, [&](int64_t lo, int64_t hi) {
    dispatch(AddScaledDifferenceKernel{}, out + lo, k, a + lo, b + lo, hi - lo);
  });
}

}  // namespace nst::kernels
