// nst fast: paint photos with a feed-forward style network in one pass each.
//
//   nst fast --model build/models/udnie.nstw --input photo.jpg --output out.png
//   nst fast --model M.nstw --input photos/ --input extra.jpg --output-dir painted/
//
// A batch loads the network once; a photo that cannot be read or painted is
// reported and skipped, the others are written (atomically), and the exit
// status is 1 when any failed. SIGINT / SIGTERM stop between two photos.
// --shard, --skip-existing and --manifest split a large batch over machines
// and restart it (tools/batch.hpp, docs/batch.md).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli.hpp"
#include "common.hpp"
#include "io/file_util.hpp"
#include "io/image.hpp"
#include "io/json_writer.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "nst/fast.hpp"
#include "nst/masks.hpp"
#include "nst/memory_estimate.hpp"
#include "tensor/check.hpp"
#include "tools/args.hpp"
#include "tools/batch.hpp"

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_fast_signal(int sig) { g_signal.store(sig); }

std::string format_seconds(double s) {
  char buf[32];
  if (s < 90)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  return buf;
}

struct Done {
  std::string input, output;
  int64_t width = 0, height = 0;
  double network_seconds = 0, total_seconds = 0;
};
struct Failed {
  std::string input, error;
};
struct Skipped {
  std::string input, output;
};

// Grey masks, one per style, all of the first one's size: [S, 1, H, W], 0..1.
nst::Tensor load_masks(const std::vector<std::string>& files) {
  nst::Tensor out;
  for (size_t s = 0; s < files.size(); ++s) {
    const nst::Tensor mask = nst::grey_mask(nst::load_image(files[s]));
    const int64_t H = mask.dim(2), W = mask.dim(3), M = H * W;
    if (s == 0) out = nst::Tensor::empty({int64_t(files.size()), 1, H, W});
    NST_CHECK(H == out.dim(2) && W == out.dim(3), "nst fast: mask '", files[s], "' is ", W, " x ",
              H, ", the first mask '", files[0], "' ", out.dim(3), " x ", out.dim(2),
              ": give masks of one size");
    std::copy(mask.data(), mask.data() + M, out.data() + int64_t(s) * M);
  }
  return out;
}

// --style-strip: the photo painted at each mix between two styles, side by side.
int write_strip(const nst::Transformer& net, const nst::Args& a, nst::FastOptions options,
                const std::string& input, const std::string& output) {
  const std::vector<double> alphas = a.get_doubles("style-strip");
  NST_CHECK(!alphas.empty() && alphas.size() <= 64, "nst fast: --style-strip takes 1 to 64 values");
  const std::vector<double> pair = a.get_doubles("strip-styles");
  NST_CHECK(pair.size() == 2, "nst fast: --strip-styles takes two style indices, got ", pair.size());
  const int64_t S = net.style_count();
  for (double k : pair)
    NST_CHECK(k >= 0 && k < double(S) && k == double(int64_t(k)), "nst fast: --strip-styles ", k,
              ": '", a.get("model"), "' has styles 0..", S - 1);
  const nst::Tensor photo = nst::load_image(input);
  std::vector<nst::Tensor> panels;
  for (double alpha : alphas) {
    NST_CHECK(std::isfinite(alpha) && std::abs(alpha) <= 100, "nst fast: --style-strip value ",
              alpha, " is not a number in -100..100");
    options.style.assign(size_t(S), 0.0);
    options.style[size_t(pair[0])] += 1.0 - alpha;
    options.style[size_t(pair[1])] += alpha;
    panels.push_back(nst::fast_stylize(net, photo, options).image);
  }
  const int64_t H = panels[0].h(), W = panels[0].w(), n = int64_t(panels.size());
  nst::Tensor strip = nst::Tensor::empty({1, 3, H, W * n});
  for (int64_t k = 0; k < n; ++k)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < H; ++y)
        std::copy_n(panels[size_t(k)].data() + (c * H + y) * W, W,
                    strip.data() + (c * H + y) * W * n + k * W);
  nst::save_image(output, strip);
  std::fprintf(stderr, "nst fast: wrote %s (%lld panels of %lld x %lld)\n", output.c_str(),
               (long long)n, (long long)W, (long long)H);
  return 0;
}

// --json: the batch as one record on stdout ("shard" and "skipped" only when
// those flags were given).
void print_json(const nst::Args& a, const nst::cli::BatchFlags& batch, const nst::FastOptions& options,
                const std::vector<Done>& done, const std::vector<Failed>& failed,
                const std::vector<Skipped>& skipped) {
  nst::JsonWriter j;
  j.begin_object().key("model").value(a.get("model"));
  j.key("threads").value(int64_t(nst::kernels::num_threads()));
  j.key("simd").value(nst::kernels::simd_level_name(nst::kernels::simd_level()));
  if (!options.style.empty()) {  // the style weights used (a multi-style network)
    j.key("style").begin_array();
    for (double w : options.style) j.value(w);
    j.end_array();
  }
  if (batch.sharded) j.key("shard").value(batch.shard.str());
  j.key("images").begin_array();
  for (const Done& d : done)
    j.begin_object().key("input").value(d.input).key("output").value(d.output)
        .key("width").value(d.width).key("height").value(d.height)
        .key("network_seconds").value(d.network_seconds)
        .key("total_seconds").value(d.total_seconds).end_object();
  j.end_array().key("failed").begin_array();
  for (const Failed& f : failed)
    j.begin_object().key("input").value(f.input).key("error").value(f.error).end_object();
  j.end_array();
  if (batch.skip_existing) {
    j.key("skipped").begin_array();
    for (const Skipped& k : skipped)
      j.begin_object().key("input").value(k.input).key("output").value(k.output).end_object();
    j.end_array();
  }
  j.key("interrupted").value(g_signal.load() != 0).end_object();
  std::cout << j.str() << "\n";
}

int run(int argc, const char* const* argv) {
  nst::ArgParser p("nst fast",
                   "Paint photos in a style with a feed-forward network (one pass per photo; "
                   "models: `make models`, or `nst convert --from ml5`).");
  p.option("model", "M.nstw", "the style network").required();
  p.option("input", "IMG|DIR", "a photo, or a folder of photos (repeatable)").repeatable();
  p.option("output", "OUT", "the picture to write (.png or .jpg), for one photo");
  p.option("output-dir", "DIR", "where a batch goes: DIR/<photo name>.<format>");
  p.option("format", "png|jpg", "file type of the pictures in --output-dir", "png");
  p.option("size", "PX", "long side of the output (default: the photo's own size)");
  p.option("threads", "N", "threads (0 = all cores)", "0");
  p.flag("original-colors", "keep the photo's colours (only the luminance is stylised)");
  p.option("blend", "A", "mix in the photo: 0 = stylised only, 1 = the photo", "0");
  p.option("pad", "N", "mirror N px around the photo for the network and cut them off after: no frame "
           "along the edges (a 512 px photo with 48 costs ~1.5x the time)", "0");
  p.option("max-memory", "GB",
           "refuse photos estimated to need more (default: the available RAM)");
  p.option("style-index", "K", "a multi-style network's style K (0-based; default 0)");
  p.option("style-mix", "W,..", "mix a multi-style network's styles, one weight per style "
           "(e.g. 0.3,0.7; they need not sum to 1)");
  p.option("style-mask-images", "M0,M1,..", "paint by region: one grey mask per style (white = "
           "that style; each pixel mixes the styles in the masks' proportions)");
  p.option("style-strip", "A,B,..", "one picture of panels side by side, the first style mixed "
           "into the second at each A (0 = first, 1 = second), for one --input and --output");
  p.option("strip-styles", "I,J", "the two styles of --style-strip", "0,1");
  p.option("shard", "I/N", "paint only shard I of N of the sorted photos (0 <= I < N)");
  p.flag("skip-existing", "leave photos whose picture exists (pictures are written whole or not at all)");
  p.option("manifest", "FILE", "append one JSON line per photo to FILE (shards may share one)");
  p.flag("list", "print the network's styles and stop");
  p.flag("json", "print one JSON record on stdout");
  auto parsed = p.parse(argc - 1, argv + 1);
  if (!parsed) return 0;
  const nst::Args& a = *parsed;

  if (a.flag("list")) {
    const nst::Transformer listed = nst::Transformer::load(a.get("model"));
    const std::vector<std::string> names = listed.style_names();
    if (a.flag("json")) {
      nst::JsonWriter j;
      j.begin_object().key("model").value(a.get("model")).key("styles").begin_array();
      for (const std::string& n : names) j.value(n);
      j.end_array().end_object();
      std::cout << j.str() << "\n";
    } else {
      for (size_t k = 0; k < names.size(); ++k) std::cout << k << "\t" << names[k] << "\n";
    }
    return 0;
  }
  NST_CHECK(a.has("input"), "nst fast: --input is required (a photo or a folder; or --list)");
  {
    int given = 0;
    for (const char* o : {"style-index", "style-mix", "style-mask-images", "style-strip"})
      given += a.has(o) ? 1 : 0;
    NST_CHECK(given <= 1, "nst fast: give one of --style-index, --style-mix, --style-mask-images "
              "and --style-strip, not several");
  }

  nst::FastOptions options;
  options.size = a.has("size") ? a.get_int("size", 1, 65535) : 0;
  options.blend = a.get_double("blend", 0.0, 1.0);
  options.pad = a.get_int("pad", 0, 4096);
  options.original_colors = a.flag("original-colors");
  options.max_memory_bytes = a.has("max-memory")
                                 ? int64_t(a.get_double("max-memory", 0.01, 1e6) * double(1 << 30))
                                 : nst::available_memory_bytes();
  const nst::cli::BatchFlags batch = nst::cli::read_batch_flags(a, "nst fast", "input");
  nst::cli::apply_threads(a.get_int("threads", 0, 1024));

  std::vector<std::string> inputs = nst::cli::collect_inputs(batch.inputs, "nst fast");
  const bool to_dir = !batch.output_dir.empty();
  NST_CHECK(to_dir != a.has("output"), "nst fast: give --output OUT (one photo) or --output-dir DIR",
            " (a batch), not ", to_dir ? "both" : "neither");
  NST_CHECK(to_dir || inputs.size() == 1, "nst fast: ", inputs.size(),
            " photos need --output-dir DIR, not --output");
  std::vector<std::string> outputs;
  if (to_dir) {
    outputs = nst::cli::batch_outputs(inputs, batch, "nst fast");
  } else {
    outputs.push_back(a.get("output"));
    const std::string ext = nst::file_extension(outputs[0]);
    NST_CHECK(ext == "png" || ext == "jpg" || ext == "jpeg", "nst fast: --output '", outputs[0],
              "' must end in .png, .jpg or .jpeg");
    NST_CHECK(!nst::same_file(inputs[0], outputs[0]), "nst fast: the output '", outputs[0],
              "' is the input photo itself; choose another name");
  }
  // This shard's photos (all checked above, so every shard refuses the same
  // batch), then those not painted yet.
  const size_t all_count = inputs.size();
  if (batch.sharded) {
    const std::vector<size_t> mine = nst::cli::shard_positions(inputs, batch.shard);
    inputs = nst::cli::pick(inputs, mine);
    outputs = nst::cli::pick(outputs, mine);
  }
  std::optional<nst::cli::Manifest> manifest;
  if (!batch.manifest.empty()) manifest.emplace(batch.manifest, batch.shard, "nst fast");
  bool manifest_ok = true;
  const auto append = [&](const nst::cli::ManifestEntry& e) {
    manifest_ok = (!manifest || manifest->append(e)) && manifest_ok;
  };
  std::vector<Skipped> skipped;
  if (batch.skip_existing) {
    std::vector<std::string> todo_in, todo_out;
    std::vector<nst::cli::ManifestEntry> lines;
    for (size_t k = 0; k < inputs.size(); ++k) {
      std::error_code ec;
      if (!fs::is_regular_file(outputs[k], ec)) {
        todo_in.push_back(inputs[k]);
        todo_out.push_back(outputs[k]);
        continue;
      }
      skipped.push_back({inputs[k], outputs[k]});
      lines.push_back({inputs[k], outputs[k], "skipped", -1, -1, 0.0, ""});
    }
    if (manifest && !manifest->append(lines)) manifest_ok = false;
    inputs = todo_in;
    outputs = todo_out;
  }
  if (batch.sharded && all_count > 0 && inputs.size() + skipped.size() == 0)
    std::fprintf(stderr, "nst fast: shard %s holds none of the %zu photos: nothing to do\n",
                 batch.shard.str().c_str(), all_count);
  if (!skipped.empty())
    std::fprintf(stderr, "nst fast: %zu of %zu photos already painted, skipped (--skip-existing)\n",
                 skipped.size(), skipped.size() + inputs.size());
  if (inputs.empty()) {
    if (a.flag("json")) print_json(a, batch, nst::FastOptions(), {}, {}, skipped);
    return manifest_ok ? 0 : 1;
  }

  const nst::Transformer net = nst::Transformer::load(a.get("model"));
  // The style: checked against the network before any photo is read.
  if (a.has("style-index")) {
    const int64_t k = a.get_int("style-index", 0, nst::kMaxStyles - 1);
    NST_CHECK(k < net.style_count(), "nst fast: --style-index ", k, ": '", a.get("model"),
              "' has ", net.style_count(), net.style_count() == 1 ? " style" : " styles",
              " (see --list)");
    options.style.assign(size_t(net.style_count()), 0.0);
    options.style[size_t(k)] = 1.0;
  } else if (a.has("style-mix")) {
    options.style = a.get_doubles("style-mix");
    NST_CHECK(int64_t(options.style.size()) == net.style_count(), "nst fast: --style-mix has ",
              options.style.size(), " weights but '", a.get("model"), "' has ", net.style_count(),
              net.style_count() == 1 ? " style" : " styles", " (see --list)");
  }
  if (!options.style.empty()) (void)net.style_mix(options.style);  // range errors now, not per photo
  if (a.has("style-mask-images")) {
    const std::vector<std::string> files = a.get_list("style-mask-images");
    NST_CHECK(int64_t(files.size()) == net.style_count(), "nst fast: --style-mask-images has ",
              files.size(), " masks but '", a.get("model"), "' has ", net.style_count(),
              net.style_count() == 1 ? " style" : " styles", " (see --list)");
    options.regions = load_masks(files);
  }
  if (a.has("style-strip")) {
    NST_CHECK(!to_dir && inputs.size() == 1, "nst fast: --style-strip paints one --input into one --output");
    return write_strip(net, a, options, inputs[0], outputs[0]);
  }

  std::signal(SIGINT, on_fast_signal);
  std::signal(SIGTERM, on_fast_signal);
  const bool tty = ::isatty(STDERR_FILENO) && inputs.size() > 1;
  const bool json = a.flag("json");
  std::vector<Done> done;
  std::vector<Failed> failed;
  const auto start = std::chrono::steady_clock::now();
  size_t i = 0;
  for (; i < inputs.size() && g_signal.load() == 0; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const nst::Tensor photo = nst::load_image(inputs[i]);
      const nst::FastResult r = nst::fast_stylize(net, photo, options);
      nst::save_image(outputs[i], r.image);
      Done d{inputs[i], outputs[i], r.image.w(), r.image.h(), r.network_seconds, 0.0};
      d.total_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      done.push_back(d);
      append({d.input, d.output, "ok", d.width, d.height, d.total_seconds, ""});
      if (!tty && !json) {
        if (inputs.size() > 1) std::fprintf(stderr, "[%zu/%zu] ", i + 1, inputs.size());
        std::fprintf(stderr, "%s -> %s (%lld x %lld, %.2f s, network %.2f s)\n",
                     inputs[i].c_str(), outputs[i].c_str(), (long long)d.width,
                     (long long)d.height, d.total_seconds, d.network_seconds);
      }
    } catch (const std::exception& e) {
      failed.push_back({inputs[i], e.what()});
      append({inputs[i], outputs[i], "failed", -1, -1,
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), e.what()});
      std::fprintf(stderr, "%snst fast: skipped '%s': %s\n", tty ? "\r\033[K" : "",
                   inputs[i].c_str(), e.what());
    }
    if (tty) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = double(i + 1) / std::max(elapsed, 1e-9);
      std::fprintf(stderr, "\r\033[K%zu/%zu photos  %.2f photos/s  ETA %s", i + 1, inputs.size(),
                   rate, format_seconds(double(inputs.size() - i - 1) / rate).c_str());
      if (i + 1 == inputs.size()) std::fputc('\n', stderr);
    }
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  if (json) print_json(a, batch, options, done, failed, skipped);
  if (g_signal.load() != 0) {
    if (tty) std::fputc('\n', stderr);
    std::fprintf(stderr,
                 "nst fast: interrupted after %zu of %zu photos; every picture written is "
                 "complete\n",
                 i, inputs.size());
    return 130;
  }
  if (!failed.empty()) {
    std::fprintf(stderr, "nst fast: %zu of %zu photos failed\n", failed.size(), inputs.size());
    return 1;
  }
  if (!manifest_ok) std::fprintf(stderr, "nst fast: error: the manifest misses lines (see above)\n");
  return manifest_ok ? 0 : 1;
}

const nst::cli::Command command{"fast", "paint photos with a feed-forward style network", run};

}  // namespace
