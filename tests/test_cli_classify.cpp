// End-to-end tests of `nst classify` on the real VGG-19 weights with its
// classifier layers: known images get their ImageNet class (0-based ids).
#include "cli_util.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

struct Top1 {
  int64_t cls = -1;
  double p = 0;
};

Top1 classify_json(const std::string& image) {
  const CliRun r = run_nst(
      {"classify", shared_image("classify/" + image), "--json", "--weights", default_weights()});
  check_clean_exit(r);
  const io::Json j = io::parse_json(r.out, "nst classify --json");
  const auto& top = j.at("top").items();
  REQUIRE(top.size() == 5);
  double previous = 1.0, sum = 0.0;
  for (const io::Json& t : top) {  // sorted by probability
    const double p = t.at("p").as_number();
    CHECK(p <= previous);
    CHECK(t.at("class").as_int() >= 0);
    CHECK(t.at("class").as_int() < 1000);
    previous = p;
    sum += p;
  }
  CHECK(sum <= 1.0 + 1e-6);
  return {top[0].at("class").as_int(), top[0].at("p").as_number()};
}

}  // namespace

TEST_CASE("cli classify: cat1.jpg is a cat (281..285)", "[cli][cli-classify]") {
  NST_REQUIRE_SHARED("images/classify/cat1.jpg");
  NST_REQUIRE_WEIGHTS();
  const Top1 t = classify_json("cat1.jpg");
  INFO("top-1 class " << t.cls << " p " << t.p);
  CHECK(t.cls >= 281);
  CHECK(t.cls <= 285);
}

TEST_CASE("cli classify: dingo.jpg is a dingo (273) with p > 0.9", "[cli][cli-classify]") {
  NST_REQUIRE_SHARED("images/classify/dingo.jpg");
  NST_REQUIRE_WEIGHTS();
  const Top1 t = classify_json("dingo.jpg");
  CHECK(t.cls == 273);
  CHECK(t.p > 0.9);
}

TEST_CASE("cli classify: text output, --top", "[cli][cli-classify]") {
  NST_REQUIRE_SHARED("images/classify/dingo.jpg");
  NST_REQUIRE_WEIGHTS();
  const CliRun r = run_nst({"classify", shared_image("classify/dingo.jpg"), "--top", "2",
                            "--weights", default_weights()});
  check_clean_exit(r);
  // "%4d  %.4f" per line, best first.
  int cls = -1, lines = 0;
  double p = 0;
  REQUIRE(std::sscanf(r.out.c_str(), "%d %lf", &cls, &p) == 2);
  CHECK(cls == 273);
  CHECK(p > 0.9);
  for (char ch : r.out) lines += ch == '\n';
  CHECK(lines == 2);
  CHECK(r.out.rfind(" 273  0.9", 0) == 0);
}
