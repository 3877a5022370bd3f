// The three Winograd F(4x4, 3x3) transforms of one tile, factored into the few
// adds and multiplies each row of Bᵀ, G and Aᵀ needs (winograd_kernel.hpp
// spells the matrices out; winograd_reference.cpp multiplies them as matrices).
//
// T is a float (ScalarArch: one tile) or an xsimd batch (one tile per lane):
// the same sequence of operations in every lane, so the bits depend only on the
// instruction set. No FMA here: only the GEMM micro-kernel fuses.
#pragma once

namespace nst::kernels::winograd_detail {

// y = Bᵀ x for one column of six (the rows of Bᵀ in winograd_kernel.hpp).
template <class T>
void input_1d(const T x[6], T y[6]) {
  const T t1 = x[4] - T(4.0f) * x[2], t2 = x[3] - T(4.0f) * x[1];
  const T t3 = x[4] - x[2], t4 = T(2.0f) * (x[3] - x[1]);
  y[0] = T(4.0f) * x[0] - T(5.0f) * x[2] + x[4];
  y[1] = t1 + t2;
  y[2] = t1 - t2;
  y[3] = t3 + t4;
  y[4] = t3 - t4;
  y[5] = T(4.0f) * x[1] - T(5.0f) * x[3] + x[5];
}

// v = Bᵀ d B for a 6x6 patch d (row-major): Bᵀ on the columns, then on the rows.
template <class T>
void input_transform(const T d[36], T v[36]) {
  T cols[36];
  for (int u = 0; u < 6; ++u) {
    T x[6], y[6];
    for (int r = 0; r < 6; ++r) x[r] = d[r * 6 + u];
    input_1d(x, y);
    for (int i = 0; i < 6; ++i) cols[i * 6 + u] = y[i];
  }
  for (int i = 0; i < 6; ++i) input_1d(cols + i * 6, v + i * 6);
}

// z = Aᵀ m for one column of six (the rows of Aᵀ in winograd_kernel.hpp).
template <class T>
void output_1d(const T m[6], T z[4]) {
  const T s12 = m[1] + m[2], d12 = m[1] - m[2], s34 = m[3] + m[4], d34 = m[3] - m[4];
  z[0] = m[0] + s12 + s34;
  z[1] = d12 + T(2.0f) * d34;
  z[2] = s12 + T(4.0f) * s34;
  z[3] = d12 + T(8.0f) * d34 + m[5];
}

// y = Aᵀ m A for a 6x6 m (row-major), y 4x4 row-major.
template <class T>
void output_transform(const T m[36], T y[16]) {
  T rows[24];  // rows[i][q] = (m A)[i][q]
  for (int i = 0; i < 6; ++i) output_1d(m + i * 6, rows + i * 4);
  for (int q = 0; q < 4; ++q) {
    T x[6], z[4];
    for (int i = 0; i < 6; ++i) x[i] = rows[i * 4 + q];
    output_1d(x, z);
    for (int p = 0; p < 4; ++p) y[p * 4 + q] = z[p];
  }
}

// t = G g for one column of three (the rows of G in winograd_kernel.hpp).
template <class T>
[[gnu::always_inline]] inline void weight_1d(const T g[3], T t[6]) {
  const T sum = g[0] + g[2];
  t[0] = g[0] * T(1.0f / 4);
  t[1] = (sum + g[1]) * T(-1.0f / 6);
  t[2] = (sum - g[1]) * T(-1.0f / 6);
  const T even = g[0] * T(1.0f / 24) + g[2] * T(1.0f / 6), odd = g[1] * T(1.0f / 12);
  t[3] = even + odd;
  t[4] = even - odd;
  t[5] = g[2];
}

// u = G g Gᵀ for a 3x3 kernel g (row-major), u 6x6 row-major.
template <class T>
[[gnu::always_inline]] inline void weight_transform(const T g[9], T u[36]) {
  T cols[18];  // (G g)[i][j] at cols[i * 3 + j]
  for (int j = 0; j < 3; ++j) {
    const T x[3] = {g[j], g[3 + j], g[6 + j]};
    T y[6];
    weight_1d(x, y);
    for (int i = 0; i < 6; ++i) cols[i * 3 + j] = y[i];
  }
  for (int i = 0; i < 6; ++i) weight_1d(cols + i * 3, u + i * 6);
}

}  // namespace nst::kernels::winograd_detail
