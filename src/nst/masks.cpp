#include "nst/masks.hpp"

#include <algorithm>

#include "io/image.hpp"
#include "tensor/check.hpp"

namespace nst {

Tensor grey_mask(const Tensor& rgb) {
  const int64_t H = rgb.h(), W = rgb.w(), M = H * W;
  Tensor mask = Tensor::empty({1, 1, H, W});
  for (int64_t i = 0; i < M; ++i) mask[i] = (rgb[i] + rgb[M + i] + rgb[2 * M + i]) / (3.0f * 255.0f);
  return mask;
}

Tensor load_mask(const std::string& path, const std::string& what) {
  Tensor rgb;
  try {
    rgb = load_image(path);
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  const Tensor mask = grey_mask(rgb);
  float largest = 0.0f;
  for (int64_t i = 0; i < mask.numel(); ++i) largest = std::max(largest, mask[i]);
  // Below half a grey level everywhere: nothing would be in the region.
  NST_CHECK(largest >= 0.5f / 255.0f, what, ": mask '", path,
            "' is black everywhere: it would cover no pixel (white = in the region)");
  return mask;
}

Masks load_masks(const MaskConfig& config, size_t styles, const std::string& prog) {
  const auto count = [&](const std::vector<std::string>& files, const char* flag) {
    NST_CHECK(files.empty() || files.size() == styles, prog, ": ", files.size(), " ", flag, " for ", styles,
              " style image", styles == 1 ? "" : "s", ": give one per --style, in the same order");
  };
  count(config.style_masks, "--style-mask");
  count(config.style_image_masks, "--style-image-mask");
  NST_CHECK(config.content_mask_weight >= 0, prog, ": --content-mask-weight must not be negative");
  Masks m;
  for (size_t k = 0; k < config.style_masks.size(); ++k)
    m.style.push_back(load_mask(config.style_masks[k], prog + ": --style-mask " + std::to_string(k + 1)));
  for (size_t k = 0; k < config.style_image_masks.size(); ++k)
    m.style_image.push_back(
        load_mask(config.style_image_masks[k], prog + ": --style-image-mask " + std::to_string(k + 1)));
  if (!config.content_mask.empty()) m.content = load_mask(config.content_mask, prog + ": --content-mask");
  m.content_weight = config.content_mask_weight;
  return m;
}

Tensor resize_mask(const Tensor& mask, int64_t h, int64_t w) {
  if (mask.dim(2) == h && mask.dim(3) == w) return mask;
  Tensor out = resize_image(mask, h, w);
  for (int64_t i = 0; i < out.numel(); ++i) out[i] = std::clamp(out[i], 0.0f, 1.0f);
  return out;
}

Masks masks_at(const Masks& masks, int64_t h, int64_t w) {
  Masks out = masks;
  for (Tensor& s : out.style) s = resize_mask(s, h, w);
  if (out.content.defined()) out.content = resize_mask(out.content, h, w);
  return out;
}

}  // namespace nst
