#include "optim/adam.hpp"

#include <istream>
#include <ostream>
#include <utility>

#include "nn/kernels/parallel.hpp"
#include "optim/state_io.hpp"
#include "optim/vector_ops.hpp"
#include "tensor/check.hpp"

namespace nst {

const char* adam_stop_name(AdamStop stop) {
  switch (stop) {
    case AdamStop::running:
      return "running";
    case AdamStop::max_iterations:
      return "max iterations reached";
    case AdamStop::non_finite:
      return "loss or gradient is not finite";
  }
  return "unknown";
}

void check_adam_options(const AdamOptions& o) {
  NST_CHECK(o.lr > 0 && std::isfinite(o.lr), "adam: lr must be > 0 and finite, got ", o.lr);
  NST_CHECK(o.beta1 >= 0 && o.beta1 < 1, "adam: beta1 must be in [0, 1), got ", o.beta1);
  NST_CHECK(o.beta2 >= 0 && o.beta2 < 1, "adam: beta2 must be in [0, 1), got ", o.beta2);
  NST_CHECK(o.eps > 0 && std::isfinite(o.eps), "adam: eps must be > 0 and finite, got ", o.eps);
  NST_CHECK(o.max_iterations >= 1, "adam: max_iterations must be >= 1, got ", o.max_iterations);
}

AdamState::AdamState(int64_t n_, const AdamOptions& options_) : options(options_), n(n_) {
  NST_CHECK(n > 0, "adam: the variable needs n > 0 values, got n = ", n);
  check_adam_options(options);
  m.assign(static_cast<size_t>(n), 0.0f);
  v.assign(static_cast<size_t>(n), 0.0f);
}

void adam_update(float* x, float* m, float* v, const float* g, int64_t n, int64_t t,
                 const AdamOptions& o) {
  NST_CHECK(n >= 0 && t >= 1, "adam_update: needs n >= 0 and t >= 1, got n = ", n, ", t = ", t);
  const double b1 = o.beta1, b2 = o.beta2;
  const double c1 = 1 - std::pow(b1, double(t)), c2 = 1 - std::pow(b2, double(t));
  kernels::parallel_for(0, n, kVectorChunk, [=](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const double gi = g[i];
      const double mi = b1 * double(m[i]) + (1 - b1) * gi;
      const double vi = b2 * double(v[i]) + (1 - b2) * gi * gi;
      m[i] = float(mi);
      v[i] = float(vi);
      x[i] = float(double(x[i]) - o.lr * (mi / c1) / (std::sqrt(vi / c2) + o.eps));
    }
  });
}

double adam_step(AdamState& st, float* x, const Objective& objective, const Box* box) {
  NST_CHECK(x != nullptr, "adam: x is null");
  NST_CHECK(static_cast<bool>(objective), "adam: the objective is empty");
  check_adam_options(st.options);
  const int64_t n = st.n;
  NST_CHECK(st.m.size() == static_cast<size_t>(n) && st.v.size() == static_cast<size_t>(n),
            "adam: inconsistent state (n = ", n, ", m has ", st.m.size(), ", v has ", st.v.size(),
            ")");
  if (st.stopped()) return st.f;
  st.g.resize(static_cast<size_t>(n));
  st.f = objective(x, st.g.data());
  if (!std::isfinite(st.f) || !std::isfinite(vec_max_abs(st.g.data(), n))) {
    st.stop = AdamStop::non_finite;
    return st.f;
  }
  ++st.iteration;
  adam_update(x, st.m.data(), st.v.data(), st.g.data(), n, st.iteration, st.options);
  if (box && box->active()) {
    check_box(*box, n);
    box_project(x, *box, n);  // projected gradient descent with Adam's steps
  }
  if (st.iteration >= st.options.max_iterations) st.stop = AdamStop::max_iterations;
  return st.f;
}

// State file: "NSTADAM1" | version | options | n, t, stop, f | m | v | checksum.
namespace {
constexpr char kAdamMagic[9] = "NSTADAM1";
constexpr uint32_t kAdamVersion = 1;
}  // namespace

void AdamState::save_state(std::ostream& out) const {
  NST_CHECK(m.size() == static_cast<size_t>(n) && v.size() == static_cast<size_t>(n),
            "adam: cannot save an inconsistent state");
  StateWriter w(out, kAdamMagic, kAdamVersion);
  w.value(options.lr);
  w.value(options.beta1);
  w.value(options.beta2);
  w.value(options.eps);
  w.value(options.max_iterations);
  w.value(n);
  w.value(iteration);
  w.value(int32_t(stop));
  w.value(f);
  w.floats(m);
  w.floats(v);
  w.finish("adam");
}

void AdamState::load_state(std::istream& in) {
  StateReader r(in, kAdamMagic, kAdamVersion, "adam");
  AdamOptions o;
  o.lr = r.value<double>();
  o.beta1 = r.value<double>();
  o.beta2 = r.value<double>();
  o.eps = r.value<double>();
  o.max_iterations = r.value<int64_t>();
  try {
    check_adam_options(o);
  } catch (const Error& e) {
    fail("adam: corrupt state: ", e.what());
  }
  const auto n_saved = r.value<int64_t>();
  NST_CHECK(n_saved == n, "adam: the state is for n = ", n_saved,
            " values, this optimiser has n = ", n);
  AdamState st(n, o);
  st.iteration = r.value<int64_t>();
  r.expect(st.iteration >= 0, "iteration");
  const auto stop_code = r.value<int32_t>();
  r.expect(stop_code >= 0 && stop_code <= int32_t(AdamStop::non_finite), "stop");
  st.stop = static_cast<AdamStop>(stop_code);
  st.f = r.value<double>();
  st.m = r.floats(n);
  st.v = r.floats(n);
  r.finish();
  *this = std::move(st);
}

}  // namespace nst
