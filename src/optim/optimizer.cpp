#include "optim/optimizer.hpp"

#include <utility>

namespace nst {

namespace {

class Lbfgs final : public Optimizer {
 public:
  Lbfgs(int64_t n, const LbfgsOptions& options) : state_(n, options) {}
  double step(float* x, const Objective& objective) override {
    return lbfgs_step(state_, x, objective, &box_);
  }
  bool loss_after_step() const override { return true; }
  bool stopped() const override { return state_.stopped(); }
  bool diverged() const override { return state_.stop == LbfgsStop::non_finite; }
  std::string early_stop_reason() const override {
    return state_.stopped() && state_.stop != LbfgsStop::max_iterations
               ? lbfgs_stop_name(state_.stop)
               : "";
  }
  int64_t evaluations() const override { return state_.evaluations; }
  void save_state(std::ostream& out) const override { state_.save_state(out); }
  void load_state(std::istream& in) override { state_.load_state(in); }
  void set_box(Box box) override { box_ = std::move(box); }

 private:
  LbfgsState state_;
  Box box_;
};

class Adam final : public Optimizer {
 public:
  Adam(int64_t n, const AdamOptions& options) : state_(n, options) {}
  double step(float* x, const Objective& objective) override {
    return adam_step(state_, x, objective, &box_);
  }
  bool loss_after_step() const override { return false; }
  bool stopped() const override { return state_.stopped(); }
  bool diverged() const override { return state_.stop == AdamStop::non_finite; }
  std::string early_stop_reason() const override {
    return state_.stopped() && state_.stop != AdamStop::max_iterations ? adam_stop_name(state_.stop)
                                                                       : "";
  }
  // One per step; a step that met a NaN evaluated but did not count itself.
  int64_t evaluations() const override {
    return state_.iteration + (state_.stop == AdamStop::non_finite ? 1 : 0);
  }
  void save_state(std::ostream& out) const override { state_.save_state(out); }
  void load_state(std::istream& in) override { state_.load_state(in); }
  void set_box(Box box) override { box_ = std::move(box); }

 private:
  AdamState state_;
  Box box_;
};

}  // namespace

std::unique_ptr<Optimizer> make_lbfgs(int64_t n, const LbfgsOptions& options) {
  return std::make_unique<Lbfgs>(n, options);
}

std::unique_ptr<Optimizer> make_adam(int64_t n, const AdamOptions& options) {
  return std::make_unique<Adam>(n, options);
}

}  // namespace nst
