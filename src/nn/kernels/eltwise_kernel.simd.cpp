// SIMD bodies of the element-wise kernels (compiled once per instruction set,
// NST_ARCH names it). Each kernel is one `step` on batches; map_batches runs it
// over whole batches, then once more on a zero-padded partial batch, so every
// element gets the same arithmetic wherever it sits in the array.
#include "nn/kernels/eltwise_kernel.hpp"
#include "nn/kernels/fma.hpp"

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
      out, n, [va](B vx, B vy) { return kernels::fma(va, vx, vy); }, x, y);
}

template <class Arch>
void AffineKernel::operator()(Arch, float* out, const float* x, float a, float b, int64_t n) const {
  using B = Batch<Arch>;
  const B va(a), vb(b);
  map_batches<Arch>(
      out, n, [va, vb](B vx) { return kernels::fma(va, vx, vb); }, x);
}

template <class Arch>
void NormalizeKernel::operator()(Arch, float* out, const float* x, float m_hi, float m_lo, float k,
                                 float t, bool relu, int64_t n) const {
  using B = Batch<Arch>;
  const B vhi(m_hi), vlo(m_lo), vk(k), vt(t), zero(0.0f);
  if (relu)
    map_batches<Arch>(
        out, n,
        [vhi, vlo, vk, vt, zero](B vx) {
          const B y = kernels::fma((vx - vhi) - vlo, vk, vt);
          return xsimd::select(y > zero, y, zero);
        },
        x);
  else
    map_batches<Arch>(
        out, n, [vhi, vlo, vk, vt](B vx) { return kernels::fma((vx - vhi) - vlo, vk, vt); }, x);
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
        return d + kernels::fma(vk, vdy, kernels::fma(vc, (vx - vhi) - vlo, vb));
      },
      dx, dy, x);
}

template <class Arch>
void TanhBackwardKernel::operator()(Arch, float* dinp, const float* dout, const float* out,
                                    int64_t n) const {
  using B = Batch<Arch>;
  map_batches<Arch>(
      dinp, n, [](B d, B dy, B y) { return kernels::fma(dy, B(1.0f) - y * y, d); }, dinp, dout, out);
}

template <class Arch>
void AddScaledDifferenceKernel::operator()(Arch, float* out, float k, const float* a,
                                           const float* b, int64_t n) const {
  using B = Batch<Arch>;
  const B vk(k);
  map_batches<Arch>(
      out, n, [vk](B o, B va, B vb) { return kernels::fma(vk, va - vb, o); }, out, a, b);
}

// W lanes make W bits: lane l > 0 selects 2^l, and the lanes' sum (exact: distinct
// powers of two below 2^W, W <= 16) is the W-bit group. 64 / W groups per word.
template <class Arch>
void PositiveBitsKernel::operator()(Arch, uint64_t* bits, const float* x, int64_t n) const {
  using B = Batch<Arch>;
  constexpr int64_t width = B::size;
  static_assert(64 % width == 0 && width <= 16, "a word holds whole batches");
  alignas(64) float weight[width];
  for (int64_t l = 0; l < width; ++l) weight[l] = float(int64_t{1} << l);
  const B lane_bit = B::load_aligned(weight);
  for (int64_t w = 0; w * 64 < n; ++w) {
    const float* v = x + 64 * w;
    const int64_t m = std::min<int64_t>(64, n - 64 * w);
    uint64_t word = 0;
    for (int64_t k = 0; k * width < m; ++k) {
      const B b = k * width + width <= m ? B::load_unaligned(v + k * width)
                                         : load_partial<Arch>(v + k * width, m - k * width);
      const float group = xsimd::hadd(xsimd::select(b > B(0.0f), lane_bit, B(0.0f)));
      word |= uint64_t(group) << (k * width);
    }
    bits[w] = word;
  }
}

// Lane l keeps g where bit l of its W-bit group is set: the group broadcast,
// ANDed with 2^l, compared with 0, as an all-ones / zero lane mask.
template <class Arch>
void MaskByBitsKernel::operator()(Arch, float* d, const float* g, const uint64_t* bits, int64_t n,
                                  bool accumulate) const {
  using B = Batch<Arch>;
  using U = xsimd::batch<uint32_t, Arch>;
  constexpr int64_t width = B::size;
  alignas(64) uint32_t weight[width];
  for (int64_t l = 0; l < width; ++l) weight[l] = uint32_t{1} << l;
  const U lane_bit = U::load_aligned(weight);
  const uint32_t group_mask = uint32_t((uint64_t{1} << width) - 1);
  int64_t i = 0;
  auto masked = [&](const B& v) {
    const U group(uint32_t(bits[i / 64] >> (i % 64)) & group_mask);
    const U keep = xsimd::select((group & lane_bit) != U(0u), U(0xffffffffu), U(0u));
    return xsimd::bitwise_cast<B>(xsimd::bitwise_cast<U>(v) & keep);
  };
  for (; i + width <= n; i += width) {
    const B v = masked(B::load_unaligned(g + i));
    (accumulate ? B::load_unaligned(d + i) + v : v).store_unaligned(d + i);
  }
  if (i < n) {
    const B v = masked(load_partial<Arch>(g + i, n - i));
    store_partial<Arch>(accumulate ? load_partial<Arch>(d + i, n - i) + v : v, d + i, n - i);
  }
}

NST_INSTANTIATE_SIMD_KERNEL(PositiveBitsKernel, void, uint64_t*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(MaskByBitsKernel, void, float*, const float*, const uint64_t*, int64_t,
                            bool)
NST_INSTANTIATE_SIMD_KERNEL(ReluKernel, void, float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(ReluBackwardKernel, void, float*, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AxpyKernel, void, float*, float, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AffineKernel, void, float*, const float*, float, float, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(NormalizeKernel, void, float*, const float*, float, float, float, float,
                            bool, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(NormalizeBackwardKernel, void, float*, const float*, const float*,
                            float, float, float, float, float, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(TanhBackwardKernel, void, float*, const float*, const float*, int64_t)
NST_INSTANTIATE_SIMD_KERNEL(AddScaledDifferenceKernel, void, float*, float, const float*,
                            const float*, int64_t)

}  // namespace nst::kernels
