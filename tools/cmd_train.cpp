// nst train: make a feed-forward style network from one painting and a folder
// of photos, on the CPU (Johnson et al. 2016; nst/train.hpp has the loss), or
// one network for several paintings (conditional instance norm, Dumoulin et
// al. 2017: --style given more than once; the samples of a batch take the
// paintings in turn).
//
//   nst train --style scream.jpg --images photos/ --output scream.nstw --minutes 60
//   nst train --style a.jpg --style b.jpg --images photos/ --output ab.nstw
//   nst train --resume scream.nstw.ckpt --steps 4000      # continue to 4000 steps in all
//
// Files, next to --output: OUTPUT.ckpt (checkpoints: every --checkpoint-every
// steps, on SIGINT / SIGTERM and at the end), OUTPUT_STEM.sample-STEP.png (the
// network applied to one photo every --sample-every steps), and the run record
// (--record, default OUTPUT.json). The model is written at the end of a run,
// and of an interrupted one (as far as it got; the checkpoint continues it).
// Inputs are checked before the first step: a bad painting, folder or flag
// costs no training time and writes nothing.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <set>
#include <sstream>

#include "cli.hpp"
#include "common.hpp"
#include "io/file_util.hpp"
#include "io/image.hpp"
#include "io/warning.hpp"
#include "io/json_writer.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "nst/photo_batches.hpp"
#include "nst/train_checkpoint.hpp"
#include "optim/state_io.hpp"
#include "tensor/check.hpp"
#include "tools/args.hpp"
#include "tools/train_record.hpp"

namespace fs = std::filesystem;
using nst::train_cli::format_seconds;

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_train_signal(int sig) { g_signal.store(sig); }

// What a resumed run may change; everything else comes from the checkpoint.
// --size, --batch and --lr may change too: batch s is a function of the step and
// the crop size alone, so a schedule by hand (say 128 px crops first, then 256)
// is a run resumed with another --size.
const char* const kResumable[] = {"steps",        "minutes",          "output",      "threads",
                                  "record",       "sample-every",     "sample",      "sample-size",
                                  "checkpoint-every", "print-every",  "size",        "batch",
                                  "lr",           "resume"};

std::string number_text(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

nst::ArgParser make_parser() {
  const nst::PerceptualWeights d;  // the library's defaults
  const auto joined = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ",") + x;
    return s;
  };
  nst::ArgParser p("nst train",
                   "Train a feed-forward style network from one painting and a folder of photos "
                   "(Johnson et al. 2016), on the CPU. The result paints with `nst fast`.");
  p.option("style", "IMG", "the painting; repeat it for one network of several styles "
           "(`nst fast --style-index K`)").repeatable();
  p.option("extend", "M.nstw", "add the --style painting(s) to this trained network as new "
           "styles, training only its norm tables (the convolutions stay as they are)");
  p.option("images", "DIR", "training photos: every .jpg / .png under DIR (recursive)");
  p.option("output", "M.nstw", "the network to write");
  p.option("steps", "N", "train to N steps in all (default: --minutes 60 when neither is given)");
  p.option("minutes", "T", "stop after T minutes of this run (whichever of --steps / --minutes comes first)");
  p.option("resume", "M.nstw.ckpt", "continue a run from its checkpoint (may change --steps, "
           "--minutes, --output, --threads, --record, --sample*, --checkpoint-every, --print-every, "
           "--size, --batch, --lr)");
  p.option("width", "W", "channels of the first layer (32: the published 32/64/128 network)", "32");
  p.option("padding", "reflect|zero", "how the convolutions fill the picture's border: mirrored "
           "(no frame painted along the edges) or zeros (as the published networks)", "reflect");
  p.option("upsample", "transposed|nearest", "how the network doubles the resolution back: "
           "transposed convs (as the published networks) or nearest-neighbour then a conv "
           "(no built-in grid pattern, but it learned slower in a 13-minute test)", "transposed");
  p.option("size", "PX", "side of the square photo crops (a multiple of 4)", "256");
  p.option("batch", "B", "photos per step", "4");
  p.option("style-size", "PX", "long side of the painting when its Gram matrices are taken", "512");
  p.option("content-layers", "L,...", "VGG-19 layers of the content loss", joined(d.content_layers));
  p.option("style-layers", "L,...", "VGG-19 layers of the style loss", joined(d.style_layers));
  p.option("content-weight", "A", "weight of the content loss", number_text(d.content_weight));
  p.option("style-weight", "B", "weight of the style loss", number_text(d.style_weight));
  p.option("tv-weight", "G", "weight of the total variation (per pixel)", number_text(d.tv_weight));
  p.option("lr", "R", "Adam's learning rate", "1e-3");
  p.option("seed", "S", "seed of the initial weights, the photo order and the crops", "1");
  p.option("threads", "N", "threads (0 = all cores)", "0");
  p.option("sample-every", "N", "write a sample picture every N steps (0 = never)", "100");
  p.option("sample", "IMG", "the photo of the samples (default: the first training photo)");
  p.option("sample-size", "PX", "long side of the sample pictures", "512");
  p.option("checkpoint-every", "N", "write OUTPUT.ckpt every N steps (0 = only on a signal and at the end)", "100");
  p.option("print-every", "N", "a progress line every N steps when stderr is not a terminal", "10");
  p.option("record", "FILE", "the JSON run record (default: OUTPUT.json)");
  p.option("weights", "FILE", "the VGG-19 weight file (default: $NST_WEIGHTS or next to nst)");
  return p;
}

// The photo of the samples: --sample, else the first training photo that reads.
nst::Tensor sample_photo(const std::string& given, const nst::PhotoBatches& photos) {
  if (!given.empty()) return nst::load_image(given);
  for (const std::string& p : photos.photos().paths) {
    try {
      return nst::load_image(p);
    } catch (const nst::Error&) {
    }
  }
  nst::fail("nst train: no training photo can be read for the samples; give --sample IMG");
}

// The option name of an argument "--name" or "--name=value" ("" otherwise).
std::string option_name(const std::string& arg) {
  if (arg.rfind("--", 0) != 0) return "";
  return arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
}

// The checkpoint's arguments with the options given now replacing theirs (every
// train option takes a value: "--name value" or "--name=value"), --resume left out.
std::vector<std::string> with_overrides(const std::vector<std::string>& stored,
                                        const std::vector<std::string>& given) {
  std::vector<std::string> now;  // the given arguments without --resume
  for (size_t i = 0; i < given.size(); ++i) {
    if (option_name(given[i]) == "resume") {
      if (given[i].find('=') == std::string::npos) ++i;
      continue;
    }
    now.push_back(given[i]);
  }
  std::set<std::string> replaced;
  for (const std::string& a : now)
    if (!option_name(a).empty()) replaced.insert(option_name(a));
  // A new length replaces both of the old run's limits: `--steps 4000` after a
  // `--minutes 60` run trains to step 4000.
  if (replaced.count("steps") || replaced.count("minutes")) replaced.insert({"steps", "minutes"});
  std::vector<std::string> out;
  for (size_t i = 0; i < stored.size(); ++i) {
    const std::string name = option_name(stored[i]);
    if (!replaced.count(name)) {
      out.push_back(stored[i]);
      continue;
    }
    if (stored[i].find('=') == std::string::npos) ++i;  // skip its value too
  }
  out.insert(out.end(), now.begin(), now.end());
  return out;
}

int run(int argc, const char* const* argv) {
  const nst::ArgParser parser = make_parser();
  auto first = parser.parse(argc - 1, argv + 1);
  if (!first) return 0;

  // A resumed run: the checkpoint's arguments, each option given now replacing
  // the stored one (with_overrides).
  nst::TrainCheckpoint ckpt;
  std::vector<std::string> args;
  if (first->has("resume")) {
    const std::string from = first->get("resume");
    const std::vector<std::string> given(argv + 1, argv + argc);
    for (const std::string& g : given) {
      const std::string name = option_name(g);
      if (name.empty()) continue;
      bool ok = false;
      std::string can;
      for (const char* r : kResumable) {
        ok = ok || name == r;
        if (std::string(r) != "resume") can += std::string(can.empty() ? "--" : ", --") + r;
      }
      NST_CHECK(ok, "nst train: --", name, " cannot change when resuming (the checkpoint '", from,
                "' fixes it); these can: ", can);
    }
    ckpt = nst::load_train_checkpoint(from);
    args = with_overrides(ckpt.args, given);
  } else {
    args.assign(argv + 1, argv + argc);
  }
  const nst::Args a = *parser.parse(args);
  for (const char* req : {"style", "images", "output"})
    NST_CHECK(a.has(req), "nst train: --", req, " is required (or --resume CHECKPOINT)");

  const std::string output = a.get("output");
  const std::string record = a.has("record") ? a.get("record") : output + ".json";
  const std::string ckpt_path = output + ".ckpt";
  {
    const fs::path parent = fs::path(output).parent_path();
    std::error_code ec;
    NST_CHECK(parent.empty() || fs::is_directory(parent, ec), "nst train: the folder of --output '",
              output, "' does not exist");
    NST_CHECK(!fs::is_directory(output, ec), "nst train: --output '", output, "' is a folder");
    // An earlier run's checkpoint is hours of work: a fresh run (or a resumed
    // one writing elsewhere) does not replace it silently.
    const bool resuming_it = first->has("resume") && fs::equivalent(first->get("resume"), ckpt_path, ec);
    NST_CHECK(resuming_it || !fs::exists(ckpt_path, ec), "nst train: '", ckpt_path,
              "' exists (an earlier run's training state): continue that run with --resume ",
              ckpt_path, ", or remove the file to start again");
  }
  for (const char* o : {"width", "padding", "upsample"})
    NST_CHECK(!(a.has("extend") && first->has(o)), "nst train: --", o, " comes from the network "
              "given to --extend");
  const int64_t width = a.get_int("width", 1, 256);
  const std::string padding_name = a.get("padding");
  NST_CHECK(padding_name == "reflect" || padding_name == "zero", "nst train: --padding '",
            padding_name, "': reflect or zero");
  const nst::Padding padding = padding_name == "reflect" ? nst::Padding::reflect : nst::Padding::zero;
  const std::string upsample_name = a.get("upsample");
  NST_CHECK(upsample_name == "nearest" || upsample_name == "transposed", "nst train: --upsample '",
            upsample_name, "': nearest or transposed");
  const nst::Upsampling upsampling =
      upsample_name == "nearest" ? nst::Upsampling::nearest : nst::Upsampling::transposed;
  const int64_t size = a.get_int("size", 16, 4096);
  NST_CHECK(size % 4 == 0, "nst train: --size ", size,
            " must be a multiple of 4 (the network halves the crop twice and doubles it back)");
  const int64_t batch = a.get_int("batch", 1, 256);
  const int64_t style_size = a.get_int("style-size", 16, 8192);
  const bool has_steps = a.has("steps"), has_minutes = a.has("minutes");
  const int64_t steps_target = has_steps ? a.get_int("steps", 0, int64_t(1) << 40) : INT64_MAX;
  const double minutes = has_minutes ? a.get_double("minutes", 1e-3, 1e7) : (has_steps ? 0.0 : 60.0);
  const int64_t sample_every = a.get_int("sample-every", 0, INT64_MAX);
  const int64_t sample_size = a.get_int("sample-size", 16, 8192);
  const int64_t checkpoint_every = a.get_int("checkpoint-every", 0, INT64_MAX);
  const int64_t print_every = a.get_int("print-every", 0, INT64_MAX);
  nst::PerceptualWeights pw;
  pw.content_layers = a.get_list("content-layers");
  pw.style_layers = a.get_list("style-layers");
  pw.content_weight = a.get_double("content-weight", 0, 1e12);
  pw.style_weight = a.get_double("style-weight", 0, 1e12);
  pw.tv_weight = a.get_double("tv-weight", 0, 1e12);
  for (const std::string& l : pw.content_layers)
    NST_CHECK(nst::Vgg19::is_activation(l), "nst train: unknown content layer '", l, "'");
  for (const std::string& l : pw.style_layers)
    NST_CHECK(nst::Vgg19::is_activation(l), "nst train: unknown style layer '", l, "'");
  nst::AdamOptions adam_options;
  adam_options.lr = a.get_double("lr", 1e-12, 1e3);
  const auto seed = uint64_t(a.get_int("seed", 0, INT64_MAX));
  nst::cli::apply_threads(a.get_int("threads", 0, 1024));

  // Everything that can fail on bad input, before the first step.
  // The paintings, named after their files (a name that repeats gets _2, _3).
  std::vector<nst::Tensor> styles;
  std::vector<std::string> style_names;
  for (const std::string& path : a.get_all("style")) {
    styles.push_back(nst::resize_to_long_side(nst::load_image(path), style_size));
    style_names.push_back(nst::unique_style_name(style_names, fs::path(path).stem().string()));
  }
  NST_CHECK(int64_t(styles.size()) <= nst::kMaxStyles, "nst train: ", styles.size(),
            " paintings; at most ", nst::kMaxStyles);
  const int64_t S = int64_t(styles.size());
  nst::PhotoSet photos = nst::PhotoSet::scan(a.get("images"));
  const uint64_t fingerprint = photos.fingerprint();
  if (first->has("resume") && fingerprint != ckpt.photos_fingerprint)
    nst::warn(nst::str("the photos under '", photos.folder,
                       "' are not the ones the checkpoint was trained on: the batches will differ "
                       "from an uninterrupted run's"));
  const std::string sample_path = a.has("sample") ? a.get("sample") : std::string();
  std::vector<std::string> layers = pw.content_layers;
  layers.insert(layers.end(), pw.style_layers.begin(), pw.style_layers.end());
  const nst::Vgg19 vgg = nst::Vgg19::load(nst::cli::resolve_weights(a.get("weights")), false, layers);
  const nst::PerceptualLoss loss(vgg, pw, styles);
  nst::BatchPrefetcher batches(std::move(photos), {size, batch, seed});
  const int64_t start_step = ckpt.step;
  nst::Tensor next = batches.take(start_step);  // fails now if no photo can be read
  nst::Tensor sample;
  if (sample_every > 0) sample = nst::shrink_to_long_side(sample_photo(sample_path, batches.source()), sample_size);
  const bool resumed = ckpt.net.has_value();
  const bool extending = a.has("extend");
  if (!resumed) {
    ckpt.photos_fingerprint = fingerprint;
    if (extending) {  // the trained network, one more norm row per painting
      nst::Transformer net = nst::Transformer::load(a.get("extend"));
      for (const std::string& name : style_names) net = nst::add_style(net, name);
      ckpt.net.emplace(std::move(net));
    } else {
      nst::TransformerSpec spec = nst::johnson_transformer(width, 5, padding, upsampling);
      if (S > 1) spec.styles = style_names;  // one painting: a plain one-style file
      ckpt.net.emplace(nst::init_transformer(spec, seed));
    }
    ckpt.adam.emplace(*ckpt.net, adam_options);
  }
  // The paintings are the network's last S styles (all of them unless extending).
  nst::TrainScope scope;
  scope.first_style = ckpt.net->style_count() - S;
  scope.norms_only = extending;
  NST_CHECK(scope.first_style == 0 || (extending && scope.first_style > 0),
            "nst train: the checkpoint's network has ", ckpt.net->style_count(), " styles, this run ",
            S, " paintings");
  ckpt.adam->options.lr = adam_options.lr;  // a resumed run may change it
  ckpt.args = args;

  std::signal(SIGINT, on_train_signal);
  std::signal(SIGTERM, on_train_signal);
  const bool tty = ::isatty(STDERR_FILENO);
  const auto run_start = std::chrono::steady_clock::now();
  const auto run_seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  };
  const double seconds_before = ckpt.seconds;
  const std::string stem = nst::train_cli::output_stem(output);
  const auto checkpoint = [&] { nst::save_train_checkpoint(ckpt_path, ckpt); };
  std::fprintf(stderr, "nst train: %lld painting%s, %zu photos, %lld x %lld crops, batch %lld, %s%s\n",
               (long long)S, S > 1 ? "s" : "", batches.source().photos().paths.size(),
               (long long)size, (long long)size, (long long)batch,
               has_steps ? ("to step " + std::to_string(steps_target)).c_str() : "",
               minutes > 0 ? ((has_steps ? ", at most " : "for ") + format_seconds(minutes * 60)).c_str() : "");
  if (resumed) std::fprintf(stderr, "nst train: resuming at step %lld\n", (long long)start_step);

  bool time_up = false;
  while (ckpt.step < steps_target && g_signal.load() == 0) {
    if (minutes > 0 && run_seconds() >= minutes * 60) {
      time_up = true;
      break;
    }
    const nst::Tensor crops = ckpt.step == start_step ? next : batches.take(ckpt.step);
    std::vector<int64_t> turn;  // each sample's style: the paintings in turn
    if (S > 1 || extending)
      for (int64_t k : nst::round_robin_styles(ckpt.step, batch, S)) turn.push_back(scope.first_style + k);
    const nst::TrainTerms terms = nst::train_step(*ckpt.net, *ckpt.adam, loss, crops, turn, scope);
    ++ckpt.step;
    ckpt.seconds = seconds_before + run_seconds();
    ckpt.steps.push_back({ckpt.step, terms, ckpt.seconds});
    const double rate = double(ckpt.step - start_step) / std::max(run_seconds(), 1e-9);
    double left = has_steps ? double(steps_target - ckpt.step) / rate : 0.0;
    if (minutes > 0) left = has_steps ? std::min(left, minutes * 60 - run_seconds()) : minutes * 60 - run_seconds();
    char line[256];
    std::snprintf(line, sizeof line,
                  "step %lld  loss %.4g (content %.4g  style %.4g  tv %.4g)  %.3f steps/s  ETA %s",
                  (long long)ckpt.step, terms.loss, terms.content, terms.style, terms.tv, rate,
                  format_seconds(std::max(left, 0.0)).c_str());
    if (tty)
      std::fprintf(stderr, "\r\033[K%s", line);
    else if (print_every > 0 && (ckpt.step % print_every == 0 || ckpt.step == start_step + 1))
      std::fprintf(stderr, "%s\n", line);
    if (sample_every > 0 && ckpt.step % sample_every == 0)
      for (int64_t k = scope.first_style; k < ckpt.net->style_count(); ++k) {  // one per style trained
        char name[64];
        std::snprintf(name, sizeof name,
                      ckpt.net->style_count() > 1 ? ".sample-%06lld-s%lld.png" : ".sample-%06lld.png",
                      (long long)ckpt.step, (long long)k);
        try {  // a sample that cannot be written (a full disk) costs no training
          nst::save_image(stem + name, ckpt.net->stylize(sample, ckpt.net->style_one_hot(k)));
        } catch (const nst::Error& e) {
          nst::warn(nst::str("no sample at step ", ckpt.step, ": ", e.what()));
        }
      }
    if (checkpoint_every > 0 && ckpt.step % checkpoint_every == 0) checkpoint();
  }
  if (tty) std::fputc('\n', stderr);
  const bool interrupted = g_signal.load() != 0;
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);

  // The checkpoint first (it continues the run whatever fails after), then the
  // model, then the record that names the model's bytes.
  checkpoint();
  std::string source = "nst train:";
  for (const std::string& st : a.get_all("style")) source += " " + st;
  const nst::WrittenFile model =
      ckpt.net->save(output, source + ", " + std::to_string(ckpt.step) + " steps", "");
  nst::train_cli::write_record(record, a, ckpt.net->style_names(), ckpt, batches.source(), vgg,
                               model, start_step, run_seconds(), interrupted);
  std::fprintf(stderr, "nst train: %s after %lld steps (%s): wrote %s, %s and %s\n",
               interrupted ? "interrupted" : time_up ? "time is up" : "done", (long long)ckpt.step,
               format_seconds(ckpt.seconds).c_str(), output.c_str(), ckpt_path.c_str(),
               record.c_str());
  if (interrupted) {
    std::fprintf(stderr, "nst train: continue with: nst train --resume %s\n", ckpt_path.c_str());
    return 130;
  }
  return 0;
}

const nst::cli::Command command{"train", "train a feed-forward style network on the CPU", run};

}  // namespace
