// nst classify IMAGE: the top-5 ImageNet classes of an image by VGG-19
// (an end-to-end check of the weights, the preprocessing and the forward pass).
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <numeric>

#include "cli.hpp"
#include "common.hpp"
#include "tools/args.hpp"
#include "io/image.hpp"
#include "io/json_writer.hpp"
#include "models/vgg19.hpp"

namespace {

int run(int argc, const char* const* argv) {
  nst::ArgParser p("nst classify", "Top-5 ImageNet classes (0-based ids) of an image, by VGG-19.");
  p.positionals(1, 1, "IMAGE");
  p.option("weights", "FILE", "weight file with the classifier layers (default build/vgg19.nstw)");
  p.option("top", "K", "how many classes", "5");
  p.option("threads", "N", "threads (0 = all cores)", "0");
  p.flag("json", "print {\"top\": [{\"class\": id, \"p\": prob}, ...]}");
  auto parsed = p.parse(argc - 1, argv + 1);
  if (!parsed) return 0;
  const nst::Args& a = *parsed;
  const int64_t k = a.get_int("top", 1, 1000);
  nst::cli::apply_threads(a.get_int("threads", 0, 1024));
  const nst::Vgg19 net = nst::Vgg19::load(nst::cli::resolve_weights(a.get("weights")), true);
  nst::Tensor img = nst::load_image(a.positional()[0]);
  img = nst::resize_image(img, 224, 224);  // unchanged when already 224x224
  const std::vector<float> prob = net.classify(img);
  std::vector<int> order(prob.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) { return prob[size_t(x)] > prob[size_t(y)]; });
  if (a.flag("json")) {
    nst::JsonWriter j;
    j.begin_object().key("top").begin_array();
    for (int64_t i = 0; i < k; ++i)
      j.begin_object().key("class").value(int64_t(order[size_t(i)])).key("p").value(double(prob[size_t(order[size_t(i)])])).end_object();
    j.end_array().end_object();
    std::cout << j.str() << "\n";
  } else {
    for (int64_t i = 0; i < k; ++i)
      std::printf("%4d  %.4f\n", order[size_t(i)], double(prob[size_t(order[size_t(i)])]));
  }
  return 0;
}

const nst::cli::Command command{"classify", "top-5 ImageNet classes of an image (VGG-19 check)", run};

}  // namespace
