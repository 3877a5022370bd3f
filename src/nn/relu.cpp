#include "nn/relu.hpp"

#include "nn/kernels/eltwise.hpp"
#include "tensor/check.hpp"

namespace nst {

void relu_forward(Tensor& out, const Tensor& inp) {
  NST_CHECK(out.shape() == inp.shape(), "relu: out ", out.shape().to_string(), " and inp ",
            inp.shape().to_string(), " differ");
  kernels::relu(out.data(), inp.data(), inp.numel());
}

void relu_backward(Tensor& dinp, const Tensor& dout, const Tensor& out) {
  NST_CHECK(dinp.shape() == out.shape() && dout.shape() == out.shape(), "relu_backward: dinp ",
            dinp.shape().to_string(), ", dout ", dout.shape().to_string(), " and out ",
            out.shape().to_string(), " must match");
  kernels::relu_backward(dinp.data(), dout.data(), out.data(), out.numel());
}

Var relu(Tape& tape, const Var& x) {
  NST_CHECK(x.defined(), "relu: undefined input");
  Tensor out = Tensor::empty(x.shape());
  relu_forward(out, x.value());
  return tape.record("relu", out, {x}, [x = x, out](const Tensor& dout) mutable {
    relu_backward(x.grad_accumulator(), dout, out);
  });
}

}  // namespace nst
