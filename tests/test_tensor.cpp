#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "tensor/autograd.hpp"
#include "tensor/check.hpp"
#include "tensor/tensor.hpp"

using namespace nst;

TEST_CASE("Shape basics and errors", "[tensor]") {
  Shape s{2, 3, 4, 5};
  CHECK(s.rank() == 4);
  CHECK(s.numel() == 120);
  CHECK(s.to_string() == "[2, 3, 4, 5]");
  CHECK_THROWS_WITH(s[4], Catch::Contains("out of range"));
  CHECK_THROWS_AS((Shape{1, -2}), Error);
  CHECK_THROWS_AS((Shape{1, 2, 3, 4, 5, 6}), Error);
}

TEST_CASE("Tensor storage is aligned, shared and pooled", "[tensor]") {
  Tensor a = Tensor::full({3, 5}, 2.0f);
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % 64 == 0);
  Tensor b = a;  // shares
  b[0] = 7.0f;
  CHECK(a[0] == 7.0f);
  Tensor c = a.clone();
  c[0] = 1.0f;
  CHECK(a[0] == 7.0f);
  CHECK_THROWS_WITH(a.reshape({4, 4}), Catch::Contains("reshape"));

  // Steady state: the same sizes requested again come from the pool.
  auto& pool = BufferPool::global();
  for (int warm = 0; warm < 2; ++warm) {
    Tensor x = Tensor::empty({1, 64, 17, 19});
    Tensor y = Tensor::empty({1, 64, 17, 19});
  }
  const int64_t before = pool.fresh_allocations();
  for (int it = 0; it < 10; ++it) {
    Tensor x = Tensor::empty({1, 64, 17, 19});
    Tensor y = Tensor::zeros({1, 64, 17, 19});
  }
  CHECK(pool.fresh_allocations() == before);
  CHECK_THROWS_WITH(Tensor::empty({int64_t{1} << 20, int64_t{1} << 20}), Catch::Contains("cannot allocate"));
}

TEST_CASE("Tensor: scratch borrows the smallest idle buffer that holds it", "[tensor]") {
  auto& pool = BufferPool::global();
  // Sizes no other test uses, so that the idle buffers are this test's.
  const int64_t big = 1000003, bigger = 1000033, small = 77777;
  {
    Tensor a = Tensor::empty({big});
    Tensor b = Tensor::empty({bigger});
  }  // both idle now
  const int64_t fresh = pool.fresh_allocations();
  const int64_t cached = pool.cached_bytes();
  {
    Tensor s = Tensor::scratch(small);  // served by `big`, the smaller of the two
    CHECK(s.numel() == small);
    CHECK(pool.fresh_allocations() == fresh);
    CHECK(pool.cached_bytes() == cached - big * int64_t(sizeof(float)));
    Tensor t = Tensor::scratch(big + 1);  // only `bigger` holds it
    CHECK(pool.fresh_allocations() == fresh);
    Tensor u = Tensor::scratch(bigger);  // nothing idle holds it: a fresh buffer
    CHECK(pool.fresh_allocations() == fresh + 1);
  }
  // Each buffer went back under its own size: exact requests find them again.
  const int64_t fresh2 = pool.fresh_allocations();
  {
    Tensor a = Tensor::empty({big});
    Tensor b = Tensor::empty({bigger});
  }
  CHECK(pool.fresh_allocations() == fresh2);
  // An exact request never takes a larger buffer.
  { Tensor c = Tensor::empty({small}); }
  CHECK(pool.fresh_allocations() == fresh2 + 1);
}

namespace {
// The THPeligible flag of the mapping that holds p, from /proc/self/smaps; -1
// when there is no such line (an old kernel).
int thp_eligible(const void* p) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = a >= lo && a < hi;
      continue;
    }
    if (inside && line.rfind("THPeligible:", 0) == 0) return std::atoi(line.c_str() + 12);
  }
  return -1;
}
}  // namespace

TEST_CASE("Tensor: buffers of a huge page or more are 2 MiB aligned, marked for THP, reused, freed",
          "[tensor]") {
  auto& pool = BufferPool::global();
  const int64_t huge = BufferPool::huge_page_bytes();
  // Just over one huge page and a bit (a 4 KiB tail), and just under one.
  const int64_t floats = (int64_t{2} << 20) / 4 + 1024 + 3, under = (int64_t{2} << 20) / 4 - 16;
  const void* first = nullptr;
  {
    Tensor t = Tensor::empty({floats});
    Tensor s = Tensor::empty({under});
    CHECK(reinterpret_cast<uintptr_t>(t.data()) % 64 == 0);
    CHECK(reinterpret_cast<uintptr_t>(s.data()) % 64 == 0);
    for (int64_t i = 0; i < floats; ++i) t[i] = float(i % 1000);  // every byte is ours
    CHECK(t[floats - 1] == float((floats - 1) % 1000));
    first = t.data();
    if (huge == 0) {
      WARN("huge-page buffers are off in this build (not Linux, or AddressSanitizer)");
    } else {
      CHECK(huge == (int64_t{2} << 20));
      CHECK(reinterpret_cast<uintptr_t>(t.data()) % uintptr_t(huge) == 0);
      std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
      std::string modes((std::istreambuf_iterator<char>(thp)), std::istreambuf_iterator<char>());
      const int eligible = thp_eligible(t.data());
      if (modes.empty() || modes.find("[never]") != std::string::npos || eligible < 0)
        WARN("transparent huge pages are off or not reported here: " << modes);
      else
        CHECK(eligible == 1);
    }
  }
  // Idle now: the same size comes back from the pool, then release frees it.
  const int64_t fresh = pool.fresh_allocations();
  {
    Tensor t = Tensor::empty({floats});
    CHECK(t.data() == first);
  }
  CHECK(pool.fresh_allocations() == fresh);
  pool.release_cached();
  CHECK(pool.cached_bytes() == 0);
  {
    Tensor t = Tensor::full({floats}, 3.0f);
    CHECK(t[floats - 1] == 3.0f);
  }
  CHECK(pool.fresh_allocations() == fresh + 1);
}

TEST_CASE("Autograd: gradients accumulate, frozen inputs get none", "[autograd]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2}, {1.0f, 2.0f}));
  Var w = tape.constant(Tensor::from({2}, {3.0f, 4.0f}));
  // y = sum(x * w) + sum(x * x), by hand-written nodes.
  auto dot = [&](Var a, Var b) {
    Tensor out = Tensor::from({1}, {a.value()[0] * b.value()[0] + a.value()[1] * b.value()[1]});
    Tensor av = a.value(), bv = b.value();
    return tape.record("dot", out, {a, b}, [a, b, av, bv](const Tensor& dout) mutable {
      if (a.requires_grad())
        for (int i = 0; i < 2; ++i) a.grad_accumulator()[i] += dout[0] * bv[i];
      if (b.requires_grad())
        for (int i = 0; i < 2; ++i) b.grad_accumulator()[i] += dout[0] * av[i];
    });
  };
  Var y1 = dot(x, w);
  Var y2 = dot(x, x);
  Var y = tape.record("add", Tensor::from({1}, {y1.value()[0] + y2.value()[0]}), {y1, y2},
                      [y1, y2](const Tensor& dout) mutable {
                        y1.grad_accumulator()[0] += dout[0];
                        y2.grad_accumulator()[0] += dout[0];
                      });
  CHECK(tape.size() == 3);
  tape.backward(y);
  REQUIRE(x.grad().defined());
  CHECK(x.grad()[0] == Approx(3.0f + 2.0f));
  CHECK(x.grad()[1] == Approx(4.0f + 4.0f));
  CHECK_FALSE(w.grad().defined());
  CHECK(tape.size() == 0);
  // backward() released the intermediate values; leaves keep theirs.
  CHECK_FALSE(y1.value().defined());
  CHECK(x.value().defined());
  CHECK(w.value().defined());

  // Ops on constants only record nothing.
  Var k = dot(w, w);
  CHECK_FALSE(k.requires_grad());
  CHECK(tape.size() == 0);
  CHECK_THROWS_WITH(tape.backward(x), Catch::Contains("scalar"));
}

TEST_CASE("Autograd: a value goes after its last reader's backward, not at its own turn",
          "[autograd]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2}, {1.0f, -2.0f}));
  // a = 2x (recorded); s = sum(a) reads only a's shape; q = sum(a * a) reads a.
  Var a = tape.record("double", Tensor::from({2}, {2.0f, -4.0f}), {x}, [x](const Tensor& d) mutable {
    for (int i = 0; i < 2; ++i) x.grad_accumulator()[i] += 2.0f * d[i];
  });
  bool checked_before = false, checked_after = false;
  // Recorded before q, so its backward runs after q's: a's value must be gone by then.
  Var s = tape.record("sum", Tensor::from({1}, {-2.0f}), {a}, [a, &checked_after](const Tensor& d) mutable {
    checked_after = true;
    CHECK_FALSE(a.has_value());
    CHECK(a.shape() == Shape{2});  // the shape stays
    for (int i = 0; i < 2; ++i) a.grad_accumulator()[i] += d[0];
  }, {false});
  Var q = tape.record("sumsq", Tensor::from({1}, {20.0f}), {a}, [a, &checked_before](const Tensor& d) mutable {
    checked_before = true;
    REQUIRE(a.has_value());  // its only reader: still there
    for (int i = 0; i < 2; ++i) a.grad_accumulator()[i] += 2.0f * a.value()[i] * d[0];
  });
  Var y = tape.record("add", Tensor::from({1}, {18.0f}), {s, q}, [s, q](const Tensor& d) mutable {
    s.grad_accumulator()[0] += d[0];
    q.grad_accumulator()[0] += d[0];
  });
  tape.backward(y);
  CHECK(checked_before);
  CHECK(checked_after);
  // dy/dx = 2 (1 + 2a) = 2 + 8x
  CHECK(x.grad()[0] == Approx(10.0f));
  CHECK(x.grad()[1] == Approx(-14.0f));
  CHECK_THROWS_AS(tape.record("bad", Tensor::from({1}, {0.0f}), {x}, [](const Tensor&) {}, {true, false}),
                  Error);
}

TEST_CASE("Autograd: grad_buffer is fresh (to write) first, the gradient so far after",
          "[autograd]") {
  Tape tape;
  Var x = tape.variable(Tensor::from({2}, {1.0f, 2.0f}));
  bool accumulate = true;
  Tensor& g = x.grad_buffer(accumulate);
  CHECK_FALSE(accumulate);
  g[0] = 3.0f, g[1] = 4.0f;
  Tensor& again = x.grad_buffer(accumulate);
  CHECK(accumulate);
  CHECK(again.data() == g.data());
  CHECK(x.grad()[1] == 4.0f);
}
