#include "optim/box.hpp"

#include <algorithm>
#include <cmath>

#include "tensor/check.hpp"

namespace nst {

void check_box(const Box& box, int64_t n) {
  if (box.lower.empty() && box.upper.empty()) return;
  NST_CHECK(int64_t(box.lower.size()) == n && int64_t(box.upper.size()) == n, "box: ",
            box.lower.size(), " lower and ", box.upper.size(), " upper bounds for ", n, " values");
  for (int64_t i = 0; i < n; ++i)
    NST_CHECK(std::isfinite(box.lower[size_t(i)]) && std::isfinite(box.upper[size_t(i)]) &&
                  box.lower[size_t(i)] <= box.upper[size_t(i)],
              "box: bounds of value ", i, " are not finite with lower <= upper");
}

void box_project(float* x, const Box& box, int64_t n) {
  if (!box.active()) return;
  const float* lo = box.lower.data();
  const float* hi = box.upper.data();
  for (int64_t i = 0; i < n; ++i) x[i] = std::min(std::max(x[i], lo[i]), hi[i]);
}

void box_free_gradient(float* out, const float* g, const float* x, const Box& box, int64_t n) {
  const float* lo = box.lower.data();
  const float* hi = box.upper.data();
  for (int64_t i = 0; i < n; ++i) out[i] = box_blocked(x[i], g[i], lo[i], hi[i]) ? 0.0f : g[i];
}

}  // namespace nst
