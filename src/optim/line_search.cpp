#include "optim/line_search.hpp"

#include <algorithm>
#include <cmath>

#include "tensor/check.hpp"

namespace nst {

void check_line_search_options(const LineSearchOptions& options, const char* who) {
  NST_CHECK(options.c1 > 0 && options.c1 < options.c2 && options.c2 < 1, who,
            ": line search needs 0 < c1 < c2 < 1, got c1 = ", options.c1, ", c2 = ", options.c2);
  NST_CHECK(options.max_evaluations >= 1, who, ": line search needs max_evaluations >= 1, got ",
            options.max_evaluations);
  NST_CHECK(options.min_interval >= 0, who, ": line search min_interval must be >= 0, got ",
            options.min_interval);
}

// N&W eq. 3.59: with δ1 = d1 + d2 - 3 (f1 - f2)/(t1 - t2), δ2 = sign(t2 - t1) √(δ1² - d1 d2),
// t = t2 - (t2 - t1) (d2 + δ2 - δ1) / (d2 - d1 + 2 δ2).
double cubic_minimizer(double t1, double f1, double d1, double t2, double f2, double d2, double lo,
                       double hi) {
  const double delta1 = d1 + d2 - 3 * (f1 - f2) / (t1 - t2);
  const double square = delta1 * delta1 - d1 * d2;
  if (square >= 0) {
    const double delta2 = std::copysign(std::sqrt(square), t2 - t1);
    const double t = t2 - (t2 - t1) * (d2 + delta2 - delta1) / (d2 - d1 + 2 * delta2);
    if (std::isfinite(t)) return std::clamp(t, lo, hi);
  }
  return 0.5 * (lo + hi);
}

namespace {

struct Point {
  double t, f, d;
};

// Algorithm 3.6: `lo` meets sufficient decrease and has the lowest φ so far;
// φ'(lo) (hi - lo) < 0, so [lo, hi] holds a strong-Wolfe step.
LineSearchResult zoom(const LineFunction& phi, double f0, double dphi0, Point lo, Point hi,
                      double last_t, int evaluations, const LineSearchOptions& o) {
  while (evaluations < o.max_evaluations) {
    const double width = std::fabs(hi.t - lo.t);
    if (!(width > o.min_interval)) break;
    // Keep the trial 10% away from either end so the bracket shrinks every time.
    const double left = std::min(lo.t, hi.t) + 0.1 * width;
    const double right = std::max(lo.t, hi.t) - 0.1 * width;
    const double t = cubic_minimizer(lo.t, lo.f, lo.d, hi.t, hi.f, hi.d, left, right);
    double d = 0;
    const double f = phi(t, &d);
    ++evaluations;
    last_t = t;
    if (!(f <= f0 + o.c1 * t * dphi0) || !(f < lo.f)) {
      hi = {t, f, d};
      continue;
    }
    if (std::fabs(d) <= -o.c2 * dphi0) return {t, f, d, evaluations, true, true};
    if (d * (hi.t - lo.t) >= 0) hi = lo;
    lo = {t, f, d};
  }
  return {lo.t, lo.f, lo.d, evaluations, false, lo.t > 0 && lo.t == last_t};
}

}  // namespace

// Algorithm 3.5: grow t until φ rises, breaks sufficient decrease, or turns upward.
LineSearchResult strong_wolfe_line_search(const LineFunction& phi, double f0, double dphi0,
                                          double t_init, const LineSearchOptions& o) {
  check_line_search_options(o, "line search");
  NST_CHECK(dphi0 < 0, "line search: direction is not a descent direction (phi'(0) = ", dphi0, ")");
  NST_CHECK(t_init > 0 && std::isfinite(t_init), "line search: initial step must be > 0, got ",
            t_init);
  Point prev{0, f0, dphi0};
  double t = t_init;
  int evaluations = 0;
  while (true) {
    double d = 0;
    const double f = phi(t, &d);
    ++evaluations;
    const Point cur{t, f, d};
    if (!(f <= f0 + o.c1 * t * dphi0) || (evaluations > 1 && f >= prev.f))
      return zoom(phi, f0, dphi0, prev, cur, t, evaluations, o);
    if (std::fabs(d) <= -o.c2 * dphi0) return {t, f, d, evaluations, true, true};
    if (d >= 0) return zoom(phi, f0, dphi0, cur, prev, t, evaluations, o);
    if (evaluations >= o.max_evaluations) return {t, f, d, evaluations, false, true};
    // Still going down: extrapolate, at least 1% further, at most 10x.
    const double next =
        cubic_minimizer(prev.t, prev.f, prev.d, t, f, d, t + 0.01 * (t - prev.t), 10 * t);
    prev = cur;
    t = next;
  }
}

}  // namespace nst
