// SIMD bodies of the element-wise kernels (compiled once per instruction set,
// NST_ARCH names it). Each kernel is one `step` on batches; map_batches runs it
// over whole batches, then once more on a zero-padded partial batch, so every
// element gets the same arithmetic wherever it sits in the array.
#include "nn/kernels/eltwise_kernel.hpp"

#include <algorithm>

namespace nst::kernels {

namespace {

template <class Arch>
using Batch = xsimd::batch<float, Arch>;

template <class Arch>
Batch<Arch> load_partial(const float* p, int64_t count) {
  alignas(64) float buf[Batch<Arch>::size] = {};
  std::copy(p, p + count, buf);
  return Batch<Arch>::load_aligned(buf);
}

template <class Arch>
void store_partial(const Batch<Arch>& v, float* p, int64_t count) {
  alignas(64) float buf[Batch<Arch>::size];
  v.store_aligned(buf);
  std::copy(buf, buf + count, p);
}

// out[i] = step(in[i]...) for i in [0, n); out may alias any input.
template <class Arch, class Step, class... Ptr>
void map_batches(float* out, int64_t n, Step step, Ptr... in) {
  constexpr int64_t width = Batch<Arch>::size;
  int64_t i = 0;
  for (; i + width <= n; i += width)
    step(Batch<Arch>::load_unaligned(in + i)...).store_unaligned(out + i);
  if (i < n) store_partial<Arch>(step(load_partial<Arch>(in + i, n - i)...), out + i, n - i);
}

}  // namespace

template <class Arch>
void ReluKernel::operator()(Arch, float* out, const float* inp, int64_t n) const {
  using B = Batch<Arch>;
  map_batches<Arch>(
      out, n, [](B x) { return xsimd::select(x > B(0.0f), x, B(0.0f)); }, inp);
}

template <class Arch>
void ReluBackwardKernel::operator()(Arch, float* dinp, const float* dout, const float* out,
                                    int64_t n) const {
  using B = Batch<Arch>;
  map_batches<Arch>(
      dinp, n, [](B d, B dy, B y) { return d + xsimd::select(y > B(0.0f), dy, B(0.0f)); }, dinp,
      dout, out);
}

template <class Arch>
void AxpyKernel::operator()(Arch, float* out, float a, const float* x, const float* y,
                            int64_t n) const {
  using B = Batch<Arch>;
  const B va(a);
  map_batches<Arch>(
      out, n, [va](B vx, B vy) { return xsimd::fma(va, vx, vy); }, x, y);
}

template <class Arch>
void AffineKernel::operator()(Arch, float* out, const float* x, float a, float b, int64_t n) const {
  using B = Batch<Arch>;
  const B va(a), vb(b);
  map_batches<Arch>(
      out, n, [va, vb](B vx) { return xsimd::fma(va, vx, vb); }, x);
}

template <class Arch>
void NormalizeKernel::operator()(Arch, float* out, const float* x, float m_hi, float m_lo, float k,
                                 float t, int64_t n) const {
  using B = Batch<Arch>;
  const B vhi(m_hi), vlo(m_lo), vk(k), vt(t);
  map_batches<Arch>(
      out, n, [vhi, vlo, vk, vt](B vx) { return xsimd::fma((vx - vhi) - vlo, vk, vt); }, x);
}

template <class Arch>
void NormalizeBackwardKernel::operator()(Arch, float* dx, const float* dy, const float* x,
                                         float m_hi, float m_lo, float k, float c, float b,
                                         int64_t n) const {
  using B = Batch<Arch>;
  const B vhi(m_hi), vlo(m_lo), vk(k), vc(c), vb(b);
  map_batches<Arch>(
      dx, n,
      [vhi, vlo, vk, vc, vb](B d, B vdy, B vx) {
        return d + xsimd::fma(vk, vdy, xsimd::fma(vc, (vx - vhi) - vlo, vb));
      },
      dx, dy, x);
}

template <class Arch>
void TanhBackwardKernel::operator()(Arch, float* dinp, const float* dout, const float* out,
                                    int64_t n) const {
  using B = Batch<Arch>;
  map_batches<Arch>(
      dinp, n, [](B d, B dy, B y) { return xsimd::fma(dy, B(1.0f) - y * y, d); }, dinp, dout, out);
}

template <class Arch>
void AddScaledDifferenceKernel::operator()(Arch, float* out, float k, const float* a,
                                           const float* b, int64_t n) const {
  using B = Batch<Arch>;
  const B vk(k);
  map_batches<Arch>(
      out, n, [vk](B o, B va, B vb) { return xsimd::fma(vk, va - vb, o); }, out, a, b);
}

NST_INSTANTIATE_SIMD_KERNEL(ReluKernel, void, float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(ReluBackwardKernel, void, float*, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AxpyKernel, void, float*, float, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AffineKernel, void, float*, const float*, float, float, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(NormalizeKernel, void, float*, const float*, float, float, float, float,
                            int64_t)
NST_INSTANTIATE_SIMD_KERNEL(NormalizeBackwardKernel, void, float*, const float*, const float*,
                            float, float, float, float, float, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(TanhBackwardKernel, void, float*, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AddScaledDifferenceKernel, void, float*, float, const float*,
                            const float*, int64_t)

}  // namespace nst::kernels
