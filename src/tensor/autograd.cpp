#include "tensor/autograd.hpp"

#include "tensor/check.hpp"

namespace nst {

Tensor& Var::grad_buffer(bool& accumulate) {
  NST_CHECK(node_ != nullptr, "grad: undefined Var");
  accumulate = node_->grad.defined();
  if (!accumulate) node_->grad = Tensor::empty(node_->shape);
  return node_->grad;
}

Tensor& Var::grad_accumulator() {
  bool accumulate = false;
  Tensor& g = grad_buffer(accumulate);
  if (!accumulate) g.zero();
  return g;
}

Var Tape::constant(Tensor value) {
  auto node = std::make_shared<Node>();
  node->shape = value.shape();
  node->value = std::move(value);
  return Var(std::move(node));
}

Var Tape::variable(Tensor value) {
  auto node = std::make_shared<Node>();
  node->shape = value.shape();
  node->value = std::move(value);
  node->requires_grad = true;
  return Var(std::move(node));
}

Var Tape::record(const char* op, Tensor value, std::initializer_list<Var> inputs,
                 std::function<void(const Tensor& dout)> backward, BackwardReads reads) {
  return record(op, std::move(value), std::vector<Var>(inputs), std::move(backward),
                std::move(reads));
}

Var Tape::record(const char* op, Tensor value, const std::vector<Var>& inputs,
                 std::function<void(const Tensor& dout)> backward, BackwardReads reads) {
  auto node = std::make_shared<Node>();
  node->shape = value.shape();
  node->value = std::move(value);
  node->op = op;
  for (const Var& in : inputs) {
    NST_CHECK(in.defined(), op, ": undefined input");
    node->requires_grad = node->requires_grad || in.requires_grad();
  }
  if (node->requires_grad) {
    node->backward = std::move(backward);
    node->recorded = true;
    NST_CHECK(reads.empty() || reads.size() == inputs.size(), op, ": ", reads.size(),
              " read flags for ", inputs.size(), " inputs");
    for (size_t i = 0; i < inputs.size(); ++i)
      if (inputs[i].node_->recorded && (reads.empty() || reads[i])) {
        node->read_inputs.push_back(inputs[i].node_.get());
        ++inputs[i].node_->pending_readers;
      }
    nodes_.push_back(node);
  }
  return Var(std::move(node));
}

void Tape::backward(const Var& loss) {
  NST_CHECK(loss.defined() && loss.value().numel() == 1, "backward: the loss must be a scalar, got ",
            loss.defined() ? loss.shape().to_string() : std::string("an undefined Var"));
  if (!loss.requires_grad()) return;  // nothing depends on a variable
  loss.node_->grad = Tensor::full(loss.shape(), 1.0f);
  for (auto it = nodes_.rbegin(); it != nodes_.rend(); ++it) {
    Node& node = **it;
    if (node.grad.defined() && node.backward) node.backward(node.grad);
    // Release what this node held: its closure (captured activations), its
    // gradient and its value; every node that could read them (its consumers)
    // is later on the tape and already done. Leaves are not on the tape, so
    // their values and gradients stay.
    node.backward = nullptr;
    node.grad = Tensor();
    node.value = Tensor();
    // An input whose last reader this was needs its value no more (its own
    // backward reads only its gradient): free it now, not at its turn.
    for (Node* in : node.read_inputs)
      if (--in->pending_readers == 0) in->value = Tensor();
    node.read_inputs.clear();
  }
  nodes_.clear();
}

}  // namespace nst
