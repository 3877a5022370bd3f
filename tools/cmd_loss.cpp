// nst loss: evaluates the style-transfer objective at an image without
// optimising, term by term, and can write its gradient for auditing.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "common.hpp"
#include "io/image.hpp"
#include "io/json_writer.hpp"
#include "io/npy.hpp"
#include "nst/config.hpp"
#include "nst/masks.hpp"
#include "tools/options.hpp"
#include "nst/stylize.hpp"
#include "nst/style_objective.hpp"
#include "tensor/check.hpp"

namespace {

int run(int argc, const char* const* argv) {
  nst::LossConfig c;
  if (!nst::cli::parse_loss_args(argc, argv, c)) return 0;
  if (!c.dump_grad.empty()) {  // before the work, not after
    const std::filesystem::path dir = std::filesystem::path(c.dump_grad).parent_path();
    NST_CHECK(dir.empty() || std::filesystem::is_directory(dir), "nst loss: --dump-grad folder '",
              dir.string(), "' does not exist");
  }
  nst::cli::apply_threads(c.threads);
  const nst::Masks masks = nst::load_masks(c.masks, c.styles.size(), "nst loss");
  nst::Tensor image = nst::load_image(c.image);
  if (c.size > 0) {
    int64_t h = 0, w = 0;
    nst::fit_long_side(image.dim(2), image.dim(3), c.size, h, w);
    image = nst::resize_image(image, h, w);  // unchanged when it already has the size
  }
  const int64_t h = image.dim(2), w = image.dim(3);
  const nst::Tensor content = nst::resize_image(nst::load_image(c.content), h, w);
  const nst::Vgg19 net =
      nst::Vgg19::load(nst::cli::resolve_weights(c.weights), false, c.objective.layers());
  std::vector<nst::Tensor> styles, parts;
  for (size_t k = 0; k < c.styles.size(); ++k) {
    const nst::Tensor st = nst::load_image(c.styles[k]);
    int64_t sh = 0, sw = 0;
    nst::fit_long_side(st.dim(2), st.dim(3), nst::style_long_side(c.style_scale, std::max(h, w)),
                       sh, sw);
    styles.push_back(net.to_input(nst::resize_image(st, sh, sw)));
    if (!masks.style_image.empty()) parts.push_back(nst::resize_mask(masks.style_image[k], sh, sw));
  }
  // The masks at the image's size, as nst stylize resizes them to each scale.
  const nst::Masks m = nst::masks_at(masks, h, w);
  nst::StyleObjective objective(net, c.objective);
  objective.set_content(net.to_input(content), m.content, m.content_weight);
  objective.set_styles(styles, c.style_blend, parts);
  objective.set_regions(m.style);
  nst::Tensor grad;
  const nst::LossTerms l = objective.evaluate(net.to_input(image), c.dump_grad.empty() ? nullptr : &grad);
  if (!c.dump_grad.empty()) nst::save_npy(c.dump_grad, grad, {3, h, w});
  if (c.json) {
    nst::JsonWriter j;
    j.begin_object().key("total").value(l.total).key("content").value(l.content);
    j.key("content_layers").array(l.content_layers).key("style").array(l.style_layers);
    if (!l.styles.empty()) j.key("style_by_style").array(l.styles);
    j.key("style_total").value(l.style).key("tv").value(l.tv).key("height").value(h).key("width").value(w);
    j.end_object();
    std::cout << j.str() << "\n";
  } else {
    std::printf("image %lldx%lld\ntotal    %.9g\n", (long long)w, (long long)h, l.total);
    for (size_t i = 0; i < l.content_layers.size(); ++i)
      std::printf("content  %-8s %.9g\n", c.objective.content_layers[i].c_str(), l.content_layers[i]);
    for (size_t i = 0; i < l.style_layers.size(); ++i)
      std::printf("style    %-8s %.9g\n", c.objective.style_layers[i].c_str(), l.style_layers[i]);
    for (size_t k = 0; k < l.styles.size(); ++k)  // with --style-mask: each style over its region
      std::printf("style %zu  %s  %.9g\n", k + 1, c.styles[k].c_str(), l.styles[k]);
    std::printf("tv       %.9g\n", l.tv);
  }
  return 0;
}

const nst::cli::Command command{"loss", "evaluate the objective at an image (and dump its gradient)", run};

}  // namespace
