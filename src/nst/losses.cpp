#include "nst/losses.hpp"

#include "nn/elementwise.hpp"
#include "nn/gram.hpp"
#include "nn/moments.hpp"
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

StyleLossKind parse_style_loss(const std::string& name) {
  if (name == "gram") return StyleLossKind::gram;
  if (name == "mean-cov") return StyleLossKind::mean_cov;
  NST_CHECK(name == "w2", "style loss must be gram, mean-cov or w2, got '", name, "'");
  return StyleLossKind::w2;
}

StyleStatistics style_statistics(const Tensor& features, const Tensor& mask, StyleLossKind kind) {
  StyleStatistics s;
  if (kind == StyleLossKind::gram) {
    s.gram = mask.defined() ? masked_gram_matrix(features, mask) : gram_matrix(features);
    return s;
  }
  const int64_t C = features.c();
  s.mean = Tensor::empty({1, C});
  s.cov = Tensor::empty({1, C, C});
  channel_mean_forward(s.mean, features, mask);
  covariance_forward(s.cov, features, mask);
  if (kind == StyleLossKind::w2) s.w2 = w2_target(s.cov);
  return s;
}

StyleStatistics blend_statistics(const std::vector<StyleStatistics>& styles, const std::vector<double>& weights,
                                 StyleLossKind kind) {
  NST_CHECK(!styles.empty() && styles.size() == weights.size(), "blend_statistics: ", weights.size(),
            " weights for ", styles.size(), " styles");
  if (styles.size() == 1) return styles[0];
  StyleStatistics out;
  if (kind == StyleLossKind::gram) {
    out.gram = Tensor::zeros(styles[0].gram.shape());
    for (size_t k = 0; k < styles.size(); ++k)
      for (int64_t i = 0; i < out.gram.numel(); ++i) out.gram[i] += float(weights[k]) * styles[k].gram[i];
    return out;
  }
  const int64_t C = styles[0].mean.numel();
  std::vector<double> mu(size_t(C), 0.0), second(size_t(C * C), 0.0);
  for (size_t k = 0; k < styles.size(); ++k) {
    const Tensor &m = styles[k].mean, &c = styles[k].cov;
    for (int64_t i = 0; i < C; ++i) {
      mu[size_t(i)] += weights[k] * m[i];
      for (int64_t j = 0; j < C; ++j)
        second[size_t(i * C + j)] += weights[k] * (double(c[i * C + j]) + double(m[i]) * double(m[j]));
    }
  }
  out.mean = Tensor::empty({1, C});
  out.cov = Tensor::empty({1, C, C});
  for (int64_t i = 0; i < C; ++i) {
    out.mean[i] = float(mu[size_t(i)]);
    for (int64_t j = 0; j < C; ++j)
      out.cov[i * C + j] = float(second[size_t(i * C + j)] - mu[size_t(i)] * mu[size_t(j)]);
  }
  if (kind == StyleLossKind::w2) out.w2 = w2_target(out.cov);
  return out;
}

Var mean_cov_style_loss(Tape& tape, const Var& features, const Tensor& mask, const StyleStatistics& target) {
  // mean(((Σ - Σs)/C)²) = mean((Σ - Σs)²) / C²
  const float inv_c = 1.0f / float(features.shape()[1]);
  Var mean_term = mse(tape, channel_mean(tape, features, mask), tape.constant(target.mean));
  Var cov_term = mse(tape, covariance(tape, features, mask), tape.constant(target.cov));
  return weighted_sum(tape, {mean_term, cov_term}, {1.0f, inv_c * inv_c});
}

Var w2_style_loss(Tape& tape, const Var& features, const Tensor& mask, const StyleStatistics& target) {
  // ||μ - μs||² / C = mean((μ - μs)²); the covariance term over C.
  const float inv_c = 1.0f / float(features.shape()[1]);
  Var mean_term = mse(tape, channel_mean(tape, features, mask), tape.constant(target.mean));
  Var cov_term = w2_covariance_term(tape, features, mask, target.w2);
  return weighted_sum(tape, {mean_term, cov_term}, {1.0f, inv_c});
}

Var style_term(Tape& tape, const Var& features, const Tensor& mask, const StyleStatistics& target,
               StyleLossKind kind) {
  switch (kind) {
    case StyleLossKind::gram:
      return mask.defined() ? masked_style_loss(tape, features, mask, target.gram)
                            : style_loss(tape, features, target.gram);
    case StyleLossKind::mean_cov:
      return mean_cov_style_loss(tape, features, mask, target);
    case StyleLossKind::w2:
      return w2_style_loss(tape, features, mask, target);
  }
  return Var();
}

Var tv_loss(Tape& tape, const Var& image) { return total_variation(tape, image); }

}  // namespace nst
