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

ReluMask::ReluMask(const Tensor& out)
    : shape_(out.shape()),
      bits_(std::make_shared<std::vector<uint64_t>>(size_t(kernels::positive_bits_words(out.numel())))) {
  kernels::positive_bits(bits_->data(), out.data(), out.numel());
}

void ReluMask::check(const char* what, const Tensor& t) const {
  NST_CHECK(bits_ && t.defined() && t.shape() == shape_, "relu: ", what, " ",
            t.defined() ? t.shape().to_string() : std::string("(undefined)"),
            " does not match the mask ", bits_ ? shape_.to_string() : std::string("(empty)"));
}

void ReluMask::apply(Tensor& g) const {
  check("gradient", g);
  kernels::mask_by_bits(g.data(), bits_->data(), g.numel());
}

void ReluMask::backward(Tensor& dinp, const Tensor& dout) const {
  check("output gradient", dout);
  check("input gradient", dinp);
  kernels::add_masked_by_bits(dinp.data(), dout.data(), bits_->data(), dout.numel());
}

Var relu(Tape& tape, const Var& x) {
  NST_CHECK(x.defined() && x.has_value(), "relu: undefined input");
  Tensor out = Tensor::empty(x.shape());
  relu_forward(out, x.value());
  return tape.record("relu", out, {x}, [x = x, mask = ReluMask(out)](const Tensor& dout) mutable {
    mask.backward(x.grad_accumulator(), dout);
  }, {false});
}

}  // namespace nst
