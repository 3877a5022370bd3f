// Everything a stylisation run needs to know: plain structs, filled in by the
// CLI (tools/options.hpp parses the flags into them) or by a program that
// links the library.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nst {

struct ObjectiveConfig {
  std::vector<std::string> content_layers = {"relu4_2"};
  std::vector<std::string> style_layers = {"relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"};
  std::vector<double> content_layer_weights;  // empty = 1 for each layer
  std::vector<double> style_layer_weights;    // empty = 1 for each layer
  double content_weight = 5.0;
  double style_weight = 100.0;
  double tv_weight = 1e-3;
  std::string pooling = "max";  // max | avg
  std::string style_loss = "gram";  // gram | mean-cov | w2 (nst/losses.hpp)

  // Every layer the objective reads (content then style).
  std::vector<std::string> layers() const {
    std::vector<std::string> all = content_layers;
    all.insert(all.end(), style_layers.begin(), style_layers.end());
    return all;
  }
};

// Region-specific styling (Gatys et al. 2017, spatial control): grey mask
// images, white = 1 = in the region, black = 0; any size (each is resized to
// the picture, then to every layer's resolution). nst/masks.hpp loads them.
struct MaskConfig {
  // One per style: where that style applies. Each style's Grams are taken
  // over its region only; empty = every style everywhere (blended).
  std::vector<std::string> style_masks;
  // One per style: the part of each painting its style is taken from;
  // empty = the whole paintings.
  std::vector<std::string> style_image_masks;
  // Where the content loss weighs content_mask_weight times as much as
  // elsewhere (a face kept close to the photo); empty = nowhere.
  std::string content_mask;
  double content_mask_weight = 30.0;
};

struct StylizeConfig {
  std::string content;                 // content image
  std::vector<std::string> styles;     // style images
  std::vector<double> style_blend;     // blend weights (normalised to sum 1); empty = equal
  std::string output = "out.png";
  std::string weights;                 // weight file; empty = the default one
  int64_t size = 512;                  // long side of the output, px
  std::vector<int64_t> scales;         // coarse-to-fine long sides; empty = coarse_to_fine_scales
  int64_t iterations = 60;             // per scale (at most)
  int64_t first_iterations = 0;        // at the coarsest of several scales; 0 = 4 * iterations
  int64_t last_iterations = 0;         // at the finest of several scales; 0 = iterations
  // A scale ends early once the loss fell by less than tolerance (relative) over
  // the last tolerance_window iterations; 0 = never.
  double tolerance = 0.01;
  int64_t tolerance_window = 20;
  std::string optimizer = "lbfgs";     // lbfgs | adam
  double learning_rate = -1;           // < 0: the optimiser's default (L-BFGS 1, Adam 10)
  int64_t lbfgs_history = 100;
  std::string lbfgs_precision = "bf16";  // bf16 | float: how the history's pairs are kept
  bool line_search = false;            // strong-Wolfe line search for L-BFGS
  std::string bounds = "on";           // on | off: keep x within the displayable range
  std::string init = "content";        // content | noise | image path
  // An exponential moving average of the image over each scale's iterations,
  // a = decay a + (1 - decay) x, bias-corrected, is the picture; 0 = off.
  double average = 0;
  double style_scale = 1.0;            // style images' long side = style_scale * size
  bool original_colors = false;        // luminance-only transfer
  bool match_histogram = false;        // match the style images' colours to the content first
  uint64_t seed = 0;
  int64_t threads = 0;                 // 0 = all cores
  int64_t save_every = 0;              // write intermediate images every N iterations (0 = never)
  int64_t print_every = 50;            // print losses every N iterations (0 = never)
  std::string checkpoint;              // where SIGINT/SIGTERM writes a checkpoint (default output + .ckpt)
  std::string resume;                  // checkpoint to continue from
  std::string record;                  // JSON run record path (default output + .json)
  double max_memory_gb = 0;            // refuse runs estimated above this (0 = available RAM)
  ObjectiveConfig objective;
  MaskConfig masks;
  // A strength sweep: one run per style weight (objective.style_weight unused).
  std::vector<double> style_weights;
};

// `nst loss`: evaluates the objective at an image without optimising.
struct LossConfig {
  std::string content, image, weights, dump_grad;
  std::vector<std::string> styles;
  std::vector<double> style_blend;
  int64_t size = 0;  // long side; 0 = the image's own size
  double style_scale = 1.0;
  int64_t threads = 0;
  bool json = false;
  ObjectiveConfig objective;
  MaskConfig masks;
};

}  // namespace nst
