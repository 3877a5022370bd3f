#include "tools/stylize_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include "common.hpp"
#include "io/atomic_write.hpp"
#include "io/file_util.hpp"
#include "io/image.hpp"
#include "io/json_writer.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "nst/memory_estimate.hpp"
#include "tensor/check.hpp"
#include "tools/options.hpp"

namespace nst::cli {

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_stop_signal(int sig) { g_signal.store(sig); }

std::string format_duration(double s) {
  char buf[32];
  const long t = long(s + 0.5);
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

std::string snapshot_path(const std::string& output, int64_t done) {
  const std::filesystem::path p(output);
  return (p.parent_path() /
          (p.stem().string() + "_" + std::to_string(done) + p.extension().string()))
      .string();
}

void print_losses(const IterationInfo& info) {
  std::fprintf(
      stderr,
      "scale %zu/%zu (%lldx%lld) iteration %lld/%lld  total %.6g  content %.6g  style %.6g [",
      info.scale + 1, info.scales, (long long)info.width, (long long)info.height,
      (long long)info.iteration, (long long)info.iterations, info.loss.total, info.loss.content,
      info.loss.style);
  for (size_t i = 0; i < info.loss.style_layers.size(); ++i)
    std::fprintf(stderr, "%s%.4g", i ? " " : "", info.loss.style_layers[i]);
  std::fprintf(stderr, "]  tv %.4g  %.1fs\n", info.loss.tv, info.seconds);
}

void print_progress_bar(const IterationInfo& info) {
  const int width = 30;
  const double frac = info.total ? double(info.done) / double(info.total) : 1.0;
  const int filled = int(frac * width);
  const double eta =
      info.done ? info.seconds / double(info.done) * double(info.total - info.done) : 0.0;
  std::fprintf(stderr, "\r[%s%s] %3d%%  scale %zu/%zu  it %lld/%lld  loss %.4g  ETA %s ",
               std::string(size_t(filled), '#').c_str(),
               std::string(size_t(width - filled), '.').c_str(), int(frac * 100), info.scale + 1,
               info.scales, (long long)info.iteration, (long long)info.iterations, info.loss.total,
               format_duration(eta).c_str());
  if (info.done == info.total) std::fprintf(stderr, "\n");
}

void write_record(const StylizeConfig& c, const Vgg19& net, const StylizeResult& r,
                  const std::vector<InputFile>& inputs, const WrittenFile& picture,
                  const std::string& path) {
  JsonWriter j;
  j.begin_object();
  j.key("engine").value(std::string("nst ") + NST_VERSION);
  j.key("simd").value(kernels::simd_level_name(kernels::simd_level()));
  j.key("threads").value(int64_t(kernels::num_threads()));
  // Every recorded option (tools/options.cpp), then what the run resolved.
  record_stylize_options(j, c);
  j.key("weights").value(net.path()).key("weights_checksum").value(net.checksum());
  // The files read (photo, paintings, masks, start image) and their checksums.
  j.key("inputs").begin_array();
  for (const InputFile& f : inputs) {
    char sum[17];
    std::snprintf(sum, sizeof sum, "%016llx", (unsigned long long)f.fnv1a64);
    j.begin_object().key("path").value(f.path).key("fnv1a64").value(std::string(sum)).end_object();
  }
  j.end_array();
  // Which bytes this record describes: a reader can check that the picture at
  // `output` is the one this run wrote.
  char checksum[17];
  std::snprintf(checksum, sizeof checksum, "%016llx", (unsigned long long)picture.checksum);
  j.key("output_bytes").value(int64_t(picture.bytes)).key("output_fnv1a64").value(checksum);
  j.key("result").begin_object();
  j.key("interrupted").value(r.interrupted).key("diverged").value(r.diverged);
  j.key("seconds").value(r.seconds).key("final_loss").value(r.final_loss.total);
  // The objective of the picture as written (8 bits, 0..255): what a reader evaluates.
  if (!r.interrupted && !r.diverged) {
    j.key("saved_loss")
        .value(r.saved_loss.total)
        .key("saved_clipped_fraction")
        .value(r.saved_clipped_fraction);
    // With --style-mask: each style's terms over its region, of the written picture.
    if (!r.saved_loss.styles.empty()) j.key("saved_style_loss_by_style").array(r.saved_loss.styles);
  }
  j.key("scales").begin_array();
  for (const auto& s : r.scales) {
    j.begin_object().key("height").value(s.height).key("width").value(s.width);
    j.key("iterations").value(s.iterations).key("evaluations").value(s.evaluations);
    j.key("seconds").value(s.seconds).key("stop").value(s.stop_reason);
    j.key("loss_trace").array(s.loss_trace).end_object();
  }
  j.end_array().end_object().end_object();
  write_file_atomically(path, j.str() + "\n");
}

// Writes the files of a finished or interrupted run, in the order that keeps
// them consistent whatever fails (docs/reliability.md):
//   1. the checkpoint (interrupted runs only): the state to continue from;
//   2. the picture;
//   3. the run record, which names the picture's size and checksum. It is
//      written only after the picture; when it cannot be, an older record
//      (which describes an older picture) is removed.
// Each file replaces its old version only once complete (write_atomically).
// Returns false, after saying what happened, when any of them failed.
bool write_outputs(const StylizeConfig& c, const Vgg19& net, const StylizeResult& r,
                   const std::vector<std::string>& args, const std::vector<InputFile>& inputs,
                   const ResumePoint& resume) {
  bool ok = true;
  if (r.interrupted) {
    try {
      save_checkpoint(c.checkpoint, {args, inputs, r.state});
    } catch (const WriteError& e) {
      ok = false;
      std::fprintf(stderr, "nst stylize: error: %s\n", e.what());
      std::error_code ec;
      if (e.new_file_in_place)
        std::fprintf(stderr, "nst stylize: continue with: nst stylize --resume %s\n",
                     c.checkpoint.c_str());
      else if (!resume.path.empty() && std::filesystem::exists(resume.path, ec))
        std::fprintf(
            stderr,
            "nst stylize: the last good checkpoint is %s (%lld iterations done); continue with: "
            "nst stylize --resume %s\n",
            resume.path.c_str(), (long long)resume.checkpoint.state.done, resume.path.c_str());
      else
        std::fprintf(stderr,
                     "nst stylize: no checkpoint of this run could be written: free some space "
                     "and run it again\n");
    }
  }
  // A picture whose folder could not be synced is in place: its record follows.
  WrittenFile picture;
  try {
    picture = save_image(c.output, r.image);
  } catch (const WriteError& e) {
    std::fprintf(stderr, "nst stylize: error: %s\n", e.what());
    if (!e.new_file_in_place) {
      std::fprintf(stderr, "nst stylize: the run record %s was not written either\n",
                   c.record.c_str());
      return false;
    }
    ok = false;
    picture = e.written;
  }
  try {
    write_record(c, net, r, inputs, picture, c.record);
  } catch (const WriteError& e) {
    std::fprintf(stderr, "nst stylize: error: %s\n", e.what());
    if (e.new_file_in_place) return false;
    std::error_code ec;
    const bool stale = std::filesystem::exists(c.record, ec);
    const bool removed = stale && std::filesystem::remove(c.record, ec);
    std::fprintf(
        stderr, "nst stylize: the picture %s was written%s\n", c.output.c_str(),
        !stale    ? ""
        : removed ? "; the older record, which described an earlier picture, was removed"
                  : "; the older record, which describes an earlier picture, could not be removed");
    return false;
  }
  std::fprintf(stderr,
               "nst stylize: wrote %s (%lldx%lld, final loss %.6g, of the written picture %.6g, "
               "%.1f s) and %s\n",
               c.output.c_str(), (long long)r.image.dim(3), (long long)r.image.dim(2),
               r.final_loss.total, r.saved_loss.total, r.seconds, c.record.c_str());
  return ok;
}

}  // namespace

void catch_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

void restore_stop_signals() {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
}

int stop_signal() { return g_signal.load(); }

std::vector<std::string> run_input_paths(const StylizeConfig& c) {
  std::vector<std::string> paths{c.content};
  paths.insert(paths.end(), c.styles.begin(), c.styles.end());
  paths.insert(paths.end(), c.masks.style_masks.begin(), c.masks.style_masks.end());
  paths.insert(paths.end(), c.masks.style_image_masks.begin(), c.masks.style_image_masks.end());
  if (!c.masks.content_mask.empty()) paths.push_back(c.masks.content_mask);
  if (c.init != "content" && c.init != "noise") paths.push_back(c.init);
  return paths;
}

void check_output(const StylizeConfig& c, const std::vector<std::string>& inputs) {
  for (const std::string& in : inputs)
    NST_CHECK(!same_file(in, c.output), "nst stylize: the output '", c.output,
              "' is also an input: refusing to overwrite it");
  const std::string ext = file_extension(c.output);
  NST_CHECK(ext == "png" || ext == "jpg" || ext == "jpeg", "nst stylize: output '", c.output,
            "': unknown image type (use .png or .jpg)");
  const std::filesystem::path out_dir = std::filesystem::path(c.output).parent_path();
  NST_CHECK(out_dir.empty() || std::filesystem::is_directory(out_dir),
            "nst stylize: output folder '", out_dir.string(), "' does not exist");
}

// Only the sizes the largest scale reads are kept: a 12-megapixel photo is
// 144 MB of floats, its 512 px version 2.4 MB. (The last scale resizes to
// exactly this size, so a single-scale run sees the same pixels either way.)
Tensor load_content(const StylizeConfig& c) {
  const std::vector<int64_t> sizes = scale_sizes(c);
  return shrink_to_long_side(load_image(c.content), *std::max_element(sizes.begin(), sizes.end()));
}

Paintings load_paintings(const StylizeConfig& c) {
  const std::vector<int64_t> sizes = scale_sizes(c);
  const int64_t largest = *std::max_element(sizes.begin(), sizes.end());
  Paintings p;
  const int64_t style_long = style_long_side(c.style_scale, largest);
  for (const std::string& s : c.styles)
    p.styles.push_back(shrink_to_long_side(load_image(s), style_long));
  if (c.init != "content" && c.init != "noise") p.init = load_image(c.init);
  p.masks = load_masks(c.masks, c.styles.size(), "nst stylize");
  for (Tensor& m : p.masks.style) m = shrink_to_long_side(m, largest);
  if (p.masks.content.defined()) p.masks.content = shrink_to_long_side(p.masks.content, largest);
  for (Tensor& m : p.masks.style_image) m = shrink_to_long_side(m, style_long);
  return p;
}

std::string plan_run(StylizeConfig& c, const Tensor& content, const std::vector<Tensor>& styles) {
  if (c.scales.empty()) {
    std::vector<Tensor> photos = styles;
    photos.push_back(content);
    c.scales = coarse_to_fine_scales(c.size, short_over_long(photos));
  }
  int64_t style_h = 1, style_w = 1;
  for (const Tensor& s : styles) {
    if (s.dim(2) * s.dim(3) <= style_h * style_w) continue;
    style_h = s.dim(2);
    style_w = s.dim(3);
  }
  const int64_t limit = c.max_memory_gb > 0 ? int64_t(c.max_memory_gb * double(int64_t(1) << 30))
                                            : available_memory_bytes();
  const std::string weights = resolve_weights(c.weights);
  std::error_code ec;
  const auto weight_bytes = std::filesystem::file_size(weights, ec);
  check_memory_limit(c,
                     estimate_stylize_memory(c, content.dim(2), content.dim(3), style_h, style_w,
                                             ec ? 0 : int64_t(weight_bytes)),
                     limit);
  return weights;
}

RunOutcome run_and_write(const StylizeConfig& c, const Vgg19& net, const Tensor& content,
                         const Paintings& p, const std::vector<std::string>& args,
                         const std::vector<InputFile>& inputs, const ResumePoint& resume,
                         StyleTargetCache* targets) {
  const bool tty = ::isatty(STDERR_FILENO);
  StylizeCallbacks cb;
  cb.interrupted = [] { return g_signal.load() != 0; };
  cb.on_iteration = [&](const IterationInfo& info) {
    const bool print = c.print_every > 0 && info.iteration % c.print_every == 0;
    if (tty) {
      if (print) std::fprintf(stderr, "\n");
      print_progress_bar(info);
      if (print) print_losses(info);
    } else if (print) {
      print_losses(info);
    }
  };
  // A snapshot that cannot be written (a full disk) does not end the run: the
  // final picture and the checkpoint matter more. The run reports it and exits 1.
  int64_t failed_snapshots = 0;
  cb.on_snapshot = [&](const Tensor& rgb, int64_t done) {
    try {
      save_image(snapshot_path(c.output, done), rgb);
    } catch (const Error& e) {
      ++failed_snapshots;
      std::fprintf(stderr, "%snst stylize: warning: %s (the run goes on)\n", tty ? "\n" : "",
                   e.what());
    }
  };
  RunOutcome out;
  const RunState* from = resume.checkpoint.state.x.defined() ? &resume.checkpoint.state : nullptr;
  out.result = stylize(c, net, content, p.styles, cb, p.init, from, p.masks, targets);
  const StylizeResult& r = out.result;
  if (tty) std::fprintf(stderr, "\n");
  const bool written = write_outputs(c, net, r, args, inputs, resume);
  if (failed_snapshots > 0)
    std::fprintf(
        stderr, "nst stylize: error: %lld intermediate image(s) could not be written (see above)\n",
        (long long)failed_snapshots);
  if (r.diverged) {
    int64_t good = 0;  // iterations with a finite loss
    for (const auto& sc : r.scales) good += sc.iterations;
    std::fprintf(
        stderr,
        "nst stylize: error: the loss or its gradient became NaN or infinite after %lld good "
        "iterations; %s%s (try smaller weights or learning rate)\n",
        (long long)good, c.output.c_str(),
        written ? " holds the last good image" : ": the last good image could not be written");
    out.status = 1;
  } else if (!written || failed_snapshots > 0) {
    out.status = 1;
  } else if (r.interrupted) {
    std::fprintf(
        stderr,
        "nst stylize: interrupted (signal %d) after %lld iterations: wrote the current image and "
        "the checkpoint %s; continue with: nst stylize --resume %s\n",
        g_signal.load(), (long long)r.state.done, c.checkpoint.c_str(), c.checkpoint.c_str());
    out.status = 130;
  }
  return out;
}

}  // namespace nst::cli
