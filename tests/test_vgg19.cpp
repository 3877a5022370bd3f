#include "testing.hpp"

#include <cmath>

#include "fixture.hpp"
#include "io/image.hpp"
#include "models/vgg19.hpp"
#include "tensor/check.hpp"
#include "vgg_util.hpp"

using namespace nst;
using nst::testing::relative_error;


TEST_CASE("vgg19: features match PyTorch on a real image", "[vgg19]") {
  NST_REQUIRE_VGG19(net, false);
  auto fx = testing::read_fixture("vgg19_features.bin");
  const std::vector<std::string> layers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"};
  testing::for_each_simd_level([&](kernels::SimdLevel) {
    Tape tape;
    auto feats = net->forward(tape, tape.constant(fx.at("input")), layers);
    for (const std::string& l : layers) {
      INFO("layer " << l);
      CHECK(relative_error(feats.at(l).value(), fx.at(l)) <= 1e-4);
    }
  });
}

TEST_CASE("vgg19: layer names, input conventions, errors", "[vgg19]") {
  NST_REQUIRE_VGG19(net, false);
  CHECK(Vgg19::activation_names().size() == 16 * 2 + 5);
  CHECK(Vgg19::is_activation("relu4_2"));
  CHECK_FALSE(Vgg19::is_activation("relu6_1"));
  // RGB 0..255 -> BGR mean-subtracted and back.
  Tensor rgb = testing::random_tensor({1, 3, 4, 5}, 1, 0, 255);
  Tensor x = net->to_input(rgb);
  CHECK(x[0] == Approx(rgb[2 * 20] - 103.939f).margin(1e-3));  // B first
  testing::check_close(net->from_input(x), rgb, 1e-5, 1e-3);
  Tape tape;
  CHECK_THROWS_WITH(net->forward(tape, tape.constant(x), {"relu9_9"}), Catch::Contains("unknown layer"));
  CHECK_THROWS_WITH(net->forward(tape, tape.constant(Tensor::zeros({1, 3, 8, 8})), {"relu5_1"}),
                    Catch::Contains("too small"));
  CHECK_THROWS_WITH(net->classify(Tensor::zeros({1, 3, 224, 224})), Catch::Contains("classifier"));
  // Only as deep as needed: a shallow request records only the first layers.
  Tape t2;
  Var v = t2.variable(x);
  net->forward(t2, v, {"relu1_1"});
  CHECK(t2.size() == 1);  // conv1_1 and relu1_1 as one fused conv2d_relu node
}

TEST_CASE("vgg19: loaded to a layer, the same features, deeper ones refused by name", "[vgg19]") {
  NST_REQUIRE_VGG19(net, false);
  const Vgg19 shallow = Vgg19::load(net->path(), false, {"relu2_1", "relu1_1"});
  const Tensor x = net->to_input(testing::random_tensor({1, 3, 20, 22}, 3, 0, 255));
  Tape tape;
  Var v = tape.variable(x);
  auto a = shallow.forward(tape, v, {"relu1_1", "relu2_1"});
  auto b = net->forward(tape, tape.constant(x), {"relu1_1", "relu2_1"});
  CHECK(testing::bit_identical(a.at("relu2_1").value(), b.at("relu2_1").value()));
  CHECK(testing::bit_identical(a.at("relu1_1").value(), b.at("relu1_1").value()));
  CHECK_THROWS_WITH(shallow.forward(tape, v, {"relu2_2"}),
                    Catch::Contains("relu2_2") && Catch::Contains("conv2_2") && Catch::Contains("not loaded"));
  CHECK_THROWS_WITH(Vgg19::load(net->path(), false, {"relu9_1"}), Catch::Contains("relu9_1"));
}

TEST_CASE("vgg19: classifies the shared photos", "[vgg19][classify]") {
  NST_REQUIRE_SHARED("images/classify/dingo.jpg");
  NST_REQUIRE_VGG19(net, true);
  auto top1 = [&](const std::string& file, float& p) {
    Tensor img = load_image(testing::shared_dir() + "/images/classify/" + file);
    REQUIRE(img.shape() == Shape({1, 3, 224, 224}));
    std::vector<float> prob = net->classify(img);
    REQUIRE(prob.size() == 1000);
    double sum = 0;
    for (float q : prob) sum += q;
    CHECK(sum == Approx(1.0).epsilon(1e-4));
    const auto it = std::max_element(prob.begin(), prob.end());
    p = *it;
    return int(it - prob.begin());
  };
  float p = 0;
  const int cat = top1("cat1.jpg", p);
  CHECK((cat >= 281 && cat <= 285));
  CHECK(top1("dingo.jpg", p) == 273);
  CHECK(p > 0.9f);
}
