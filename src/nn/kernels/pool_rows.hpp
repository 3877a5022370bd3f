// The loops of the 2x2, stride-2 max pool (pool_kernel.hpp), written as
// selects so that they vectorise. Included by pool_kernel.cpp (plain build),
// pool_kernel.simd.cpp (one build per instruction set) and pool.cpp (the
// backward that recomputes the argmax).
#pragma once

#include <cstdint>

namespace nst::kernels::pool_detail {

// Windows [ow0, OW) of one output row: r0 and r1 are its two input rows.
inline void max_2x2_row(float* o, uint8_t* a, const float* r0, const float* r1, int64_t ow0,
                        int64_t OW) {
  if (!a) {
    for (int64_t ow = ow0; ow < OW; ++ow) {
      float v = r0[2 * ow];
      v = r0[2 * ow + 1] > v ? r0[2 * ow + 1] : v;
      v = r1[2 * ow] > v ? r1[2 * ow] : v;
      v = r1[2 * ow + 1] > v ? r1[2 * ow + 1] : v;
      o[ow] = v;
    }
    return;
  }
  for (int64_t ow = ow0; ow < OW; ++ow) {
    float v = r0[2 * ow];
    uint8_t k = 0;
    k = r0[2 * ow + 1] > v ? uint8_t(1) : k;
    v = r0[2 * ow + 1] > v ? r0[2 * ow + 1] : v;
    k = r1[2 * ow] > v ? uint8_t(2) : k;
    v = r1[2 * ow] > v ? r1[2 * ow] : v;
    k = r1[2 * ow + 1] > v ? uint8_t(3) : k;
    v = r1[2 * ow + 1] > v ? r1[2 * ow + 1] : v;
    o[ow] = v;
    a[ow] = k;
  }
}

// Differentiates max_2x2_row: adds d[ow] to the pixel that won, by the same
// comparisons. Windows do not overlap, so each pixel gets at most one d; the
// losers get -0.0f, which leaves every float (even -0.0f) unchanged, so the
// loop has no branch and matches the scatter of the reference bit for bit.
inline void max_2x2_row_backward(float* d0, float* d1, const float* d, const float* r0,
                                 const float* r1, int64_t OW) {
  for (int64_t ow = 0; ow < OW; ++ow) {
    const float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], e = r1[2 * ow + 1];
    const bool b_wins = b > a;
    const float v1 = b_wins ? b : a;
    const bool c_wins = c > v1;
    const float v2 = c_wins ? c : v1;
    const bool e_wins = e > v2;
    const float g = d[ow];
    d1[2 * ow + 1] += e_wins ? g : -0.0f;
    d1[2 * ow] += !e_wins && c_wins ? g : -0.0f;
    d0[2 * ow + 1] += !e_wins && !c_wins && b_wins ? g : -0.0f;
    d0[2 * ow] += !e_wins && !c_wins && !b_wins ? g : -0.0f;
  }
}

inline void max_2x2_plane(float* out, uint8_t* at, const float* plane, int64_t W, int64_t OH,
                          int64_t OW) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    const float* r0 = plane + 2 * oh * W;
    max_2x2_row(out + oh * OW, at ? at + oh * OW : nullptr, r0, r0 + W, 0, OW);
  }
}

inline void max_2x2_plane_backward(float* dplane, const float* d, const uint8_t* at, int64_t W,
                                   int64_t OH, int64_t OW, bool accumulate) {
  for (int64_t oh = 0; oh < OH; ++oh) {
    float* d0 = dplane + 2 * oh * W;
    float* d1 = d0 + W;
    const float* g = d + oh * OW;
    const uint8_t* a = at + oh * OW;
    if (!accumulate) {
      for (int64_t ow = 0; ow < OW; ++ow) {
        const uint8_t k = a[ow];
        d0[2 * ow] = k == 0 ? g[ow] : 0.0f;
        d0[2 * ow + 1] = k == 1 ? g[ow] : 0.0f;
        d1[2 * ow] = k == 2 ? g[ow] : 0.0f;
        d1[2 * ow + 1] = k == 3 ? g[ow] : 0.0f;
      }
      continue;
    }
    for (int64_t ow = 0; ow < OW; ++ow) {
      const uint8_t k = a[ow];
      d0[2 * ow] += k == 0 ? g[ow] : -0.0f;
      d0[2 * ow + 1] += k == 1 ? g[ow] : -0.0f;
      d1[2 * ow] += k == 2 ? g[ow] : -0.0f;
      d1[2 * ow + 1] += k == 3 ? g[ow] : -0.0f;
    }
  }
}

}  // namespace nst::kernels::pool_detail
