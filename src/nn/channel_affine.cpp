#include "nn/channel_affine.hpp"

#include <algorithm>

#include "nn/kernels/eltwise.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_args(const char* op, const Tensor& x, const ChannelAffine& a) {
  NST_CHECK(x.rank() == 4, op, ": expected [N, C, H, W], got ", x.shape().to_string());
  const size_t C = size_t(x.dim(1));
  NST_CHECK(a.scale.size() == C && a.shift.size() == C && a.from.size() == C, op, ": ",
            a.scale.size(), " scales, ", a.shift.size(), " shifts and ", a.from.size(),
            " sources for ", C, " channels");
  std::vector<int64_t> sorted = a.from;
  std::sort(sorted.begin(), sorted.end());
  for (size_t c = 0; c < C; ++c)
    NST_CHECK(sorted[c] == int64_t(c), op, ": the channel sources are not a permutation");
}

}  // namespace

void channel_affine_forward(Tensor& out, const Tensor& x, const ChannelAffine& a) {
  check_args("channel_affine", x, a);
  NST_CHECK(out.shape() == x.shape() && out.data() != x.data(), "channel_affine: out ",
            out.shape().to_string(), " must be a separate tensor of x's shape ",
            x.shape().to_string());
  const int64_t N = x.dim(0), C = x.dim(1), M = x.dim(2) * x.dim(3);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      kernels::affine(out.data() + (n * C + c) * M, x.data() + (n * C + a.from[size_t(c)]) * M,
                      a.scale[size_t(c)], a.shift[size_t(c)], M);
}

void channel_affine_backward(Tensor& dx, const Tensor& dout, const ChannelAffine& a) {
  check_args("channel_affine_backward", dout, a);
  NST_CHECK(dx.shape() == dout.shape(), "channel_affine_backward: dx ", dx.shape().to_string(),
            " and dout ", dout.shape().to_string(), " differ");
  const int64_t N = dout.dim(0), C = dout.dim(1), M = dout.dim(2) * dout.dim(3);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      float* d = dx.data() + (n * C + a.from[size_t(c)]) * M;
      kernels::axpy(d, a.scale[size_t(c)], dout.data() + (n * C + c) * M, d, M);
    }
}

Var channel_affine(Tape& tape, const Var& x, const ChannelAffine& a) {
  NST_CHECK(x.defined() && x.has_value(), "channel_affine: undefined input");
  Tensor out = Tensor::empty(x.shape());
  channel_affine_forward(out, x.value(), a);
  return tape.record("channel_affine", out, {x}, [x = x, a](const Tensor& dout) mutable {
    channel_affine_backward(x.grad_accumulator(), dout, a);
  }, {false});
}

}  // namespace nst
