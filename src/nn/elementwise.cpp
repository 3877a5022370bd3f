#include "nn/elementwise.hpp"

#include <string>

#include "nn/kernels/eltwise.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void check_same(const char* op, const char* name_a, const Tensor& a, const char* name_b,
                const Tensor& b) {
  NST_CHECK(a.shape() == b.shape(), op, ": ", name_a, " ", a.shape().to_string(), " and ", name_b,
            " ", b.shape().to_string(), " must have the same shape");
}

// grad += s * dout, skipped when grad is undefined (no gradient wanted).
void accumulate(const char* op, Tensor& grad, float s, const Tensor& dout) {
  if (!grad.defined()) return;
  check_same(op, "gradient", grad, "dout", dout);
  kernels::axpy(grad.data(), s, dout.data(), grad.data(), dout.numel());
}

}  // namespace

void add_forward(Tensor& out, const Tensor& a, const Tensor& b) {
  check_same("add", "a", a, "b", b);
  check_same("add", "out", out, "a", a);
  kernels::axpy(out.data(), 1.0f, b.data(), a.data(), a.numel());
}

void add_backward(Tensor& da, Tensor& db, const Tensor& dout) {
  accumulate("add_backward", da, 1.0f, dout);
  accumulate("add_backward", db, 1.0f, dout);
}

void sub_forward(Tensor& out, const Tensor& a, const Tensor& b) {
  check_same("sub", "a", a, "b", b);
  check_same("sub", "out", out, "a", a);
  kernels::axpy(out.data(), -1.0f, b.data(), a.data(), a.numel());
}

void sub_backward(Tensor& da, Tensor& db, const Tensor& dout) {
  accumulate("sub_backward", da, 1.0f, dout);
  accumulate("sub_backward", db, -1.0f, dout);
}

void scale_forward(Tensor& out, const Tensor& x, float s) { affine_forward(out, x, s, 0.0f); }

void scale_backward(Tensor& dx, const Tensor& dout, float s) {
  accumulate("scale_backward", dx, s, dout);
}

void affine_forward(Tensor& out, const Tensor& x, float s, float t) {
  check_same("affine", "out", out, "x", x);
  kernels::affine(out.data(), x.data(), s, t, x.numel());
}

void affine_backward(Tensor& dx, const Tensor& dout, float s) {
  accumulate("affine_backward", dx, s, dout);
}

void tanh_forward(Tensor& out, const Tensor& x) {
  check_same("tanh", "out", out, "x", x);
  kernels::tanh(out.data(), x.data(), x.numel());
}

void tanh_backward(Tensor& dx, const Tensor& dout, const Tensor& out) {
  check_same("tanh_backward", "dout", dout, "out", out);
  if (!dx.defined()) return;
  check_same("tanh_backward", "dx", dx, "out", out);
  kernels::tanh_backward(dx.data(), dout.data(), out.data(), out.numel());
}

void weighted_sum_forward(Tensor& out, const std::vector<Tensor>& scalars,
                          const std::vector<float>& weights) {
  NST_CHECK(scalars.size() == weights.size(), "weighted_sum: ", scalars.size(), " scalars but ",
            weights.size(), " weights");
  NST_CHECK(out.numel() == 1, "weighted_sum: out must be a scalar, got ", out.shape().to_string());
  double sum = 0.0;
  for (size_t i = 0; i < scalars.size(); ++i) {
    NST_CHECK(scalars[i].numel() == 1, "weighted_sum: term ", i, " must be a scalar, got ",
              scalars[i].shape().to_string());
    sum += double(weights[i]) * double(scalars[i][0]);
  }
  out[0] = static_cast<float>(sum);
}

void weighted_sum_backward(const std::vector<Tensor*>& dscalars, const Tensor& dout,
                           const std::vector<float>& weights) {
  NST_CHECK(dscalars.size() == weights.size(), "weighted_sum_backward: ", dscalars.size(),
            " gradients but ", weights.size(), " weights");
  NST_CHECK(dout.numel() == 1, "weighted_sum_backward: dout must be a scalar, got ",
            dout.shape().to_string());
  for (size_t i = 0; i < dscalars.size(); ++i) {
    Tensor* ds = dscalars[i];
    if (!ds || !ds->defined()) continue;
    NST_CHECK(ds->numel() == 1, "weighted_sum_backward: gradient ", i, " must be a scalar, got ",
              ds->shape().to_string());
    (*ds)[0] += weights[i] * dout[0];
  }
}

// ------------------------------------------------------------ autograd wrappers

namespace {

Tensor grad_if_wanted(Var& v) { return v.requires_grad() ? v.grad_accumulator() : Tensor(); }

}  // namespace

Var add(Tape& tape, const Var& a, const Var& b) {
  NST_CHECK(a.defined() && b.defined(), "add: undefined input");
  Tensor out = Tensor::empty(a.shape());
  add_forward(out, a.value(), b.value());
  return tape.record("add", out, {a, b}, [a = a, b = b](const Tensor& dout) mutable {
    Tensor da = grad_if_wanted(a), db = grad_if_wanted(b);
    add_backward(da, db, dout);
  });
}

Var sub(Tape& tape, const Var& a, const Var& b) {
  NST_CHECK(a.defined() && b.defined(), "sub: undefined input");
  Tensor out = Tensor::empty(a.shape());
  sub_forward(out, a.value(), b.value());
  return tape.record("sub", out, {a, b}, [a = a, b = b](const Tensor& dout) mutable {
    Tensor da = grad_if_wanted(a), db = grad_if_wanted(b);
    sub_backward(da, db, dout);
  });
}

Var scale(Tape& tape, const Var& x, float s) {
  NST_CHECK(x.defined(), "scale: undefined input");
  Tensor out = Tensor::empty(x.shape());
  scale_forward(out, x.value(), s);
  return tape.record("scale", out, {x}, [x = x, s](const Tensor& dout) mutable {
    scale_backward(x.grad_accumulator(), dout, s);
  });
}

Var affine(Tape& tape, const Var& x, float s, float t) {
  NST_CHECK(x.defined(), "affine: undefined input");
  Tensor out = Tensor::empty(x.shape());
  affine_forward(out, x.value(), s, t);
  return tape.record("affine", out, {x}, [x = x, s](const Tensor& dout) mutable {
    affine_backward(x.grad_accumulator(), dout, s);
  });
}

Var tanh(Tape& tape, const Var& x) {
  NST_CHECK(x.defined(), "tanh: undefined input");
  Tensor out = Tensor::empty(x.shape());
  tanh_forward(out, x.value());
  return tape.record("tanh", out, {x}, [x = x, out](const Tensor& dout) mutable {
    tanh_backward(x.grad_accumulator(), dout, out);
  });
}

Var weighted_sum(Tape& tape, const std::vector<Var>& scalars, const std::vector<float>& weights) {
  NST_CHECK(!scalars.empty(), "weighted_sum: no terms");
  std::vector<Tensor> values;
  for (const Var& s : scalars) {
    NST_CHECK(s.defined(), "weighted_sum: undefined term");
    values.push_back(s.value());
  }
  Tensor out = Tensor::empty(Shape{1});
  weighted_sum_forward(out, values, weights);
  return tape.record("weighted_sum", out, scalars,
                     [scalars = scalars, weights](const Tensor& dout) mutable {
                       std::vector<Tensor> grads;
                       grads.reserve(scalars.size());
                       for (Var& s : scalars) grads.push_back(grad_if_wanted(s));
                       std::vector<Tensor*> dscalars;
                       for (Tensor& g : grads) dscalars.push_back(&g);
                       weighted_sum_backward(dscalars, dout, weights);
                     });
}

}  // namespace nst
