#include "nn/style_mix.hpp"

#include "tensor/check.hpp"

namespace nst {

namespace {

// S and C of a table: [S, C], or [C] for the one row of a single-style network.
int64_t styles_of(const Tensor& t) { return t.rank() == 2 ? t.shape()[0] : 1; }
int64_t channels_of(const Tensor& t) { return t.rank() == 2 ? t.shape()[1] : t.shape()[0]; }

void check_shapes(const char* op, const Tensor& table, const Tensor& weights) {
  NST_CHECK((table.rank() == 2 && table.shape()[0] >= 1) || table.rank() == 1, op,
            ": table must be [S, C] (or [C], one style), got ", table.shape().to_string());
  NST_CHECK(weights.rank() == 2 && weights.shape()[1] == styles_of(table), op, ": weights ",
            weights.shape().to_string(), " must be [N, S] with S = ", styles_of(table),
            " (the table's styles)");
}

}  // namespace

// Tables are small (S styles x C channels, a few thousand values): plain loops,
// sums in double in a fixed order, so the result is the same on every machine.
void style_mix_forward(Tensor& out, const Tensor& table, const Tensor& weights) {
  check_shapes("style_mix", table, weights);
  const int64_t N = weights.shape()[0], S = styles_of(table), C = channels_of(table);
  NST_CHECK(out.shape() == (Shape{N, C}), "style_mix: out ", out.shape().to_string(), " must be ",
            Shape{N, C}.to_string());
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c) {
      double acc = 0.0;
      for (int64_t s = 0; s < S; ++s) acc += double(weights[n * S + s]) * double(table[s * C + c]);
      out[n * C + c] = static_cast<float>(acc);
    }
}

void style_mix_backward(Tensor& dtable, Tensor& dweights, const Tensor& dout, const Tensor& table,
                        const Tensor& weights) {
  check_shapes("style_mix_backward", table, weights);
  const int64_t N = weights.shape()[0], S = styles_of(table), C = channels_of(table);
  NST_CHECK(dout.shape() == (Shape{N, C}), "style_mix_backward: dout ", dout.shape().to_string(),
            " must be ", Shape{N, C}.to_string());
  NST_CHECK(!dtable.defined() || dtable.shape() == table.shape(), "style_mix_backward: dtable ",
            dtable.shape().to_string(), " must match the table ", table.shape().to_string());
  NST_CHECK(!dweights.defined() || dweights.shape() == weights.shape(),
            "style_mix_backward: dweights ", dweights.shape().to_string(),
            " must match the weights ", weights.shape().to_string());
  if (dtable.defined())
    for (int64_t s = 0; s < S; ++s)
      for (int64_t c = 0; c < C; ++c) {
        double acc = 0.0;
        for (int64_t n = 0; n < N; ++n) acc += double(weights[n * S + s]) * double(dout[n * C + c]);
        dtable[s * C + c] += static_cast<float>(acc);
      }
  if (dweights.defined())
    for (int64_t n = 0; n < N; ++n)
      for (int64_t s = 0; s < S; ++s) {
        double acc = 0.0;
        for (int64_t c = 0; c < C; ++c) acc += double(dout[n * C + c]) * double(table[s * C + c]);
        dweights[n * S + s] += static_cast<float>(acc);
      }
}

Var style_mix(Tape& tape, const Var& table, const Var& weights) {
  NST_CHECK(table.defined() && weights.defined(), "style_mix: undefined input");
  check_shapes("style_mix", table.value(), weights.value());
  Tensor out = Tensor::empty(Shape{weights.shape()[0], channels_of(table.value())});
  style_mix_forward(out, table.value(), weights.value());
  return tape.record("style_mix", out, {table, weights},
                     [table = table, weights = weights](const Tensor& dout) mutable {
                       Tensor dt = table.requires_grad() ? table.grad_accumulator() : Tensor();
                       Tensor dw = weights.requires_grad() ? weights.grad_accumulator() : Tensor();
                       style_mix_backward(dt, dw, dout, table.value(), weights.value());
                     });
}

}  // namespace nst
