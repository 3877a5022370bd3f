#include "testing.hpp"

#include <atomic>
#include <mutex>

#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "tensor/check.hpp"

using namespace nst;

TEST_CASE("SIMD levels: parse, support, forcing", "[simd]") {
  using kernels::SimdLevel;
  CHECK(kernels::parse_simd_level("scalar") == SimdLevel::scalar);
  CHECK_THROWS_WITH(kernels::parse_simd_level("avx9"), Catch::Contains("unknown SIMD level"));
  auto levels = kernels::supported_simd_levels();
  REQUIRE(!levels.empty());
  CHECK(levels.front() == SimdLevel::scalar);
  {
    kernels::ScopedSimdLevel s(SimdLevel::scalar);
    CHECK(kernels::simd_level() == SimdLevel::scalar);
  }
#if !defined(NST_HAVE_NEON)
  CHECK_THROWS_WITH(kernels::set_simd_level(SimdLevel::neon), Catch::Contains("not supported"));
#endif
}

TEST_CASE("parallel_for covers every index once, in fixed chunks", "[threads]") {
  for (int threads : {1, 2}) {
    testing::with_threads(threads, [&] {
      std::vector<std::atomic<int>> hits(1001);
      std::vector<int64_t> starts;
      std::mutex m;
      kernels::parallel_for(0, 1001, 64, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) hits[static_cast<size_t>(i)]++;
        std::lock_guard<std::mutex> lock(m);
        starts.push_back(lo);
      });
      for (auto& h : hits) CHECK(h.load() == 1);
      CHECK(starts.size() == 16);
      for (int64_t s : starts) CHECK(s % 64 == 0);
    });
  }
  CHECK_THROWS_AS(kernels::parallel_for(0, 10, 0, [](int64_t, int64_t) {}), Error);
}
