// Plain-loop (ScalarArch) body of the direct convolution: the same band,
// offsets and panels as the SIMD body, a 4 x 8 tile.
#include "nn/kernels/conv_direct_kernel.hpp"

namespace nst::kernels {

namespace {
constexpr int64_t kMr = 4, kNr = 8;
}  // namespace

ConvDirectPlan ConvDirectPlanKernel::operator()(ScalarArch, int64_t) const { return {kMr, kNr}; }

void ConvDirectKernel::operator()(ScalarArch, const ConvDirectArgs& a, const ConvDirectPlan&) const {
  const int64_t panels = (a.OC + kMr - 1) / kMr;
  for (int64_t i = 0; i < a.rows; ++i)
    for (int64_t ow0 = 0; ow0 < a.OW; ow0 += kNr)
      for (int64_t p = 0; p < panels; ++p) {
        const float* w = a.panels + p * a.K * kMr;
        float acc[kMr * kNr] = {};
        for (int64_t k = 0; k < a.K; ++k) {
          const float* b = a.band + a.offsets[k] + i * a.Wb + ow0;
          for (int64_t r = 0; r < kMr; ++r)
            for (int64_t j = 0; j < kNr; ++j) acc[r * kNr + j] += w[k * kMr + r] * b[j];
        }
        const int64_t channels = std::min(kMr, a.OC - p * kMr);
        conv_direct_store_edge(a, acc, kNr, p * kMr, channels, i, ow0, std::min(kNr, a.OW - ow0));
      }
}

}  // namespace nst::kernels
