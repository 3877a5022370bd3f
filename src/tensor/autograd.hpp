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
// closure only calls them. backward() consumes the tape: each closure and each
// intermediate gradient is released (or its buffer reused as scratch) once
// used, and each recorded value once the backwards of all the nodes that read
// it have run (a style layer's features go right after its Gram's backward,
// not at the end), so copy what you need of intermediate Vars before
// backward(). A backward may overwrite its dout: the tape releases it after.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <vector>

#include "tensor/tensor.hpp"

namespace nst {

struct Node {
  Tensor value;
  Shape shape;  // value's shape, kept when the value is released
  Tensor grad;  // undefined until a gradient flows into this node
  bool requires_grad = false;
  const char* op = "leaf";
  std::function<void(const Tensor& dout)> backward;  // empty for leaves
  // On the tape only: the recorded inputs whose values this node's backward
  // reads, and how many recorded nodes whose backwards read this one's value
  // have not run yet. Only consumers' closures read a value in backward, so it
  // goes when that count reaches 0.
  std::vector<Node*> read_inputs;
  int pending_readers = 0;
  bool recorded = false;
};

// Which inputs' values a node's backward reads, one flag per input in order;
// empty means all of them. An input whose value it does not read (a conv's
// input when the weight is frozen, a pooling's or a ReLU's input) does not
// keep its value alive during backward.
using BackwardReads = std::vector<bool>;

class Var {
 public:
  Var() = default;
  explicit Var(std::shared_ptr<Node> node) : node_(std::move(node)) {}

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  Tensor& mutable_value() { return node_->value; }
  const Shape& shape() const { return node_->shape; }
  bool requires_grad() const { return node_ && node_->requires_grad; }
  const char* op() const { return node_->op; }

  // The gradient that reached this variable (undefined if none did).
  const Tensor& grad() const { return node_->grad; }
  // The buffer a backward function adds into: zeros on first use.
  Tensor& grad_accumulator();
  // The buffer a backward function puts its gradient in, for ops that can
  // either write or add: before any gradient has reached this variable it is a
  // new, uninitialised buffer and `accumulate` is false (the op writes every
  // element: no zeros to write and read back); after, it is the gradient so
  // far and `accumulate` is true (the op adds).
  Tensor& grad_buffer(bool& accumulate);
  void zero_grad() { node_->grad = Tensor(); }

  // Drops this node's value once nothing will read it: its memory goes back
  // to the pool unless a backward closure holds its own handle on it. The
  // shape and the gradient stay. Only for a value whose consumers' backwards
  // read none of it through this Var: conv2d / conv2d_relu with a frozen
  // weight, max_pool2d and avg_pool2d, relu (each checks, and fails loudly
  // if it would need a released value). Vgg19::forward uses it on the
  // activations nobody asked for.
  void release_value() { node_->value = Tensor(); }
  bool has_value() const { return node_ && node_->value.defined(); }
  bool same_node(const Var& o) const { return node_ == o.node_; }

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
             std::function<void(const Tensor& dout)> backward,
             BackwardReads reads = {});
  Var record(const char* op, Tensor value, const std::vector<Var>& inputs,
             std::function<void(const Tensor& dout)> backward,
             BackwardReads reads = {});

  // Seeds d(loss)/d(loss) = 1 and runs every recorded backward in reverse order.
  void backward(const Var& loss);

  // Forgets every node (the leaves' gradients stay with their Vars).
  void clear() { nodes_.clear(); }
  size_t size() const { return nodes_.size(); }

 private:
  std::vector<std::shared_ptr<Node>> nodes_;
};

}  // namespace nst
