// Reverse-mode automatic differentiation on a tape.
//
//   Tape tape;
//   Var x = tape.variable(image);          // a leaf that wants a gradient
//   Var w = tape.constant(weight);         // frozen: never gets a gradient
//   Var y = conv2d(tape, x, w, b, p);      // each op records one node...
//   Var loss = mse(tape, y, target);
//   tape.backward(loss);                   // ...replayed in reverse here
//   x.grad();                              // dloss/dimage
//
// Nodes are appended in execution order, so the tape is already a topological
// order and backward is one loop over it in reverse: no recursion, no sort.
// An op whose inputs need no gradient records nothing (its result is a
// constant), so a frozen network costs no backward work or memory beyond what
// the image's gradient needs.
//
// Gradients accumulate (+=) into an input's grad, which is zeroed when first
// touched. The maths lives in named free functions (src/nn): a node's backward
// closure only calls them. backward() consumes the tape: each closure, each
// intermediate gradient and each recorded value is released (or its buffer
// reused as scratch) as soon as it has been used, so copy what you need of
// intermediate Vars before backward().
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "tensor/tensor.hpp"

namespace nst {

struct Node {
  Tensor value;
  Tensor grad;  // undefined until a gradient flows into this node
  bool requires_grad = false;
  const char* op = "leaf";
  std::function<void(const Tensor& dout)> backward;  // empty for leaves
};

class Var {
 public:
  Var() = default;
  explicit Var(std::shared_ptr<Node> node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  Tensor& mutable_value() { return node_->value; }
  const Shape& shape() const { return node_->value.shape(); }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  const char* op() const { return node_->op; }

  // The gradient that reached this variable (undefined if none did).
  const Tensor& grad() const { return node_->grad; }
  // The buffer a backward function adds into: zeros on first use.
  Tensor& grad_accumulator();
  void zero_grad() { node_->grad = Tensor(); }

 private:
  std::shared_ptr<Node> node_;
  friend class Tape;
};

class Tape {
 public:
  Var constant(Tensor value);
  Var variable(Tensor value);

  // Records the result of an op. `backward(dout)` must add the gradient of each
  // input that requires_grad() into input.grad_accumulator(). It must not
  // capture the returned Var (that would be a cycle); capture Tensors instead.
  Var record(const char* op, Tensor value, std::initializer_list<Var> inputs,
             std::function<void(const Tensor& dout)> backward);
  Var record(const char* op, Tensor value, const std::vector<Var>& inputs,
             std::function<void(const Tensor& dout)> backward);

  // Seeds d(loss)/d(loss) = 1 and runs every recorded backward in reverse order.
  void backward(const Var& loss);

  // Forgets every node (the leaves' gradients stay with their Vars).
  void clear() { nodes_.clear(); }
  size_t size() const { return nodes_.size(); }

 private:
  std::vector<std::shared_ptr<Node>> nodes_;
};

}  // namespace nst
