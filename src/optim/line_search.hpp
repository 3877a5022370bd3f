// Strong-Wolfe line search along a descent direction (Nocedal & Wright,
// Numerical Optimization, 2nd ed., Algorithms 3.5 and 3.6, with cubic
// interpolation, eq. 3.59).
//
// The search works on the 1-D function φ(t) = f(x0 + t d), φ'(t) = ∇f(x0 + t d)ᵀd,
// with φ'(0) < 0. It looks for a step t > 0 with
//   sufficient decrease (Armijo):  φ(t) <= φ(0) + c1 t φ'(0)
//   curvature (strong):            |φ'(t)| <= c2 |φ'(0)|
// using at most max_evaluations evaluations of φ.
#pragma once

#include <functional>

namespace nst {

// Returns φ(t) and writes φ'(t) to *dphi.
using LineFunction = std::function<double(double t, double* dphi)>;

struct LineSearchOptions {
  double c1 = 1e-4;          // sufficient-decrease constant, 0 < c1 < c2
  double c2 = 0.9;           // curvature constant, c2 < 1
  int max_evaluations = 25;  // evaluations of φ, at least 1
  double min_interval = 0;   // stop zooming when the bracket is this narrow (in t)
};

struct LineSearchResult {
  double t = 0;     // chosen step; 0 if no trial met sufficient decrease
  double f = 0;     // φ(t)
  double dphi = 0;  // φ'(t)
  int evaluations = 0;
  bool wolfe = false;           // t meets both strong-Wolfe conditions
  bool last_evaluated = false;  // t is the last point φ was evaluated at
};

// Throws nst::Error unless 0 < c1 < c2 < 1 and max_evaluations >= 1.
void check_line_search_options(const LineSearchOptions& options, const char* who);

// Brackets a step from t_init (growing it at most 10x per trial), then zooms.
// If the budget runs out, returns the best step seen that meets sufficient
// decrease (the low end of the bracket), or t = 0 if there is none.
LineSearchResult strong_wolfe_line_search(const LineFunction& phi, double f0, double dphi0,
                                          double t_init, const LineSearchOptions& options);

// Minimiser of the cubic through (t1, f1, d1) and (t2, f2, d2), clamped to
// [lo, hi]; the midpoint of [lo, hi] if the cubic has no minimum.
double cubic_minimizer(double t1, double f1, double d1, double t2, double f2, double d2, double lo,
                       double hi);

}  // namespace nst
