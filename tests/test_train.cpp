// Feed-forward training (nst/train.hpp, nst/photo_batches.hpp,
// nst/train_checkpoint.hpp): the photo stream, the perceptual loss and its
// gradient, Adam over a network, checkpoints.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli_util.hpp"
#include "io/warning.hpp"
#include "nst/photo_batches.hpp"
#include "nst/train.hpp"
#include "optim/state_io.hpp"
#include "nst/train_checkpoint.hpp"
#include "testing.hpp"
#include "train_util.hpp"
#include "vgg_util.hpp"

using namespace nst;
using namespace nst::testing;

TEST_CASE("photo batches: a recursive, sorted scan, crops that depend only on the step",
          "[train]") {
  ScratchDir dir("photos");
  write_photos(dir.file("a"), 3, 40, 60);
  write_photos(dir.file("a/deeper"), 2, 70, 30);
  write_text(dir.file("a/notes.txt"), "not a photo");
  save_image(dir.file("a/UPPER.PNG"), smooth_photo(33, 33, 9));
  const PhotoSet set = PhotoSet::scan(dir.file("a"));
  REQUIRE(set.paths.size() == 6);
  CHECK(std::is_sorted(set.paths.begin(), set.paths.end()));
  CHECK(set.fingerprint() == PhotoSet::scan(dir.file("a")).fingerprint());

  for (int64_t pass : {0, 1, 7}) {
    const std::vector<int64_t> order = pass_order(6, 5, pass);
    CHECK(std::set<int64_t>(order.begin(), order.end()).size() == 6);
  }
  CHECK(pass_order(6, 5, 0) != pass_order(6, 5, 1));
  CHECK(pass_order(6, 5, 0) != pass_order(6, 6, 0));

  PhotoBatches a(set, {32, 4, 5}), b(set, {32, 4, 5}), c(set, {32, 4, 6});
  const Tensor a3 = a.batch(3);
  CHECK(a3.shape() == Shape{4, 3, 32, 32});
  b.batch(0);
  CHECK(bit_identical(a3, b.batch(3)));  // the same whatever came before
  CHECK(!bit_identical(a3, c.batch(3)));
  CHECK(!bit_identical(a3, a.batch(2)));

  BatchPrefetcher pre(set, {32, 4, 5});
  for (int64_t s : {0, 1, 2, 5}) CHECK(bit_identical(pre.take(s), a.batch(s)));
}

TEST_CASE("photo batches: square crops of any photo shape", "[train]") {
  for (auto [h, w] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {10, 300}, {300, 10}, {64, 64}, {37, 53}}) {
    const Tensor p = smooth_photo(h, w, 1);
    for (uint64_t pick : {0ull, 0x123456789abcdefull, ~0ull}) {
      const Tensor c = square_crop(p, 32, pick);
      CHECK(c.shape() == Shape{1, 3, 32, 32});
    }
  }
  // Short side equal to the size: the crop is a window of the photo itself.
  const Tensor p = smooth_photo(32, 50, 2);
  const Tensor c = square_crop(p, 32, 5);  // left = 5 % 19
  for (int64_t y = 0; y < 32; ++y) CHECK(c[y * 32] == p[y * 50 + 5]);
}

TEST_CASE("photo batches: unreadable photos are skipped once, none readable is an error",
          "[train]") {
  ScratchDir dir("photos-bad");
  write_photos(dir.file("ok"), 2, 40, 40);
  write_text(dir.file("ok/broken.jpg"), "\xff\xd8 not really a jpeg");
  std::vector<std::string> warnings;
  const WarningHandler old = set_warning_handler([&](const std::string& m) { warnings.push_back(m); });
  PhotoBatches batches(PhotoSet::scan(dir.file("ok")), {16, 3, 1});
  for (int64_t s = 0; s < 4; ++s) CHECK(batches.batch(s).shape() == Shape{3, 3, 16, 16});
  set_warning_handler(old);
  REQUIRE(batches.skipped().size() == 1);
  CHECK(batches.skipped()[0].find("broken.jpg") != std::string::npos);
  CHECK(warnings.size() == 1);

  std::filesystem::create_directories(dir.file("bad"));
  write_text(dir.file("bad/a.png"), "nope");
  write_text(dir.file("bad/b.jpg"), "");
  set_warning_handler([](const std::string&) {});
  PhotoBatches none(PhotoSet::scan(dir.file("bad")), {16, 2, 1});
  CHECK_THROWS_WITH(none.batch(0), Catch::Contains("none of its 2 photos could be read"));
  set_warning_handler(old);
  CHECK_THROWS_WITH(PhotoSet::scan(dir.file("missing")), Catch::Contains("not a folder"));
  std::filesystem::create_directories(dir.file("empty/sub"));
  CHECK_THROWS_WITH(PhotoSet::scan(dir.file("empty")), Catch::Contains("no .jpg, .jpeg or .png"));
}

TEST_CASE("perceptual loss: terms as defined and the gradient to the picture", "[train]") {
  NST_REQUIRE_VGG19(vgg, false);
  const Tensor style = smooth_photo(40, 48, 3);
  const Tensor photos = [] {
    Tensor t = Tensor::empty({2, 3, 24, 24});
    for (int n = 0; n < 2; ++n) {
      const Tensor p = smooth_photo(24, 24, uint64_t(10 + n));
      std::copy_n(p.data(), p.numel(), t.data() + n * p.numel());
    }
    return t;
  }();
  PerceptualWeights w;
  w.content_layers = {"relu2_2"};
  w.style_layers = {"relu1_1", "relu2_1", "relu3_1"};
  w.content_weight = 3;
  w.style_weight = 0.5;
  w.tv_weight = 2;
  const PerceptualLoss loss(*vgg, w, style);
  const Tensor y0 = random_tensor(photos.shape(), 21, 0.0f, 255.0f);

  // The terms: photos painted as themselves have no content loss.
  {
    Tape tape;
    TrainTerms t;
    loss.evaluate(tape, tape.constant(photos), photos, t);
    CHECK(t.content == 0.0);
    CHECK(t.style > 0.0);
    CHECK(t.loss == Approx(0.5 * t.style + 2 * t.tv).epsilon(1e-6));
  }
  // The tape's input conversion is the tensor one.
  {
    Tape tape;
    CHECK(bit_identical(vgg->to_input(tape, tape.constant(y0)).value(), vgg->to_input(y0)));
  }
  // Directional derivative along r against central differences of the float loss.
  Tape tape;
  const Var y = tape.variable(y0);
  TrainTerms t;
  tape.backward(loss.evaluate(tape, y, photos, t));
  const Tensor r = random_tensor(y0.shape(), 22);
  double analytic = 0;
  for (int64_t i = 0; i < r.numel(); ++i) analytic += double(y.grad()[i]) * r[i];
  const auto at = [&](float h) {
    Tensor yh = y0.clone();
    for (int64_t i = 0; i < yh.numel(); ++i) yh[i] += h * r[i];
    Tape tp;
    TrainTerms th;
    loss.evaluate(tp, tp.constant(yh), photos, th);
    return th.loss;
  };
  // Small: VGG's ReLUs and max pools make the loss piecewise smooth, and a step
  // of 4 (0..255 units) already crosses enough kinks to move the quotient by 2 %.
  const double h = 0.05;
  const double numeric = (at(float(h)) - at(float(-h))) / (2 * h);
  INFO("loss " << t.loss);
  CHECK(analytic == Approx(numeric).epsilon(2e-3));
}

TEST_CASE("training: Adam steps lower the loss, the same seed gives the same bits, checkpoints "
          "round-trip", "[train]") {
  NST_REQUIRE_VGG19(vgg, false);
  ScratchDir dir("train-lib");
  write_photos(dir.file("photos"), 6, 48, 40);
  const Tensor style = smooth_photo(64, 64, 17);
  const PerceptualLoss loss(*vgg, PerceptualWeights{}, style);
  const TransformerSpec spec = johnson_transformer(4, 1);
  AdamOptions o;
  o.lr = 1e-2;

  const auto train = [&](int steps, Transformer& net, NetworkAdam& adam, int64_t from = 0) {
    PhotoBatches batches(PhotoSet::scan(dir.file("photos")), {32, 2, 3});
    std::vector<double> losses;
    for (int64_t s = from; s < from + steps; ++s)
      losses.push_back(train_step(net, adam, loss, batches.batch(s)).loss);
    return losses;
  };
  Transformer net = init_transformer(spec, 9);
  NetworkAdam adam(net, o);
  const std::vector<double> losses = train(30, net, adam);
  const double first = (losses[0] + losses[1] + losses[2]) / 3;
  const double last = (losses[27] + losses[28] + losses[29]) / 3;
  INFO("first " << first << ", last " << last);
  CHECK(last < 0.5 * first);

  // Two runs of 15 steps, the second from a checkpoint of the first, give the bits of 30.
  Transformer half = init_transformer(spec, 9);
  NetworkAdam half_adam(half, o);
  train(15, half, half_adam);
  TrainCheckpoint c;
  c.args = {"--example"};
  c.step = 15;
  c.net.emplace(half);
  c.adam.emplace(half_adam);
  save_train_checkpoint(dir.file("c.ckpt"), c);
  TrainCheckpoint back = load_train_checkpoint(dir.file("c.ckpt"));
  CHECK(back.args == c.args);
  train(15, *back.net, *back.adam, 15);
  for (const auto& [name, t] : net.params()) {
    INFO(name);
    CHECK(bit_identical(back.net->params().at(name), t));
  }
  CHECK(back.adam->t == 30);
}

TEST_CASE("training checkpoints: a corrupt or truncated file is a clear error", "[train]") {
  ScratchDir dir("train-ckpt");
  TrainCheckpoint c;
  c.step = 2;
  c.steps = {{1, {5, 1, 2, 3, {}}, 0.5}, {2, {4, 1, 1, 3, {1.5, 0.5}}, 1.0}};
  c.net.emplace(init_transformer(johnson_transformer(2, 1), 1));
  c.adam.emplace(*c.net, AdamOptions{});
  save_train_checkpoint(dir.file("c.ckpt"), c);
  const std::vector<uint8_t> bytes = read_bytes(dir.file("c.ckpt"));
  const TrainCheckpoint back = load_train_checkpoint(dir.file("c.ckpt"));
  REQUIRE(back.steps.size() == 2);
  CHECK(back.steps[0].terms.style_by_painting.empty());
  CHECK(back.steps[1].terms.style_by_painting == std::vector<double>{1.5, 0.5});
  {
    // A version-1 file (before multi-style records) still loads: its layout by hand.
    std::ostringstream out;
    const char magic[9] = "NSTTRAIN";
    StateWriter w(out, magic, 1);
    w.value(uint64_t(1));
    w.value(uint64_t(7));
    w.bytes("--steps", 7);
    w.value(int64_t(2));
    w.value(1.5);
    w.value(uint64_t(42));
    w.value(uint64_t(1));
    w.value(int64_t(1));
    for (double v : {5.0, 1.0, 2.0, 3.0, 0.5}) w.value(v);
    const std::string spec = transformer_spec_json(c.net->spec());
    w.value(uint64_t(spec.size()));
    w.bytes(spec.data(), spec.size());
    for (const auto& [name, t] : c.net->params()) {
      w.value(uint64_t(name.size()));
      w.bytes(name.data(), name.size());
      w.value(uint64_t(t.numel()));
      w.bytes(t.data(), size_t(t.numel()) * sizeof(float));
    }
    w.finish("checkpoint");
    c.adam->save_state(out);
    write_text(dir.file("v1.ckpt"), out.str());
    const TrainCheckpoint v1 = load_train_checkpoint(dir.file("v1.ckpt"));
    CHECK(v1.args == std::vector<std::string>{"--steps"});
    CHECK(v1.photos_fingerprint == 42);
    REQUIRE(v1.steps.size() == 1);
    CHECK(v1.steps[0].terms.tv == 3.0);
    CHECK(v1.steps[0].terms.style_by_painting.empty());
  }
  for (size_t cut : {size_t(0), size_t(5), bytes.size() / 2, bytes.size() - 1}) {
    write_bytes(dir.file("t.ckpt"), std::vector<uint8_t>(bytes.begin(), bytes.begin() + long(cut)));
    CHECK_THROWS_WITH(load_train_checkpoint(dir.file("t.ckpt")), Catch::Contains("t.ckpt"));
  }
  for (size_t at : {size_t(20), bytes.size() / 3, bytes.size() - 20}) {
    std::vector<uint8_t> bad = bytes;
    bad[at] ^= 0x40;
    write_bytes(dir.file("x.ckpt"), bad);
    CHECK_THROWS_WITH(load_train_checkpoint(dir.file("x.ckpt")), Catch::Contains("x.ckpt"));
  }
  CHECK_THROWS_WITH(load_train_checkpoint(dir.file("none.ckpt")), Catch::Contains("none.ckpt"));
}
