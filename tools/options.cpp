#include "tools/options.hpp"

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "models/vgg19.hpp"
#include "nst/stylize.hpp"
#include "tensor/check.hpp"
#include "tools/args.hpp"
#include "tools/option_table.hpp"

namespace nst::cli {

namespace {

using namespace option_table;

// ---- the objective's options, shared by stylize and loss --------------------

std::vector<Option<ObjectiveConfig>> objective_options() {
  using O = ObjectiveConfig;
  std::vector<Option<O>> t;
  t.push_back(real<O>("content-weight", "W", "weight of the content loss", "5", &O::content_weight, 0, 1e12)
                  .alias("-content_weight"));
  t.push_back(real<O>("style-weight", "W", "weight of the style loss (10 with --style-loss w2)", "100",
                      &O::style_weight, 0, 1e12)
                  .alias("-style_weight"));
  t.push_back(real<O>("tv-weight", "W", "weight of the total-variation loss", "0.001", &O::tv_weight, 0, 1e12)
                  .alias("-tv_weight"));
  const auto layers = [](std::string name, std::string help, std::string def,
                         std::vector<std::string> O::*field) {
    Option<O> o = recorded<O>(name, "L,..", std::move(help), std::move(def), field);
    o.read = [=](const Args& a, O& c, const std::string& prog) {
      c.*field = a.get_list(name);
      for (const std::string& layer : c.*field)
        NST_CHECK(Vgg19::is_activation(layer), prog, ": --", name, ": unknown layer '", layer,
                  "' (layers are conv1_1..conv5_4, relu1_1..relu5_4, pool1..pool5)");
    };
    return o.alias("-" + record_key(name));
  };
  t.push_back(layers("content-layers", "content layers", "relu4_2", &O::content_layers));
  t.push_back(layers("style-layers", "style layers", "relu1_1,relu2_1,relu3_1,relu4_1,relu5_1",
                     &O::style_layers));
  // Per-layer weights: as many as layers (read after them), none negative.
  const auto layer_weights = [](std::string name, std::string kind, std::vector<double> O::*field,
                                std::vector<std::string> O::*layer_list) {
    Option<O> o = recorded<O>(name, "W,..", "per " + kind + " layer weights (default 1 each)", "", field);
    o.read = [=](const Args& a, O& c, const std::string& prog) {
      if (a.has(name)) c.*field = a.get_doubles(name);
      NST_CHECK((c.*field).empty() || (c.*field).size() == (c.*layer_list).size(), prog, ": --", name,
                " has ", (c.*field).size(), " values for ", (c.*layer_list).size(), " ", kind, " layers");
    };
    return o;
  };
  t.push_back(layer_weights("style-layer-weights", "style", &O::style_layer_weights, &O::style_layers));
  t.push_back(layer_weights("content-layer-weights", "content", &O::content_layer_weights, &O::content_layers));
  // The sign checks after both counts, style first (as the messages were always ordered).
  Option<O> signs{"", "", "", "", {}, false, false, nullptr, nullptr};
  signs.read = [](const Args&, O& c, const std::string& prog) {
    for (double w : c.style_layer_weights) NST_CHECK(w >= 0, prog, ": --style-layer-weights: negative weight ", w);
    for (double w : c.content_layer_weights)
      NST_CHECK(w >= 0, prog, ": --content-layer-weights: negative weight ", w);
  };
  t.push_back(signs);
  t.push_back(choice<O>("pooling", "pooling in the network", "max", &O::pooling, {"max", "avg"}).alias("-pooling"));
  t.push_back(choice<O>("style-loss",
                        "style statistic: Gram matrices, feature means and covariances matched apart, or the "
                        "2-Wasserstein distance between their Gaussian fits",
                        "gram", &O::style_loss, {"gram", "mean-cov", "w2"}));
  // w2's default style weight is a tenth: at 100 its optimum is nearly the
  // painting itself (its figures took over the photo; README, style losses).
  Option<O> w2_weight{"", "", "", "", {}, false, false, nullptr, nullptr};
  w2_weight.read = [](const Args& a, O& c, const std::string&) {
    if (c.style_loss == "w2" && !a.has("style-weight")) c.style_weight = 10;
  };
  t.push_back(w2_weight);
  return t;
}

// An ObjectiveConfig option as an option of a config C that holds one in `objective`.
template <class C>
Option<C> lift(const Option<ObjectiveConfig>& o) {
  Option<C> l{o.name, o.metavar, o.help, o.default_value, o.aliases, o.repeatable, o.required, nullptr, nullptr};
  l.read = [read = o.read](const Args& a, C& c, const std::string& prog) { read(a, c.objective, prog); };
  if (o.record)
    l.record = [record = o.record](JsonWriter& j, const C& c) { record(j, c.objective); };
  return l;
}

// ---- options with their own rules -------------------------------------------

// Every item of a repeatable list option: "--style a.jpg,b.jpg --style c.jpg".
std::vector<std::string> split_items(const std::vector<std::string>& given, const std::string& prog,
                                     const std::string& flag) {
  std::vector<std::string> out;
  for (const std::string& s : given) {
    size_t start = 0;
    while (true) {
      const size_t comma = s.find(',', start);
      const std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      NST_CHECK(!item.empty(), prog, ": --", flag, " has an empty item in '", s, "'");
      out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

template <class C>
Option<C> style_images() {
  Option<C> o{"style", "IMAGE", "style image (repeat, or a comma-separated list)", "", {"-style_image"}, true,
              false, nullptr, nullptr};
  o.read = [](const Args& a, C& c, const std::string& prog) { c.styles = split_items(a.get_all("style"), prog, "style"); };
  o.record = [](JsonWriter& j, const C& c) { j.key("styles").array(c.styles); };
  return o;
}

// Blend weights: one per style image (read after them), none negative, not all zero.
template <class C>
Option<C> style_blend() {
  Option<C> o = recorded<C>("style-blend", "W,..", "blend weights of the styles", "", &C::style_blend);
  o.alias("-style_blend_weights");
  o.read = [](const Args& a, C& c, const std::string& prog) {
    c.style_blend.clear();
    if (!a.has("style-blend")) return;
    const std::vector<double> blend = a.get_doubles("style-blend");
    NST_CHECK(blend.size() == c.styles.size(), prog, ": --style-blend has ", blend.size(), " weights for ",
              c.styles.size(), " style images");
    double sum = 0;
    for (double w : blend) {
      NST_CHECK(w >= 0, prog, ": --style-blend weights must not be negative, got ", w);
      sum += w;
    }
    NST_CHECK(sum > 0, prog, ": --style-blend weights sum to zero");
    c.style_blend = blend;
  };
  return o;
}

// The region masks (nst/masks.hpp), after the styles. Only the names and their
// counts here: nst::load_masks reads and checks the files before any work.
template <class C>
std::vector<Option<C>> mask_options() {
  std::vector<Option<C>> t;
  const auto per_style = [](std::string name, std::string help, std::vector<std::string> MaskConfig::*field) {
    Option<C> o{name, "MASK", std::move(help), "", {}, true, false, nullptr, nullptr};
    o.read = [=](const Args& a, C& c, const std::string& prog) {
      c.masks.*field = split_items(a.get_all(name), prog, name);
      NST_CHECK((c.masks.*field).empty() || (c.masks.*field).size() == c.styles.size(), prog, ": ",
                (c.masks.*field).size(), " --", name, " for ", c.styles.size(), " --style: give one per style, "
                "in the same order");
    };
    o.record = [key = record_key(name) + "s", field](JsonWriter& j, const C& c) { j.key(key).array(c.masks.*field); };
    return o;
  };
  t.push_back(per_style("style-mask", "where a style applies: a grey image per --style (white = there; soft "
                        "edges blend)", &MaskConfig::style_masks));
  t.push_back(per_style("style-image-mask", "which part of each style image its style is taken from (one per "
                        "--style)", &MaskConfig::style_image_masks));
  Option<C> content{"content-mask", "MASK", "where the content loss weighs --content-mask-weight times more (a face "
                    "kept close to the photo)", "", {}, false, false, nullptr, nullptr};
  content.read = [](const Args& a, C& c, const std::string&) { c.masks.content_mask = a.get("content-mask"); };
  content.record = [](JsonWriter& j, const C& c) { j.key("content_mask").value(c.masks.content_mask); };
  t.push_back(content);
  Option<C> weight{"content-mask-weight", "K", "the content loss's weight inside --content-mask, relative to "
                   "outside", "30", {}, false, false, nullptr, nullptr};
  weight.read = [](const Args& a, C& c, const std::string&) {
    c.masks.content_mask_weight = a.get_double("content-mask-weight", 0, 1e6);
  };
  weight.record = [](JsonWriter& j, const C& c) { j.key("content_mask_weight").value(c.masks.content_mask_weight); };
  t.push_back(weight);
  return t;
}

// The options of nst stylize, in the order they are read (and listed by --help).
std::vector<Option<StylizeConfig>> stylize_options() {
  using S = StylizeConfig;
  std::vector<Option<S>> t;
  // Repeatable for a batch (--output-dir, read into BatchFlags); a single run takes one.
  t.push_back(text<S>("content", "IMAGE", "content photo; with --output-dir a folder of photos, or repeat", "",
                      &S::content)
                  .alias("-content_image"));
  t.back().repeatable = true;
  t.push_back(style_images<S>());
  t.push_back(style_blend<S>());
  for (const Option<S>& o : mask_options<S>()) t.push_back(o);
  t.push_back(text<S>("output", "IMAGE", "output .png or .jpg", "out.png", &S::output).alias("-output_image"));
  // A batch (docs/batch.md): parse_stylize_args reads these into BatchFlags.
  const auto batch = [](std::string name, std::string metavar, std::string help, std::string def) {
    return Option<S>{name, metavar, help, def, {}, false, false, [](const Args&, S&, const std::string&) {}, nullptr};
  };
  t.push_back(batch("output-dir", "DIR", "a batch: paint every --content into DIR/<name>.<format>", ""));
  t.push_back(batch("format", "png|jpg", "file type of the pictures in --output-dir", "png"));
  t.push_back(batch("shard", "I/N", "paint only shard I of N of the sorted photos (0 <= I < N)", ""));
  t.push_back(batch("skip-existing", "", "leave photos already painted (their record says finished); resume "
                    "interrupted ones from their checkpoint", ""));
  t.push_back(batch("manifest", "FILE", "append one JSON line per photo to FILE", ""));
  // Recorded as the file actually read (the record writer resolves the default).
  t.push_back(text<S>("weights", "FILE", "VGG-19 weight file (default build/vgg19.nstw)", "", &S::weights)
                  .alias("-model_file")
                  .unrecorded());
  t.push_back(integer<S>("size", "PX", "long side of the output", "512", &S::size, 16, 16384).alias("-image_size"));
  // Increasing whole sizes; the last is the output size (--size defaults to it).
  // "auto" (empty): coarse_to_fine_scales, resolved by the command once the photos are read.
  Option<S> scales = recorded<S>("scales", "auto|PX,..",
                                 "coarse-to-fine long sides, e.g. 256,512 (last = output size); auto: from 128 px "
                                 "up by sqrt(2)",
                                 "auto", &S::scales);
  scales.read = [](const Args& a, S& c, const std::string& prog) {
    c.scales.clear();
    if (!a.has("scales") || a.get("scales") == "auto") return;
    for (double s : a.get_doubles("scales")) {
      NST_CHECK(s >= 16 && s <= 16384 && s == double(int64_t(s)), prog,
                ": --scales entries must be whole numbers from 16 to 16384, got ", s);
      NST_CHECK(c.scales.empty() || s > double(c.scales.back()), prog, ": --scales must increase");
      c.scales.push_back(int64_t(s));
    }
    NST_CHECK(!c.scales.empty(), prog, ": --scales needs at least one size, e.g. 256,512");
    if (!a.has("size")) c.size = c.scales.back();
    NST_CHECK(c.scales.back() == c.size, prog, ": the last of --scales (", c.scales.back(), ") must equal --size (",
              c.size, ")");
  };
  scales.record = [](JsonWriter& j, const S& c) { j.key("scales").array(scale_sizes(c)); };
  t.push_back(scales);
  t.push_back(integer<S>("iterations", "N", "iterations per scale (at most)", "60", &S::iterations, 1, 1000000)
                  .alias("-num_iterations"));
  t.push_back(integer<S>("first-iterations", "N",
                         "iterations at the coarsest of several scales (at most; 0: 4 x --iterations)", "0",
                         &S::first_iterations, 0, 1000000));
  t.push_back(integer<S>("last-iterations", "N",
                         "iterations at the finest of several scales (at most; 0: --iterations)", "0",
                         &S::last_iterations, 0, 1000000));
  t.push_back(choice<S>("optimizer", "optimiser", "lbfgs", &S::optimizer, {"lbfgs", "adam"}).alias("-optimizer"));
  t.push_back(real<S>("tolerance", "T",
                      "end a scale once the loss fell by less than T (relative) over the last "
                      "--tolerance-window iterations (0: run every iteration)",
                      "0.01", &S::tolerance, 0, 1));
  t.push_back(integer<S>("tolerance-window", "N", "iterations the --tolerance rule looks back", "20",
                         &S::tolerance_window, 1, 100000));
  Option<S> lr = recorded<S>("learning-rate", "LR", "step size (default: L-BFGS 1, Adam 10)", "", &S::learning_rate);
  lr.read = [](const Args& a, S& c, const std::string&) {
    c.learning_rate = a.has("learning-rate") ? a.get_double("learning-rate", 1e-12, 1e6) : -1.0;
  };
  t.push_back(lr.alias("-learning_rate"));
  t.push_back(integer<S>("lbfgs-history", "M", "L-BFGS history size", "100", &S::lbfgs_history, 1, 1000)
                  .alias("-lbfgs_num_correction"));
  t.push_back(choice<S>("lbfgs-precision", "how the L-BFGS history is stored (bf16: half the memory)", "bf16",
                        &S::lbfgs_precision, {"bf16", "float"}));
  t.push_back(flag<S>("line-search", "strong-Wolfe line search for L-BFGS", &S::line_search));
  t.push_back(choice<S>("bounds",
                        "keep the pixels in 0..255 while optimising (projected L-BFGS, clamped Adam), "
                        "so the picture written is the one optimised; off: unconstrained",
                        "on", &S::bounds, {"on", "off"}));
  // --init content|noise|IMAGE; --init-image IMAGE; the classic "random" and "image".
  Option<S> init = recorded<S>("init", "content|noise|IMAGE", "starting image", "content", &S::init);
  init.read = [](const Args& a, S& c, const std::string&) {
    c.init = a.get("init");
    if (a.has("init-image")) c.init = a.get("init-image");
    if (c.init == "random" || c.init == "image") c.init = c.init == "random" ? "noise" : "content";
  };
  t.push_back(init.alias("-init"));
  t.push_back(text<S>("init-image", "IMAGE", "starting image (same as --init IMAGE)", "", &S::init)
                  .alias("-init_image")
                  .unrecorded());
  t.back().read = [](const Args&, S&, const std::string&) {};  // read with --init
  t.push_back(real<S>("average", "DECAY",
                      "write the exponential average (bias-corrected) of the last scale's iterates instead of "
                      "the last one, e.g. 0.9; 0 = off",
                      "0", &S::average, 0, 0.9999));
  t.push_back(real<S>("style-scale", "S", "style image size relative to the output", "1", &S::style_scale, 0.01, 16)
                  .alias("-style_scale"));
  Option<S> colours = flag<S>("original-colors", "keep the content's colours (luminance-only transfer)",
                              &S::original_colors);
  colours.read = [](const Args& a, S& c, const std::string&) {
    c.original_colors = a.flag("original-colors");
    if (a.has("original-colors-value")) c.original_colors = a.get_int("original-colors-value", 0, 1) == 1;
  };
  t.push_back(colours);
  t.push_back(text<S>("original-colors-value", "0|1", "classic spelling of --original-colors", "", &S::content)
                  .alias("-original_colors")
                  .unrecorded());
  t.back().read = [](const Args&, S&, const std::string&) {};  // read with --original-colors
  t.push_back(flag<S>("match-histogram", "match the style images' colours to the content first", &S::match_histogram));
  // The classic -seed -1 (a random seed there) is taken as 0.
  Option<S> seed{"seed", "N", "random seed (noise init)", "0", {"-seed"}, false, false, nullptr, nullptr};
  seed.read = [](const Args& a, S& c, const std::string&) {
    c.seed = static_cast<uint64_t>(a.get_int("seed", -1, INT64_MAX) < 0 ? 0 : a.get_int("seed", 0, INT64_MAX));
  };
  seed.record = [](JsonWriter& j, const S& c) { j.key("seed").value(int64_t(c.seed)); };
  t.push_back(seed);
  // Recorded as the count actually used (the record writer asks the thread pool).
  t.push_back(integer<S>("threads", "N", "threads (0 = all cores)", "0", &S::threads, 0, 1024).unrecorded());
  t.push_back(integer<S>("save-every", "N", "write intermediate images every N iterations", "0", &S::save_every, 0,
                         1000000)
                  .alias("-save_iter"));
  t.push_back(integer<S>("print-every", "N", "print losses every N iterations", "50", &S::print_every, 0, 1000000)
                  .alias("-print_iter"));
  // Paths that default to the output's name with a suffix.
  const auto beside_output = [](std::string name, std::string help, std::string suffix, std::string S::*field) {
    Option<S> o = recorded<S>(name, "FILE", std::move(help), "", field);
    o.read = [=](const Args& a, S& c, const std::string&) { c.*field = a.has(name) ? a.get(name) : c.output + suffix; };
    return o;
  };
  t.push_back(beside_output("checkpoint", "where an interruption saves the run (default OUTPUT.ckpt)", ".ckpt",
                            &S::checkpoint));
  t.push_back(text<S>("resume", "FILE", "continue an interrupted run from its checkpoint", "", &S::resume).unrecorded());
  t.push_back(beside_output("record", "JSON run record (default OUTPUT.json)", ".json", &S::record));
  Option<S> memory = recorded<S>("max-memory", "GB", "refuse runs estimated to need more (default: available RAM)",
                                 "", &S::max_memory_gb);
  memory.read = [](const Args& a, S& c, const std::string&) {
    c.max_memory_gb = a.has("max-memory") ? a.get_double("max-memory", 0.01, 1e6) : 0.0;
  };
  t.push_back(memory);
  for (const Option<ObjectiveConfig>& o : objective_options()) t.push_back(lift<S>(o));
  // After --style-weight (read with the objective): a sweep replaces it.
  Option<S> sweep = recorded<S>("style-weights", "W,..",
                                "a strength sweep: one picture per style weight (OUT_w10.png, ...) and a strip of "
                                "them (OUT_strip.png)",
                                "", &S::style_weights);
  sweep.read = [](const Args& a, S& c, const std::string& prog) {
    c.style_weights.clear();
    if (!a.has("style-weights")) return;
    c.style_weights = a.get_doubles("style-weights");
    NST_CHECK(!c.style_weights.empty() && c.style_weights.size() <= 64, prog,
              ": --style-weights takes 1 to 64 values");
    for (double w : c.style_weights)
      NST_CHECK(w >= 0 && w <= 1e12, prog, ": --style-weights values must be from 0 to 1e12, got ", w);
    NST_CHECK(!a.has("style-weight"), prog, ": give --style-weight or --style-weights, not both");
    NST_CHECK(!a.has("record") && !a.has("checkpoint"), prog,
              ": --style-weights writes a record and a checkpoint beside each picture: drop --record and "
              "--checkpoint");
  };
  t.push_back(sweep);
  return t;
}


}  // namespace

bool parse_stylize_args(int argc, const char* const* argv, StylizeConfig& c, BatchFlags* batch) {
  static const std::vector<Option<StylizeConfig>> table = stylize_options();
  ArgParser p("nst stylize", "Paints the content photo in the style of the style image(s).");
  declare(p, table);
  const auto parsed = p.parse(argc - 1, argv + 1);
  if (!parsed) return false;
  const Args& a = *parsed;
  const std::string prog = "nst stylize";
  const bool resuming = a.has("resume") && !a.get("resume").empty();
  NST_CHECK(a.has("content") || resuming, prog, ": --content is required");
  NST_CHECK(a.has("style") || resuming, prog, ": --style is required");
  const BatchFlags flags = read_batch_flags(a, prog, "content");
  if (flags.output_dir.empty()) {
    NST_CHECK(flags.inputs.size() <= 1, prog, ": several --content need --output-dir DIR (a batch)");
  } else {
    NST_CHECK(batch, prog, ": --output-dir is not accepted here");
    for (const char* name : {"output", "record", "checkpoint", "resume", "style-weights"})
      NST_CHECK(!a.has(name), prog, ": --", name, " does not go with --output-dir: a batch writes DIR/<name>.",
                flags.format, " with its record (.json) and checkpoint (.ckpt) beside it, and continues with "
                "--skip-existing");
  }
  if (batch) *batch = flags;
  for (const Option<StylizeConfig>& o : table) o.read(a, c, prog);
  return true;
}

void record_stylize_options(JsonWriter& json, const StylizeConfig& c) {
  static const std::vector<Option<StylizeConfig>> table = stylize_options();
  for (const Option<StylizeConfig>& o : table)
    if (o.record) o.record(json, c);
}

bool parse_loss_args(int argc, const char* const* argv, LossConfig& c) {
  using L = LossConfig;
  std::vector<Option<L>> t;
  t.push_back(text<L>("content", "IMAGE", "content photo", "", &L::content).alias("-content_image").mandatory());
  t.push_back(style_images<L>().mandatory());
  t.push_back(style_blend<L>());
  for (const Option<L>& o : mask_options<L>()) t.push_back(o);
  t.push_back(text<L>("image", "IMAGE", "the image to evaluate", "", &L::image).mandatory());
  t.push_back(text<L>("weights", "FILE", "VGG-19 weight file (default build/vgg19.nstw)", "", &L::weights)
                  .alias("-model_file"));
  Option<L> size = recorded<L>("size", "PX", "long side (default: the image's own size)", "", &L::size);
  size.read = [](const Args& a, L& l, const std::string&) { l.size = a.has("size") ? a.get_int("size", 16, 16384) : 0; };
  t.push_back(size.alias("-image_size"));
  t.push_back(real<L>("style-scale", "S", "style image size relative to the image", "1", &L::style_scale, 0.01, 16)
                  .alias("-style_scale"));
  t.push_back(integer<L>("threads", "N", "threads (0 = all cores)", "0", &L::threads, 0, 1024));
  t.push_back(text<L>("dump-grad", "FILE.npy", "write the gradient (float32, C x H x W, network input space)", "",
                      &L::dump_grad));
  t.push_back(flag<L>("json", "print {\"total\": ..., \"content\": ..., \"style\": [...], \"tv\": ...}", &L::json));
  for (const Option<ObjectiveConfig>& o : objective_options()) t.push_back(lift<L>(o));

  ArgParser p("nst loss", "Evaluates the style-transfer objective at an image, term by term.");
  declare(p, t);
  const auto parsed = p.parse(argc - 1, argv + 1);
  if (!parsed) return false;
  for (const Option<L>& o : t) o.read(*parsed, c, "nst loss");
  return true;
}

}  // namespace nst::cli
