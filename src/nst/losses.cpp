#include "nst/losses.hpp"

#include "nn/gram.hpp"
#include "nn/mse.hpp"
#include "nn/total_variation.hpp"
#include "tensor/check.hpp"

namespace nst {

Var content_loss(Tape& tape, const Var& features, const Tensor& target) {
  NST_CHECK(features.shape() == target.shape(), "content_loss: features ",
            features.shape().to_string(), " vs target ", target.shape().to_string());
  return mse(tape, features, tape.constant(target));
}

Var style_loss(Tape& tape, const Var& features, const Tensor& target_gram) {
  Var g = gram(tape, features);
  NST_CHECK(g.shape() == target_gram.shape(), "style_loss: Gram ", g.shape().to_string(),
            " vs target ", target_gram.shape().to_string());
  return mse(tape, g, tape.constant(target_gram));
}

Tensor gram_matrix(const Tensor& features) {
  Tape tape;
  return gram(tape, tape.constant(features)).value();
}

Var tv_loss(Tape& tape, const Var& image) { return total_variation(tape, image); }

}  // namespace nst
