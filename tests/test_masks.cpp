// Region-specific styling in optimisation mode (nst/masks.hpp,
// StyleObjective::set_regions and the masked content term): the objective's
// gradient by finite differences, what a mask of ones and a mask of one style
// mean, loading masks, and real runs on a photo: two styles by region, each
// half nearer its own style's Grams; a protected region nearer the photo.
#include <cmath>
#include <filesystem>
#include <random>

#include "fixture.hpp"
#include "objective_fd.hpp"
#include "io_test_util.hpp"
#include "io/image.hpp"
#include "nst/masks.hpp"
#include "nst/style_objective.hpp"
#include "nst/stylize.hpp"
#include "testing.hpp"
#include "vgg_util.hpp"

using namespace nst;

namespace {

double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-30); }

// A left or right half (soft over a few pixels at the border), [1, 1, h, w].
Tensor half_mask(int64_t h, int64_t w, bool left) {
  Tensor m = Tensor::empty({1, 1, h, w});
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      const float t = std::fmin(std::fmax((float(x) - float(w) / 2 + 2) / 4, 0.0f), 1.0f);
      m[y * w + x] = left ? 1.0f - t : t;
    }
  return m;
}

// The style term of `style` over `region` of the picture rgb (RGB 0..255), as
// the objective measures it: Σ_l mse(Gram over the region, style's Gram).
double region_style_distance(const Vgg19& net, const Tensor& rgb, const Tensor& region, const Tensor& style) {
  ObjectiveConfig cfg;
  cfg.content_weight = 0;
  cfg.tv_weight = 0;
  cfg.style_weight = 1;
  StyleObjective o(net, cfg);
  o.set_content(net.to_input(rgb));
  o.set_styles({net.to_input(style)}, {});
  o.set_regions({resize_mask(region, rgb.h(), rgb.w())});
  return o.evaluate(net.to_input(rgb), nullptr).style;
}

struct Photos {
  Tensor content, starry, scream;
};
const Photos& photos() {
  static const Photos p{load_image(testing::shared_dir() + "/images/tubingen.jpg"),
                        load_image(testing::shared_dir() + "/images/starry_night.jpg"),
                        load_image(testing::shared_dir() + "/images/the_scream.jpg")};
  return p;
}

StylizeConfig small_run() {
  StylizeConfig c;
  c.size = 128;
  c.scales = {128};
  c.iterations = 60;
  return c;
}

}  // namespace

TEST_CASE("masks: the masked objective's gradient agrees with finite differences", "[masks][objective]") {
  NST_REQUIRE_VGG19(net, false);
  auto fx = testing::read_fixture("style_objective.bin");
  ObjectiveConfig cfg;
  cfg.content_layers = {"relu1_2", "relu2_1"};
  cfg.style_layers = {"relu1_1", "relu2_1"};
  cfg.pooling = "avg";
  StyleObjective objective(*net, cfg);
  const Tensor x = fx.at("image"), style = fx.at("style"), content = fx.at("content");
  const int64_t h = x.dim(2), w = x.dim(3);
  objective.set_content(content, half_mask(h, w, true), 5.0);
  objective.set_styles({style, content}, {0.7, 0.3}, {half_mask(style.dim(2), style.dim(3), false), Tensor()});
  objective.set_regions({half_mask(h, w, true), half_mask(h, w, false)});
  Tensor grad;
  const LossTerms l0 = objective.evaluate(x, &grad);
  REQUIRE(l0.styles.size() == 2);
  CHECK(rel(l0.styles[0] + l0.styles[1], l0.style) <= 1e-9);
  int trial = 0;
  for (const auto& d : testing::directional_derivatives(objective, x, grad, 21, 3)) {
    INFO("trial " << trial++ << ": finite difference " << d.finite_difference << ", analytic " << d.analytic);
    CHECK(rel(d.analytic, d.finite_difference) <= 2.5e-2);
  }
}

TEST_CASE("masks: a region of ones and a content mask of weight 1 change nothing", "[masks][objective]") {
  NST_REQUIRE_VGG19(net, false);
  auto fx = testing::read_fixture("style_objective.bin");
  const Tensor x = fx.at("image");
  const Tensor ones = Tensor::full({1, 1, x.dim(2), x.dim(3)}, 1.0f);
  StyleObjective plain(*net, ObjectiveConfig{}), masked(*net, ObjectiveConfig{});
  plain.set_content(fx.at("content"));
  plain.set_styles({fx.at("style")}, {});
  masked.set_content(fx.at("content"), ones, 1.0);
  masked.set_styles({fx.at("style")}, {}, {Tensor::full({1, 1, fx.at("style").dim(2), fx.at("style").dim(3)}, 1.0f)});
  masked.set_regions({ones});
  Tensor g0, g1;
  const LossTerms a = plain.evaluate(x, &g0), b = masked.evaluate(x, &g1);
  CHECK(rel(b.total, a.total) <= 1e-5);
  CHECK(rel(b.content, a.content) <= 1e-5);
  CHECK(testing::relative_error(g1, g0) <= 1e-4);
  // A style of blend 0 by region contributes nothing.
  masked.set_styles({fx.at("style"), fx.at("content")}, {1.0, 0.0});
  masked.set_regions({ones, ones});
  const LossTerms c = masked.evaluate(x, nullptr);
  CHECK(c.styles[1] == 0.0);
  CHECK(rel(c.style, a.style) <= 1e-5);
}

TEST_CASE("masks: loading checks counts, files and black masks before any work", "[masks]") {
  testing::ScratchDir dir("masks");
  Tensor grey = Tensor::full({1, 3, 6, 8}, 0.0f);
  for (int64_t i = 0; i < 48; ++i) grey[i] = grey[48 + i] = grey[96 + i] = float(i % 8 < 4 ? 255 : 0);
  save_image(dir.file("left.png"), grey);
  save_image(dir.file("black.png"), Tensor::zeros({1, 3, 6, 8}));
  const Tensor m = load_mask(dir.file("left.png"), "--style-mask 1");
  REQUIRE(m.shape() == Shape({1, 1, 6, 8}));
  CHECK(m[0] == 1.0f);
  CHECK(m[7] == 0.0f);
  MaskConfig c;
  c.style_masks = {dir.file("left.png")};
  CHECK_THROWS_WITH(load_masks(c, 2, "nst stylize"),
                    Catch::Contains("1 --style-mask for 2 style images") && Catch::Contains("one per --style"));
  c.style_masks = {dir.file("left.png"), dir.file("black.png")};
  CHECK_THROWS_WITH(load_masks(c, 2, "nst stylize"),
                    Catch::Contains(dir.file("black.png")) && Catch::Contains("black everywhere"));
  c.style_masks = {dir.file("left.png"), dir.file("missing.png")};
  CHECK_THROWS_WITH(load_masks(c, 2, "nst stylize"),
                    Catch::Contains("nst stylize: --style-mask 2: ") && Catch::Contains(dir.file("missing.png")));
  c.style_masks = {};
  c.content_mask = dir.file("black.png");
  CHECK_THROWS_WITH(load_masks(c, 2, "nst stylize"), Catch::Contains("--content-mask: mask"));
  c.content_mask = dir.file("left.png");
  c.style_image_masks = {dir.file("left.png"), dir.file("left.png")};
  const Masks ok = load_masks(c, 2, "nst stylize");
  CHECK(ok.style.empty());
  CHECK(ok.style_image.size() == 2);
  CHECK(ok.content.defined());
  // Resized to a picture: values stay in 0..1, soft at the border.
  const Masks at = masks_at(ok, 12, 16);
  CHECK(at.content.shape() == Shape({1, 1, 12, 16}));
  for (int64_t i = 0; i < at.content.numel(); ++i) REQUIRE((at.content[i] >= 0.0f && at.content[i] <= 1.0f));
}

TEST_CASE("masks: two styles by region on a photo, each half nearer its own style", "[masks][stylize][slow]") {
  NST_REQUIRE_VGG19(net, false);
  NST_REQUIRE_SHARED("images/the_scream.jpg");
  const Photos& p = photos();
  Masks masks;
  masks.style = {half_mask(300, 400, true), half_mask(300, 400, false)};
  const StylizeResult r = stylize(small_run(), *net, p.content, {p.starry, p.scream}, {}, Tensor(), nullptr, masks);
  REQUIRE(r.saved_loss.styles.size() == 2);
  const Tensor& out = r.image;
  const int64_t sl = style_long_side(1.0, 128);
  const Tensor starry = resize_to_long_side(p.starry, sl), scream = resize_to_long_side(p.scream, sl);
  const Tensor left = half_mask(out.h(), out.w(), true), right = half_mask(out.h(), out.w(), false);
  const double ls = region_style_distance(*net, out, left, starry), lc = region_style_distance(*net, out, left, scream);
  const double rs = region_style_distance(*net, out, right, starry), rc = region_style_distance(*net, out, right, scream);
  INFO("left: starry " << ls << " scream " << lc << "; right: starry " << rs << " scream " << rc);
  CHECK(ls < lc);
  CHECK(rc < rs);
  // The photo itself, for contrast: its halves are not sorted that way by chance.
  const Tensor photo = resize_to_long_side(p.content, 128);
  INFO("photo left: starry " << region_style_distance(*net, photo, left, starry) << " scream "
                             << region_style_distance(*net, photo, left, scream));
  CHECK(ls < region_style_distance(*net, photo, left, starry));
  CHECK(rc < region_style_distance(*net, photo, right, scream));
}

TEST_CASE("masks: a content-masked region stays nearer the photo", "[masks][stylize][slow]") {
  NST_REQUIRE_VGG19(net, false);
  NST_REQUIRE_SHARED("images/starry_night.jpg");
  const Photos& p = photos();
  // The middle third of the picture, protected.
  Tensor centre = Tensor::zeros({1, 1, 300, 400});
  for (int64_t y = 100; y < 200; ++y)
    for (int64_t x = 133; x < 267; ++x) centre[y * 400 + x] = 1.0f;
  Masks masks;
  masks.content = centre;
  masks.content_weight = 10;
  const StylizeResult plain = stylize(small_run(), *net, p.content, {p.starry}, {});
  const StylizeResult kept = stylize(small_run(), *net, p.content, {p.starry}, {}, Tensor(), nullptr, masks);
  const Tensor photo = resize_to_long_side(p.content, 128);
  const Tensor inside = resize_mask(centre, photo.h(), photo.w());
  // Mean |picture - photo| inside and outside the region, 0..255.
  const auto difference = [&](const Tensor& img, bool in) {
    double sum = 0, weight = 0;
    const int64_t M = photo.h() * photo.w();
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < M; ++i) {
        const double wgt = in ? inside[i] : 1.0 - inside[i];
        sum += wgt * std::abs(double(img[c * M + i]) - double(photo[c * M + i]));
        weight += wgt;
      }
    return sum / weight;
  };
  INFO("inside: plain " << difference(plain.image, true) << ", masked " << difference(kept.image, true)
                        << "; outside: plain " << difference(plain.image, false) << ", masked "
                        << difference(kept.image, false));
  CHECK(difference(kept.image, true) < 0.8 * difference(plain.image, true));
  CHECK(difference(kept.image, false) > 0.8 * difference(plain.image, false));
}
