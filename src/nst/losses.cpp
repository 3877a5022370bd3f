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

Var masked_style_loss(Tape& tape, const Var& features, const Tensor& mask, const Tensor& target_gram) {
  Var g = masked_gram(tape, features, mask);
  NST_CHECK(g.shape() == target_gram.shape(), "masked_style_loss: Gram ", g.shape().to_string(),
            " vs target ", target_gram.shape().to_string());
  return mse(tape, g, tape.constant(target_gram));
}

Tensor masked_gram_matrix(const Tensor& features, const Tensor& mask) {
  Tape tape;
  return masked_gram(tape, tape.constant(features), mask).value();
}

Var masked_content_loss(Tape& tape, const Var& features, const Tensor& target, const Tensor& weights) {
  NST_CHECK(features.shape() == target.shape(), "masked_content_loss: features ",
            features.shape().to_string(), " vs target ", target.shape().to_string());
  return weighted_mse(tape, features, tape.constant(target), weights);
}

Tensor content_mask_weights(const Tensor& mask, double mask_weight) {
  Tensor w = Tensor::empty(mask.shape());
  for (int64_t i = 0; i < w.numel(); ++i) w[i] = float(1.0 + (mask_weight - 1.0) * double(mask[i]));
  return w;
}

Var tv_loss(Tape& tape, const Var& image) { return total_variation(tape, image); }

}  // namespace nst
