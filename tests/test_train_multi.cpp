// Training a multi-style network (conditional instance norm): the loss with a
// painting per sample, the round-robin pairing, and training steps that teach
// every style at once through the shared convolutions.
#include "models/transformer.hpp"
#include "nst/photo_batches.hpp"
#include "nst/train.hpp"
#include "cli_util.hpp"
#include "testing.hpp"
#include "train_util.hpp"
#include "vgg_util.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

Tensor batch_of(const std::vector<Tensor>& photos) {
  const Tensor& p0 = photos[0];
  Tensor t = Tensor::empty({int64_t(photos.size()), 3, p0.h(), p0.w()});
  for (size_t n = 0; n < photos.size(); ++n)
    std::copy_n(photos[n].data(), p0.numel(), t.data() + int64_t(n) * p0.numel());
  return t;
}

}  // namespace

TEST_CASE("multi-style training: round robin gives every painting the same share, by step",
          "[train][multistyle]") {
  CHECK(round_robin_styles(0, 4, 3) == std::vector<int64_t>{0, 1, 2, 0});
  CHECK(round_robin_styles(1, 4, 3) == std::vector<int64_t>{1, 2, 0, 1});
  CHECK(round_robin_styles(5, 2, 1) == std::vector<int64_t>{0, 0});
  std::vector<int64_t> count(5, 0);
  for (int64_t step = 0; step < 5; ++step)
    for (int64_t k : round_robin_styles(step, 3, 5)) ++count[size_t(k)];
  CHECK(count == std::vector<int64_t>(5, 3));
  CHECK_THROWS(round_robin_styles(-1, 2, 2));
}

TEST_CASE("multi-style training: each sample's style term uses its own painting", "[train][multistyle]") {
  NST_REQUIRE_VGG19(vgg, false);
  const Tensor a = smooth_photo(40, 48, 3), b = smooth_photo(44, 36, 8);
  const Tensor photos = batch_of({smooth_photo(24, 24, 10), smooth_photo(24, 24, 11),
                                  smooth_photo(24, 24, 12)});
  const Tensor y = random_tensor(photos.shape(), 31, 0.0f, 255.0f);
  PerceptualWeights w;
  w.style_layers = {"relu1_1", "relu2_1"};
  const PerceptualLoss only_a(*vgg, w, a), only_b(*vgg, w, b), both(*vgg, w, {a, b});
  CHECK(both.paintings() == 2);
  auto eval = [&](const PerceptualLoss& l, const std::vector<int64_t>& styles) {
    Tape tape;
    TrainTerms t;
    l.evaluate(tape, tape.constant(y), photos, t, styles);
    return t;
  };
  // All samples on one painting: the one-painting loss, bit for bit.
  const TrainTerms ta = eval(only_a, {}), tb = eval(only_b, {});
  CHECK(eval(both, {0, 0, 0}).loss == ta.loss);
  CHECK(eval(both, {1, 1, 1}).loss == tb.loss);
  CHECK(eval(only_a, {0, 0, 0}).loss == ta.loss);
  // Mixed: the style term is the mean over samples of each one's own term, and
  // the per-painting record splits it by painting.
  const TrainTerms mixed = eval(both, {1, 0, 1});
  REQUIRE(mixed.style_by_painting.size() == 2);
  CHECK(mixed.style == Approx((1.0 * mixed.style_by_painting[0] + 2.0 * mixed.style_by_painting[1]) / 3.0)
                           .epsilon(1e-5));
  CHECK(mixed.style != Approx(ta.style).epsilon(1e-3));
  CHECK(mixed.style != Approx(tb.style).epsilon(1e-3));
  CHECK(mixed.content == Approx(ta.content).epsilon(1e-12));
  // Bad pairings.
  Tape tape;
  TrainTerms t;
  CHECK_THROWS_WITH(both.evaluate(tape, tape.constant(y), photos, t, {0, 2, 1}),
                    Catch::Contains("style 2 of 2 paintings"));
  CHECK_THROWS_WITH(both.evaluate(tape, tape.constant(y), photos, t, {0, 1}),
                    Catch::Contains("2 sample styles for a batch of 3"));
}

TEST_CASE("multi-style training: steps teach both styles through the shared convolutions",
          "[train][multistyle]") {
  NST_REQUIRE_VGG19(vgg, false);
  ScratchDir dir("train-multi");
  write_photos(dir.file("photos"), 6, 48, 40);
  const Tensor a = smooth_photo(64, 64, 17), b = smooth_photo(64, 64, 4);
  const PerceptualLoss loss(*vgg, PerceptualWeights{}, {a, b});
  TransformerSpec spec = johnson_transformer(4, 1);
  spec.styles = {"a", "b"};
  AdamOptions o;
  o.lr = 1e-2;
  Transformer net = init_transformer(spec, 9);
  NetworkAdam adam(net, o);
  PhotoBatches batches(PhotoSet::scan(dir.file("photos")), {32, 2, 3});

  // Each style's loss on a fixed batch, painted in that style.
  const Tensor fixed = batches.batch(1000);
  auto style_loss_of = [&](int64_t k) {
    Tape tape;
    TrainTerms t;
    const Var y = net.forward(tape, net.bind(tape, false), tape.constant(fixed),
                              tape.constant(net.style_one_hot(k, fixed.n())));
    loss.evaluate(tape, y, fixed, t, {k, k});
    return t.loss;
  };
  const double a0 = style_loss_of(0), b0 = style_loss_of(1);
  for (int64_t s = 0; s < 30; ++s)
    train_step(net, adam, loss, batches.batch(s), round_robin_styles(s, 2, 2));
  const double a1 = style_loss_of(0), b1 = style_loss_of(1);
  INFO("style a: " << a0 << " -> " << a1 << ", style b: " << b0 << " -> " << b1);
  CHECK(a1 < 0.6 * a0);
  CHECK(b1 < 0.6 * b0);
  // The two styles paint differently: their norm rows moved apart.
  const Tensor photo = smooth_photo(24, 24, 50);
  const Tensor pa = net.stylize(photo, net.style_one_hot(0)), pb = net.stylize(photo, net.style_one_hot(1));
  double diff = 0;
  for (int64_t i = 0; i < pa.numel(); ++i) diff = std::max(diff, double(std::abs(pa[i] - pb[i])));
  CHECK(diff > 1.0);

  // A network of another style count than the loss's paintings.
  Transformer three = init_transformer([&] {
    TransformerSpec s3 = johnson_transformer(4, 1);
    s3.styles = {"x", "y", "z"};
    return s3;
  }(), 1);
  NetworkAdam adam3(three, o);
  CHECK_THROWS_WITH(train_step(three, adam3, loss, batches.batch(0), {0, 1}),
                    Catch::Contains("3 styles but the loss 2 paintings"));
}

TEST_CASE("multi-style training: extending a network trains only the new style's norm rows",
          "[train][multistyle]") {
  NST_REQUIRE_VGG19(vgg, false);
  ScratchDir dir("train-extend");
  write_photos(dir.file("photos"), 4, 40, 40);
  const Transformer base = init_transformer(johnson_transformer(4, 1), 3);
  const Transformer ext = add_style(base, "new");
  CHECK(ext.style_names() == std::vector<std::string>{"style 0", "new"});
  // The old style paints as before; the new row starts at the mean (here: the one row).
  const Tensor photo = smooth_photo(24, 28, 60);
  CHECK(bit_identical(ext.stylize(photo, ext.style_one_hot(0)), base.stylize(photo)));
  CHECK(bit_identical(ext.stylize(photo, ext.style_one_hot(1)), base.stylize(photo)));
  CHECK(add_style(ext, "new").style_names().back() == "new_2");

  std::map<std::string, Tensor> start;  // a deep copy: a Transformer's tensors are shared handles
  for (const auto& [name, t] : ext.params()) start.emplace(name, t.clone());
  Transformer net = [&] {
    std::map<std::string, Tensor> own;
    for (const auto& [name, t] : start) own.emplace(name, t.clone());
    return Transformer(ext.spec(), std::move(own));
  }();
  AdamOptions o;
  o.lr = 1e-2;
  NetworkAdam adam(net, o);
  const PerceptualLoss loss(*vgg, PerceptualWeights{}, smooth_photo(64, 64, 5));
  TrainScope scope;
  scope.first_style = 1;
  scope.norms_only = true;
  PhotoBatches batches(PhotoSet::scan(dir.file("photos")), {24, 2, 7});
  std::vector<double> losses;
  for (int64_t s = 0; s < 20; ++s)
    losses.push_back(train_step(net, adam, loss, batches.batch(s), {}, scope).loss);
  INFO("first " << losses.front() << ", last " << losses.back());
  CHECK(losses.back() < 0.8 * losses.front());
  for (const auto& [name, t] : net.params()) {
    INFO(name);
    const Tensor& before = start.at(name);
    if (name.find(".norm.") == std::string::npos) {
      CHECK(bit_identical(t, before));  // convolutions frozen
      continue;
    }
    const int64_t C = t.dim(1);
    bool row0_same = true, row1_moved = false;
    for (int64_t c = 0; c < C; ++c) {
      row0_same = row0_same && t[c] == before[c];
      row1_moved = row1_moved || t[C + c] != before[C + c];
    }
    CHECK(row0_same);
    CHECK(row1_moved);
  }
  // The style's samples must be among the loss's paintings.
  CHECK_THROWS_WITH(train_step(net, adam, loss, batches.batch(0), {0, 1}, scope),
                    Catch::Contains("style 0 of 2 has no painting in the loss"));
}
