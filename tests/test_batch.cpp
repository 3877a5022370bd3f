// The split of a batch over machines (tools/batch.hpp): every input in exactly
// one shard for any count, the same shards whatever order the inputs were
// given in, shards of sizes differing by at most one, and --shard's spelling.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "tools/batch.hpp"

using nst::cli::parse_shard;
using nst::cli::Shard;
using nst::cli::shard_positions;

namespace {

// 23 names in no particular order, some in sub-folders.
std::vector<std::string> photos() {
  std::vector<std::string> p;
  for (int k = 0; k < 20; ++k) p.push_back("in/" + std::to_string((k * 7) % 20) + ".jpg");
  p.insert(p.end(), {"in/b/x.png", "in/a/x.png", "other/z.jpg"});
  return p;
}

// Shard s's inputs by name.
std::vector<std::string> shard_names(const std::vector<std::string>& inputs, const Shard& s) {
  std::vector<std::string> names;
  for (size_t p : shard_positions(inputs, s)) names.push_back(inputs.at(p));
  return names;
}

}  // namespace

TEST_CASE("batch: every input is in exactly one shard for 1 to 7 shards", "[batch]") {
  const std::vector<std::string> inputs = photos();
  for (int64_t n = 1; n <= 7; ++n) {
    INFO(n << " shards");
    std::map<size_t, int> seen;
    size_t smallest = inputs.size(), largest = 0;
    for (int64_t i = 0; i < n; ++i) {
      const std::vector<size_t> mine = shard_positions(inputs, {i, n});
      smallest = std::min(smallest, mine.size());
      largest = std::max(largest, mine.size());
      for (size_t p : mine) {
        REQUIRE(p < inputs.size());
        ++seen[p];
      }
    }
    CHECK(seen.size() == inputs.size());
    for (const auto& [p, count] : seen) CHECK(count == 1);
    CHECK(largest - smallest <= 1);
  }
}

TEST_CASE("batch: inputs given in another order make the same shards", "[batch]") {
  const std::vector<std::string> inputs = photos();
  std::vector<std::string> shuffled = inputs;
  std::mt19937 rng(7);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    for (int64_t n = 1; n <= 7; ++n)
      for (int64_t i = 0; i < n; ++i) {
        INFO("shard " << i << "/" << n << ", round " << round);
        CHECK(shard_names(shuffled, {i, n}) == shard_names(inputs, {i, n}));
      }
  }
}

TEST_CASE("batch: a shard takes every N-th of the inputs sorted by path", "[batch]") {
  const std::vector<std::string> inputs{"d.jpg", "b.jpg", "a.jpg", "e.jpg", "c.jpg"};
  CHECK(shard_names(inputs, {0, 2}) == std::vector<std::string>{"a.jpg", "c.jpg", "e.jpg"});
  CHECK(shard_names(inputs, {1, 2}) == std::vector<std::string>{"b.jpg", "d.jpg"});
  CHECK(shard_names(inputs, {0, 1}) ==
        std::vector<std::string>{"a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"});
}

TEST_CASE("batch: more shards than inputs leaves some empty and loses none", "[batch]") {
  const std::vector<std::string> inputs{"b.jpg", "a.jpg", "c.jpg"};
  size_t total = 0;
  for (int64_t i = 0; i < 10; ++i) {
    const size_t count = shard_positions(inputs, {i, 10}).size();
    CHECK(count == (i < 3 ? 1u : 0u));
    total += count;
  }
  CHECK(total == 3);
  CHECK(shard_positions({}, {0, 1}).empty());
}

TEST_CASE("batch: --shard is I/N with 0 <= I < N <= 10000", "[batch]") {
  const Shard a = parse_shard("2/3", "nst fast");
  CHECK(a.index == 2);
  CHECK(a.count == 3);
  CHECK(a.str() == "2/3");
  CHECK(parse_shard("0/1", "p").count == 1);
  CHECK(parse_shard("9999/10000", "p").index == 9999);
  CHECK(parse_shard("007/8", "p").index == 7);
  for (const std::string bad :
       {"3/3", "-1/2", "a/b", "1/0", "", "1", "1/", "/2", "0/10001", "1/2/3", " 1/2", "1/2 ",
        "+1/2", "1.0/2", "99999999999999999999/2"}) {
    INFO("--shard '" << bad << "'");
    CHECK_THROWS_WITH(parse_shard(bad, "nst fast"),
                      Catch::StartsWith("nst fast: --shard '" + bad +
                                        "': expected I/N with 0 <= I < N <= 10000"));
  }
}
