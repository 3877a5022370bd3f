// One small interface over the optimisers, for a driver that should not care
// which one runs (the stylize driver picks one from its config and then only
// calls these). L-BFGS (lbfgs.hpp) and Adam (adam.hpp) sit behind it; their
// states stay plain data that tests and the checkpoint code can reach.
//
//   std::unique_ptr<Optimizer> opt = make_lbfgs(n, lbfgs_options);
//   while (!opt->stopped()) {
//     const double loss = opt->step(x, objective);
//     if (opt->diverged()) ...;  // NaN or infinity
//   }
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>

#include "optim/adam.hpp"
#include "optim/lbfgs.hpp"
#include "optim/objective.hpp"

namespace nst {

class Optimizer {
 public:
  virtual ~Optimizer() = default;

  // One iteration on x (the n floats the optimiser was made for); returns the
  // loss it evaluated. Which x that loss belongs to differs: see loss_after_step.
  virtual double step(float* x, const Objective& objective) = 0;
  // True when step's loss is f at the updated x (L-BFGS), false when it is f
  // at the x before the update (Adam).
  virtual bool loss_after_step() const = 0;

  virtual bool stopped() const = 0;   // no more steps (the iteration limit, or a rule below)
  virtual bool diverged() const = 0;  // stopped on a NaN or infinite loss or gradient
  // Why it stopped before its iteration limit ("" while running or at the limit).
  virtual std::string early_stop_reason() const = 0;
  virtual int64_t evaluations() const = 0;  // calls of the objective so far
  // Keeps x within a box from the next step on (optim/box.hpp); an empty box
  // removes the constraint. Not part of the saved state: set it again after
  // load_state.
  virtual void set_box(Box box) = 0;

  // The whole state, bit for bit (a resumed run continues exactly).
  virtual void save_state(std::ostream& out) const = 0;
  virtual void load_state(std::istream& in) = 0;
};

std::unique_ptr<Optimizer> make_lbfgs(int64_t n, const LbfgsOptions& options);
std::unique_ptr<Optimizer> make_adam(int64_t n, const AdamOptions& options);

}  // namespace nst
