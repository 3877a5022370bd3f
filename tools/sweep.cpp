#include "tools/sweep.hpp"

#include <cstdio>
#include <filesystem>

#include "io/image.hpp"
#include "tensor/check.hpp"

namespace nst::cli {

namespace {

std::string with_suffix(const std::string& output, const std::string& suffix) {
  const std::filesystem::path p(output);
  return (p.parent_path() / (p.stem().string() + suffix + p.extension().string())).string();
}

}  // namespace

std::string sweep_output(const std::string& output, double style_weight) {
  char value[32];
  std::snprintf(value, sizeof value, "%g", style_weight);
  return with_suffix(output, std::string("_w") + value);
}

std::string strip_output(const std::string& output) { return with_suffix(output, "_strip"); }

std::vector<std::string> single_run_args(const std::vector<std::string>& args, double style_weight,
                                         const std::string& output) {
  static const std::vector<std::string> dropped{"--style-weights", "--style-weight", "-style_weight",
                                                "--output",        "-output_image",  "--record",
                                                "--checkpoint"};
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string name = args[i].substr(0, args[i].find('='));
    bool drop = false;
    for (const std::string& d : dropped) drop = drop || name == d;
    if (!drop) {
      out.push_back(args[i]);
      continue;
    }
    if (args[i].find('=') == std::string::npos) ++i;  // its value is the next argument
  }
  char value[32];
  std::snprintf(value, sizeof value, "%.17g", style_weight);
  out.insert(out.end(), {"--style-weight", value, "--output", output});
  return out;
}

WrittenFile write_strip(const std::string& path, const std::vector<Tensor>& pictures) {
  NST_CHECK(!pictures.empty(), "strip: no pictures");
  const int64_t H = pictures[0].dim(2), gap = 4;
  int64_t W = 0;
  for (const Tensor& p : pictures) {
    NST_CHECK(p.dim(2) == H, "strip: pictures of different heights");
    W += p.dim(3) + (W > 0 ? gap : 0);
  }
  Tensor strip = Tensor::full({1, 3, H, W}, 255.0f);
  int64_t x0 = 0;
  for (const Tensor& p : pictures) {
    const int64_t w = p.dim(3);
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < H; ++y)
        for (int64_t x = 0; x < w; ++x) strip[(c * H + y) * W + x0 + x] = p[(c * H + y) * w + x];
    x0 += w + gap;
  }
  return save_image(path, strip);
}

}  // namespace nst::cli
