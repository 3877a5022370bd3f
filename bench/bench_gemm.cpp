// GEMM at the shapes VGG-19 convolutions give (im2col, batch 1):
//   forward        W[OC x CKK] col[CKK x HW]        -> M=OC,  N=HW,  K=CKK  (NN)
//   grad of input  Wᵀ dout[OC x HW]                  -> M=CKK, N=HW,  K=OC   (TN)
//   grad of weight dout colᵀ                         -> M=OC,  N=CKK, K=HW   (NT)
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench.hpp"
#include "nn/kernels/gemm.hpp"
#include "tensor/check.hpp"

namespace nst::bench {

namespace {

struct GemmShape {
  bool trans_a, trans_b;
  int64_t M, N, K;
};

std::vector<float> random_floats(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Inputs of one shape, with minimal leading dimensions.
struct GemmData {
  GemmShape s;
  std::vector<float> A, B, C;
  explicit GemmData(const GemmShape& shape)
      : s(shape),
        A(random_floats(s.M * s.K, 1)),
        B(random_floats(s.K * s.N, 2)),
        C(static_cast<size_t>(s.M * s.N), 0.0f) {}
  int64_t lda() const { return s.trans_a ? s.M : s.K; }
  int64_t ldb() const { return s.trans_b ? s.K : s.N; }
  void run_fast() {
    kernels::gemm(s.trans_a, s.trans_b, s.M, s.N, s.K, 1.0f, A.data(), lda(), B.data(), ldb(),
                  0.0f, C.data(), s.N);
  }
};

// gemm against gemm_reference on a smaller shape with the same transposes,
// big enough to have several tiles, K blocks and edges.
std::string verify_gemm(bool trans_a, bool trans_b) {
  GemmData d({trans_a, trans_b, 203, 611, 517});
  d.run_fast();
  std::vector<float> want(d.C.size());
  kernels::gemm_reference(trans_a, trans_b, d.s.M, d.s.N, d.s.K, 1.0f, d.A.data(), d.lda(),
                          d.B.data(), d.ldb(), 0.0f, want.data(), d.s.N);
  for (size_t i = 0; i < want.size(); ++i) {
    const float tol = 1e-5f * static_cast<float>(d.s.K);
    if (!(std::abs(d.C[i] - want[i]) <= tol))
      return str("C[", i / static_cast<size_t>(d.s.N), "][", i % static_cast<size_t>(d.s.N),
                 "] = ", d.C[i], ", reference ", want[i]);
  }
  return "";
}

Case gemm_case(const GemmShape& s) {
  const std::string op = std::string(s.trans_a ? "T" : "N") + (s.trans_b ? "T" : "N");
  Case c;
  c.name = str("gemm_", op, "_", s.M, "x", s.N, "x", s.K);
  c.params = {{"op", op}, {"M", str(s.M)}, {"N", str(s.N)}, {"K", str(s.K)}};
  c.flops = 2.0 * static_cast<double>(s.M) * static_cast<double>(s.N) * static_cast<double>(s.K);
  auto data = std::make_shared<std::unique_ptr<GemmData>>();
  c.verify = [s] { return verify_gemm(s.trans_a, s.trans_b); };
  c.prepare = [data, s] { *data = std::make_unique<GemmData>(s); };
  c.run = [data] { (*data)->run_fast(); };
  c.release = [data] { data->reset(); };
  return c;
}

}  // namespace

std::vector<Case> gemm_cases() {
  // (C*3*3, OC, H*W) of VGG-19 layers: conv1_2 at 256 x 256, conv3_1 and conv4_2 at 512 x 512.
  struct Layer {
    int64_t ckk, oc, hw;
  };
  const Layer layers[] = {{576, 64, 65536}, {1152, 256, 16384}, {4608, 512, 4096}};
  std::vector<Case> cases;
  for (const Layer& l : layers) cases.push_back(gemm_case({false, false, l.oc, l.hw, l.ckk}));
  for (const Layer& l : layers) cases.push_back(gemm_case({true, false, l.ckk, l.hw, l.oc}));
  for (const Layer& l : layers) cases.push_back(gemm_case({false, true, l.oc, l.ckk, l.hw}));
  return cases;
}

}  // namespace nst::bench
