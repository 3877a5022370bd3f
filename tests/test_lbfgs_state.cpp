// L-BFGS state files: resume bit-exactly, reject corrupt or mismatched states.
#include <sstream>
#include <string>
#include <vector>

#include "optim/lbfgs.hpp"
#include "optim_problems.hpp"
#include "tensor/check.hpp"
#include "testing.hpp"

using namespace nst;
using nst::testing::Quadratic;
using nst::testing::same_bits;

// Runs `first` steps, saves, runs `second` more; then restores into a fresh state and
// checks the continued iterates and losses match bit for bit.
static void check_resume(const LbfgsOptions& o, const Objective& f, std::vector<float> x, int first,
                         int second) {
  const int64_t n = static_cast<int64_t>(x.size());
  LbfgsState state(n, o);
  for (int i = 0; i < first; ++i) lbfgs_step(state, x.data(), f);
  std::stringstream saved;
  state.save_state(saved);
  std::vector<float> x_saved = x;
  std::vector<double> losses;
  for (int i = 0; i < second; ++i) losses.push_back(lbfgs_step(state, x.data(), f));

  LbfgsOptions other;  // the file's options replace these
  other.history = 50;
  LbfgsState resumed(n, other);
  resumed.load_state(saved);
  CHECK(resumed.options.history == o.history);
  for (int i = 0; i < second; ++i) {
    const double loss = lbfgs_step(resumed, x_saved.data(), f);
    CHECK(same_bits(loss, losses[i]));
  }
  CHECK(same_bits(x, x_saved));
  CHECK(state.iteration == first + second);  // no early stop: every step moved x
  CHECK(resumed.iteration == state.iteration);
  CHECK(resumed.evaluations == state.evaluations);
  CHECK(same_bits(resumed.g, state.g));
}

TEST_CASE("lbfgs: save, load and continue gives bit-identical iterates", "[lbfgs]") {
  const int64_t n = 10;
  std::vector<float> x0(n);
  for (int64_t i = 0; i < n; ++i) x0[i] = i % 2 == 0 ? -1.2f : 1.0f;
  LbfgsOptions o;
  o.line_search = LineSearch::strong_wolfe;
  o.history = 3;  // the ring buffer wraps before and after the save
  o.grad_tolerance = 0;
  o.change_tolerance = 0;
  o.step_tolerance = 0;
  o.max_evaluations = 1000;
  SECTION("strong Wolfe") { check_resume(o, nst::testing::rosenbrock_objective(n), x0, 6, 8); }
  SECTION("fixed step") {
    o.line_search = LineSearch::none;
    const Quadratic q(n, 4);
    check_resume(o, q.objective(), x0, 5, 8);
  }
  SECTION("before the first evaluation") {
    check_resume(o, nst::testing::rosenbrock_objective(n), x0, 0, 5);
  }
  SECTION("bf16 history") {
    o.bf16_history = true;
    check_resume(o, nst::testing::rosenbrock_objective(n), x0, 6, 8);
  }
}

TEST_CASE("lbfgs: a corrupt or mismatched state is rejected", "[lbfgs]") {
  const int64_t n = 6;
  LbfgsOptions o;
  o.line_search = LineSearch::strong_wolfe;
  o.history = 2;
  std::vector<float> x(n, 0.0f);
  LbfgsState state(n, o);
  for (int i = 0; i < 4; ++i) lbfgs_step(state, x.data(), Quadratic(n, 1).objective());
  std::stringstream out;
  state.save_state(out);
  const std::string good = out.str();
  auto load = [&](const std::string& bytes) {
    std::stringstream in(bytes);
    LbfgsState target(n, LbfgsOptions{});
    target.load_state(in);
  };
  CHECK_NOTHROW(load(good));
  CHECK_THROWS_WITH(load(""), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(load(good.substr(0, good.size() - 9)), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(load("NSTADAM1" + good.substr(8)), Catch::Contains("not a state file"));
  std::string version = good;
  version[8] = 7;
  CHECK_THROWS_WITH(load(version), Catch::Contains("version"));
  for (size_t at : {size_t(12), good.size() / 2, good.size() - 20, good.size() - 1}) {
    std::string flipped = good;
    flipped[at] = char(flipped[at] ^ 0x10);
    INFO("byte " << at);
    CHECK_THROWS_AS(load(flipped), Error);
  }
  std::stringstream in(good);
  LbfgsState other_n(n + 1, LbfgsOptions{});
  CHECK_THROWS_WITH(other_n.load_state(in), Catch::Contains("n = 6"));
}
