#include "nst/config.hpp"

#include <algorithm>

#include "io/args.hpp"
#include "nn/vgg19.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

void declare_objective_options(ArgParser& p) {
  p.option("content-weight", "W", "weight of the content loss", "5").alias("-content_weight");
  p.option("style-weight", "W", "weight of the style loss", "100").alias("-style_weight");
  p.option("tv-weight", "W", "weight of the total-variation loss", "0.001").alias("-tv_weight");
  p.option("content-layers", "L,..", "content layers", "relu4_2").alias("-content_layers");
  p.option("style-layers", "L,..", "style layers", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1")
      .alias("-style_layers");
  p.option("style-layer-weights", "W,..", "per style layer weights (default 1 each)");
  p.option("content-layer-weights", "W,..", "per content layer weights (default 1 each)");
  p.option("pooling", "max|avg", "pooling in the network", "max").alias("-pooling");
}

// prog ("nst stylize", "nst loss") starts every message.
void read_objective_options(const Args& a, ObjectiveConfig& o, const std::string& prog) {
  o.content_weight = a.get_double("content-weight", 0, 1e12);
  o.style_weight = a.get_double("style-weight", 0, 1e12);
  o.tv_weight = a.get_double("tv-weight", 0, 1e12);
  o.content_layers = a.get_list("content-layers");
  o.style_layers = a.get_list("style-layers");
  for (const auto* layers : {&o.content_layers, &o.style_layers})
    for (const std::string& name : *layers)
      NST_CHECK(Vgg19::is_activation(name), prog, ": --",
                layers == &o.style_layers ? "style" : "content", "-layers: unknown layer '", name,
                "' (layers are conv1_1..conv5_4, relu1_1..relu5_4, pool1..pool5)");
  if (a.has("style-layer-weights")) o.style_layer_weights = a.get_doubles("style-layer-weights");
  if (a.has("content-layer-weights"))
    o.content_layer_weights = a.get_doubles("content-layer-weights");
  NST_CHECK(o.style_layer_weights.empty() || o.style_layer_weights.size() == o.style_layers.size(),
            prog, ": --style-layer-weights has ", o.style_layer_weights.size(), " values for ",
            o.style_layers.size(), " style layers");
  NST_CHECK(
      o.content_layer_weights.empty() || o.content_layer_weights.size() == o.content_layers.size(),
      prog, ": --content-layer-weights has ", o.content_layer_weights.size(), " values for ",
      o.content_layers.size(), " content layers");
  for (double w : o.style_layer_weights)
    NST_CHECK(w >= 0, prog, ": --style-layer-weights: negative weight ", w);
  for (double w : o.content_layer_weights)
    NST_CHECK(w >= 0, prog, ": --content-layer-weights: negative weight ", w);
  o.pooling = a.get("pooling");
  NST_CHECK(o.pooling == "max" || o.pooling == "avg", prog, ": --pooling must be max or avg, got '",
            o.pooling, "'");
}

std::vector<std::string> split_styles(const std::vector<std::string>& given,
                                      const std::string& prog) {
  std::vector<std::string> out;
  for (const std::string& s : given) {
    size_t start = 0;
    while (true) {
      const size_t comma = s.find(',', start);
      const std::string item =
          s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      NST_CHECK(!item.empty(), prog, ": --style has an empty item in '", s, "'");
      out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

std::vector<double> read_blend(const Args& a, size_t n_styles, const std::string& prog) {
  if (!a.has("style-blend")) return {};
  std::vector<double> blend = a.get_doubles("style-blend");
  NST_CHECK(blend.size() == n_styles, prog, ": --style-blend has ", blend.size(), " weights for ",
            n_styles, " style images");
  double sum = 0;
  for (double w : blend) {
    NST_CHECK(w >= 0, prog, ": --style-blend weights must not be negative, got ", w);
    sum += w;
  }
  NST_CHECK(sum > 0, prog, ": --style-blend weights sum to zero");
  return blend;
}

}  // namespace

bool parse_loss_args(int argc, const char* const* argv, LossConfig& c) {
  ArgParser p("nst loss", "Evaluates the style-transfer objective at an image, term by term.");
  p.option("content", "IMAGE", "content photo").alias("-content_image").required();
  p.option("style", "IMAGE", "style image (repeat, or a comma-separated list)")
      .alias("-style_image").repeatable().required();
  p.option("style-blend", "W,..", "blend weights of the styles").alias("-style_blend_weights");
  p.option("image", "IMAGE", "the image to evaluate").required();
  p.option("weights", "FILE", "VGG-19 weight file (default build/vgg19.nstw)").alias("-model_file");
  p.option("size", "PX", "long side (default: the image's own size)").alias("-image_size");
  p.option("style-scale", "S", "style image size relative to the image", "1").alias("-style_scale");
  p.option("threads", "N", "threads (0 = all cores)", "0");
  p.option("dump-grad", "FILE.npy", "write the gradient (float32, C x H x W, network input space)");
  p.flag("json", "print {\"total\": ..., \"content\": ..., \"style\": [...], \"tv\": ...}");
  declare_objective_options(p);
  auto parsed = p.parse(argc - 1, argv + 1);
  if (!parsed) return false;
  const Args& a = *parsed;
  c.content = a.get("content");
  c.image = a.get("image");
  c.styles = split_styles(a.get_all("style"), "nst loss");
  c.style_blend = read_blend(a, c.styles.size(), "nst loss");
  c.weights = a.get("weights");
  c.size = a.has("size") ? a.get_int("size", 16, 16384) : 0;
  c.style_scale = a.get_double("style-scale", 0.01, 16);
  c.threads = a.get_int("threads", 0, 1024);
  c.dump_grad = a.get("dump-grad");
  c.json = a.flag("json");
  read_objective_options(a, c.objective, "nst loss");
  return true;
}

bool parse_stylize_args(int argc, const char* const* argv, StylizeConfig& c) {
  ArgParser p("nst stylize", "Paints the content photo in the style of the style image(s).");
  p.option("content", "IMAGE", "content photo").alias("-content_image");
  p.option("style", "IMAGE", "style image (repeat, or a comma-separated list)")
      .alias("-style_image").repeatable();
  p.option("style-blend", "W,..", "blend weights of the styles").alias("-style_blend_weights");
  p.option("output", "IMAGE", "output .png or .jpg", "out.png").alias("-output_image");
  p.option("weights", "FILE", "VGG-19 weight file (default build/vgg19.nstw)").alias("-model_file");
  p.option("size", "PX", "long side of the output", "512").alias("-image_size");
  p.option("scales", "PX,..", "coarse-to-fine long sides, e.g. 256,512 (last = output size)");
  p.option("iterations", "N", "iterations per scale", "500").alias("-num_iterations");
  p.option("optimizer", "lbfgs|adam", "optimiser", "lbfgs").alias("-optimizer");
  p.option("learning-rate", "LR", "step size (default: L-BFGS 1, Adam 10)").alias("-learning_rate");
  p.option("lbfgs-history", "M", "L-BFGS history size", "100").alias("-lbfgs_num_correction");
  p.option("lbfgs-precision", "bf16|float", "how the L-BFGS history is stored (bf16: half the memory)",
           "bf16");
  p.flag("line-search", "strong-Wolfe line search for L-BFGS");
  p.option("init", "content|noise|IMAGE", "starting image", "content").alias("-init");
  p.option("init-image", "IMAGE", "starting image (same as --init IMAGE)").alias("-init_image");
  p.option("style-scale", "S", "style image size relative to the output", "1").alias("-style_scale");
  p.flag("original-colors", "keep the content's colours (luminance-only transfer)");
  p.option("original-colors-value", "0|1", "classic spelling of --original-colors").alias("-original_colors");
  p.flag("match-histogram", "match the style images' colours to the content first");
  p.option("seed", "N", "random seed (noise init)", "0").alias("-seed");
  p.option("threads", "N", "threads (0 = all cores)", "0");
  p.option("save-every", "N", "write intermediate images every N iterations", "0").alias("-save_iter");
  p.option("print-every", "N", "print losses every N iterations", "50").alias("-print_iter");
  p.option("checkpoint", "FILE", "where an interruption saves the run (default OUTPUT.ckpt)");
  p.option("resume", "FILE", "continue an interrupted run from its checkpoint");
  p.option("record", "FILE", "JSON run record (default OUTPUT.json)");
  p.option("max-memory", "GB", "refuse runs estimated to need more (default: available RAM)");
  declare_objective_options(p);

  auto parsed = p.parse(argc - 1, argv + 1);
  if (!parsed) return false;
  const Args& a = *parsed;

  c.resume = a.get("resume");
  NST_CHECK(a.has("content") || !c.resume.empty(), "nst stylize: --content is required");
  NST_CHECK(a.has("style") || !c.resume.empty(), "nst stylize: --style is required");
  c.content = a.get("content");
  c.styles = split_styles(a.get_all("style"), "nst stylize");
  c.style_blend = read_blend(a, c.styles.size(), "nst stylize");
  c.output = a.get("output");
  c.weights = a.get("weights");
  c.size = a.get_int("size", 16, 16384);
  c.scales.clear();
  if (a.has("scales")) {
    for (double s : a.get_doubles("scales")) {
      NST_CHECK(s >= 16 && s <= 16384 && s == double(int64_t(s)),
                "nst stylize: --scales entries must be whole numbers from 16 to 16384, got ", s);
      NST_CHECK(c.scales.empty() || s > double(c.scales.back()),
                "nst stylize: --scales must increase");
      c.scales.push_back(int64_t(s));
    }
    NST_CHECK(!c.scales.empty(), "nst stylize: --scales needs at least one size, e.g. 256,512");
    if (!a.has("size")) c.size = c.scales.back();
    NST_CHECK(c.scales.back() == c.size, "nst stylize: the last of --scales (", c.scales.back(),
              ") must equal --size (", c.size, ")");
  }
  c.iterations = a.get_int("iterations", 1, 1000000);
  c.optimizer = a.get("optimizer");
  NST_CHECK(c.optimizer == "lbfgs" || c.optimizer == "adam",
            "nst stylize: --optimizer must be lbfgs or adam, got '", c.optimizer, "'");
  c.learning_rate = a.has("learning-rate") ? a.get_double("learning-rate", 1e-12, 1e6) : -1.0;
  c.lbfgs_history = a.get_int("lbfgs-history", 1, 1000);
  c.lbfgs_precision = a.get("lbfgs-precision");
  NST_CHECK(c.lbfgs_precision == "bf16" || c.lbfgs_precision == "float",
            "nst stylize: --lbfgs-precision must be bf16 or float, got '", c.lbfgs_precision, "'");
  c.line_search = a.flag("line-search");
  c.init = a.get("init");
  if (a.has("init-image")) c.init = a.get("init-image");
  if (c.init == "random" || c.init == "image") c.init = c.init == "random" ? "noise" : "content";
  c.style_scale = a.get_double("style-scale", 0.01, 16);
  c.original_colors = a.flag("original-colors");
  if (a.has("original-colors-value")) c.original_colors = a.get_int("original-colors-value", 0, 1) == 1;
  c.match_histogram = a.flag("match-histogram");
  c.seed = static_cast<uint64_t>(a.get_int("seed", -1, INT64_MAX) < 0 ? 0 : a.get_int("seed", 0, INT64_MAX));
  c.threads = a.get_int("threads", 0, 1024);
  c.save_every = a.get_int("save-every", 0, 1000000);
  c.print_every = a.get_int("print-every", 0, 1000000);
  c.checkpoint = a.has("checkpoint") ? a.get("checkpoint") : c.output + ".ckpt";
  c.record = a.has("record") ? a.get("record") : c.output + ".json";
  c.max_memory_gb = a.has("max-memory") ? a.get_double("max-memory", 0.01, 1e6) : 0.0;
  read_objective_options(a, c.objective, "nst stylize");
  return true;
}

}  // namespace nst
