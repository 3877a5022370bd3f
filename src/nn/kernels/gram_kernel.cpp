// Plain-loop (ScalarArch) body of the Gram block.
#include "nn/kernels/gram_kernel.hpp"

#include <algorithm>

namespace nst::kernels {

void GramBlockKernel::operator()(ScalarArch, const float* F, int64_t ld, int64_t k0, int64_t k1,
                                 int64_t i0, int64_t i1, int64_t j0, int64_t j1, float* P,
                                 int64_t ldp, bool accumulate) const {
  for (int64_t i = i0; i < i1; ++i)
    for (int64_t j = std::max(i, j0); j < j1; ++j) {
      float s = 0.0f;
      for (int64_t k = k0; k < k1; ++k) s += F[i * ld + k] * F[j * ld + k];
      float& p = P[i * ldp + j];
      p = accumulate ? p + s : s;
    }
}

}  // namespace nst::kernels
