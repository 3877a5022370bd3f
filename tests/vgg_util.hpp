// The real VGG-19 for tests: $NST_WEIGHTS, else vgg19.nstw next to the nst
// binary (`make weights`), else converted once from the shared TF.js release
// into the build folder. Empty when none is available (the test then skips loudly).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "convert/convert.hpp"
#include "models/vgg19.hpp"
#include "testing.hpp"

namespace nst::testing {

inline std::string vgg19_weights_path() {
  if (const char* env = std::getenv("NST_WEIGHTS"); env && *env) return env;
  const std::filesystem::path built =
      std::filesystem::path(NST_BINARY_PATH).parent_path() / "vgg19.nstw";
  if (std::filesystem::exists(built)) return built.string();
  const std::filesystem::path model =
      std::filesystem::path(shared_dir()) / "weights/vgg19-imagenet-uint8/model.json";
  if (!std::filesystem::exists(model)) return "";
  io::ConvertOptions o;
  o.from = io::SourceFormat::Tfjs;
  o.input = model.string();
  o.output = built.string();  // written atomically: concurrent tests are safe
  io::convert_vgg19(o);
  return built.string();
}

// The network, loaded once per test process.
inline const Vgg19* shared_vgg19(bool with_classifier = false) {
  static const std::string path = vgg19_weights_path();
  if (path.empty()) return nullptr;
  if (with_classifier) {
    static const Vgg19 full = Vgg19::load(path, true);
    return &full;
  }
  static const Vgg19 convs = Vgg19::load(path, false);
  return &convs;
}

}  // namespace nst::testing

#define NST_REQUIRE_VGG19(var, with_classifier)                                          \
  const ::nst::Vgg19* var = ::nst::testing::shared_vgg19(with_classifier);               \
  if (!var) {                                                                            \
    WARN("SKIPPED: no VGG-19 weights (set NST_WEIGHTS, run `make weights`, or provide " \
         << ::nst::testing::shared_dir() << "/weights/vgg19-imagenet-uint8)");           \
    return;                                                                              \
  }
