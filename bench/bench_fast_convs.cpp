// The convolutions of the Johnson et al. feed-forward style network (Engstrom's
// fast-style-transfer: c9s1-32, d64, d128, R128 x10 convs, u64, u32, c9s1-3) at
// an S x S input, forward only, batch 1, no bias, TF "SAME" padding:
//
//   fsS_c9s1_3to32     conv 9x9 stride 1, 3 -> 32 at S
//   fsS_d64            conv 3x3 stride 2, 32 -> 64, S -> S/2
//   fsS_d128           conv 3x3 stride 2, 64 -> 128, S/2 -> S/4
//   fsS_r128           conv 3x3 stride 1, 128 -> 128 at S/4 (one of the 10 residual convs)
//   fsS_u64            conv_transpose 3x3 stride 2, 128 -> 64, S/4 -> S/2
//   fsS_u32            conv_transpose 3x3 stride 2, 64 -> 32, S/2 -> S
//   fsS_c9s1_32to3     conv 9x9 stride 1, 32 -> 3 at S
//
// for S = 512, 1024 (--filter fs1024_, --size 1024). GFLOP/s count 2 per
// multiply-add of the layer (for the transposed conv: of every input pixel with
// every tap, before the SAME crop).
#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench.hpp"
#include "nn/conv2d.hpp"
#include "nn/conv_transpose2d.hpp"
#include "tensor/check.hpp"

namespace nst::bench {

namespace {

struct FastConv {
  const char* name;
  bool transposed;
  int64_t C, OC, k, stride;
  int64_t in_div;  // input side = S / in_div
};

const FastConv kLayers[] = {
    {"c9s1_3to32", false, 3, 32, 9, 1, 1}, {"d64", false, 32, 64, 3, 2, 1},
    {"d128", false, 64, 128, 3, 2, 2},     {"r128", false, 128, 128, 3, 1, 4},
    {"u64", true, 128, 64, 3, 2, 4},       {"u32", true, 64, 32, 3, 2, 2},
    {"c9s1_32to3", false, 32, 3, 9, 1, 1},
};

Tensor uniform_tensor(const Shape& shape, uint64_t seed, float scale) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-scale, scale);
  Tensor t = Tensor::empty(shape);
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = dist(rng);
  return t;
}

Shape weight_shape(const FastConv& l) {
  return l.transposed ? Shape{l.C, l.OC, l.k, l.k} : Shape{l.OC, l.C, l.k, l.k};
}

Shape output_shape(const FastConv& l, int64_t h) {
  return l.transposed ? Shape{1, l.OC, h * l.stride, h * l.stride}
                      : Shape{1, l.OC, (h + l.stride - 1) / l.stride, (h + l.stride - 1) / l.stride};
}

void forward(const FastConv& l, Tensor& out, const Tensor& inp, const Tensor& weight) {
  const int64_t h = inp.dim(2), w = inp.dim(3);
  if (l.transposed)
    conv_transpose2d_forward(out, inp, weight, nullptr, ConvTranspose2dParams::same(l.k, l.k, l.stride));
  else
    conv2d_forward(out, inp, weight, nullptr, Conv2dParams::same(l.k, l.k, l.stride, h, w));
}

// The layer's op against its double reference on a 21 x 19 input.
std::string verify_layer(const FastConv& l) {
  const Tensor inp = uniform_tensor({1, l.C, 21, 19}, 1, 1.0f);
  const Tensor weight = uniform_tensor(weight_shape(l), 2, 0.1f);
  kernels::ConvGeometry g;
  if (l.transposed)
    g = conv_transpose2d_geometry(inp.shape(), weight.shape(),
                                  ConvTranspose2dParams::same(l.k, l.k, l.stride));
  else
    g = conv2d_geometry(inp.shape(), weight.shape(), Conv2dParams::same(l.k, l.k, l.stride, 21, 19));
  Tensor out = Tensor::empty({1, l.OC, g.OH, g.OW});
  forward(l, out, inp, weight);
  auto dbl = [](const Tensor& t) { return std::vector<double>(t.data(), t.data() + t.numel()); };
  const std::vector<double> inp_d = dbl(inp), weight_d = dbl(weight);
  std::vector<double> want(size_t(out.numel()));
  const double* no_bias = nullptr;
  if (l.transposed)
    conv_transpose2d_reference_forward(want.data(), inp_d.data(), weight_d.data(), no_bias, g);
  else
    conv2d_reference_forward(want.data(), inp_d.data(), weight_d.data(), no_bias, g);
  for (int64_t i = 0; i < out.numel(); ++i)
    if (!(std::abs(double(out[i]) - want[size_t(i)]) <= 1e-4))
      return str("element ", i, " = ", out[i], ", reference ", want[size_t(i)]);
  return "";
}

Case layer_case(const FastConv& l, int64_t size) {
  const int64_t h = size / l.in_div;
  Case c;
  c.name = str("fs", size, "_", l.name);
  c.params = {{"size", str(size)},  {"layer", l.name},    {"C", str(l.C)},
              {"OC", str(l.OC)},    {"H", str(h)},        {"k", str(l.k)},
              {"stride", str(l.stride)}, {"transposed", l.transposed ? "yes" : "no"}};
  const Shape out_shape = output_shape(l, h);
  const double positions = l.transposed ? double(h * h) : double(out_shape[2] * out_shape[3]);
  c.flops = 2.0 * double(l.C * l.OC * l.k * l.k) * positions;
  struct Data {
    Tensor inp, weight, out;
  };
  auto d = std::make_shared<Data>();
  c.verify = [l] { return verify_layer(l); };
  c.prepare = [d, l, h, out_shape] {
    d->inp = uniform_tensor({1, l.C, h, h}, 1, 1.0f);
    d->weight = uniform_tensor(weight_shape(l), 2, 0.1f);
    d->out = Tensor::empty(out_shape);
  };
  c.run = [d, l] { forward(l, d->out, d->inp, d->weight); };
  c.release = [d] { *d = Data{}; };
  return c;
}

}  // namespace

std::vector<Case> fast_conv_cases() {
  std::vector<Case> cases;
  for (int64_t size : {512, 1024})
    for (const FastConv& l : kLayers) cases.push_back(layer_case(l, size));
  return cases;
}

}  // namespace nst::bench
