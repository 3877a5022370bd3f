#include "tools/train_record.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "io/atomic_write.hpp"
#include "io/json_writer.hpp"
#include "nn/kernels/parallel.hpp"
#include "nn/kernels/simd.hpp"
#include "optim/state_io.hpp"

namespace nst::train_cli {

namespace {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)v);
  return buf;
}

}  // namespace

std::string format_seconds(double s) {
  char buf[32];
  if (s < 90)
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 5400)
    std::snprintf(buf, sizeof buf, "%dm%02ds", int(s) / 60, int(s) % 60);
  else
    std::snprintf(buf, sizeof buf, "%dh%02dm", int(s) / 3600, int(s) / 60 % 60);
  return buf;
}

// OUTPUT without its extension: the stem of the sample pictures.
std::string output_stem(const std::string& output) {
  const std::filesystem::path p(output);
  return (p.parent_path() / p.stem()).string();
}

void write_record(const std::string& path, const Args& a, const std::vector<std::string>& styles,
                  const TrainCheckpoint& c, const PhotoBatches& photos, const Vgg19& vgg,
                  const WrittenFile& model, int64_t resumed_from, double run_seconds,
                  bool interrupted) {
  JsonWriter j;
  j.begin_object().key("command").value("train");
  j.key("engine").value(std::string("nst ") + NST_VERSION);
  j.key("simd").value(kernels::simd_level_name(kernels::simd_level()));
  j.key("threads").value(int64_t(kernels::num_threads()));
  j.key("styles").array(styles);  // the paintings, in the network's style order
  j.key("style").value(styles.front());
  for (const char* k : {"images", "output", "width", "size", "batch", "style-size",
                        "content-weight", "style-weight", "tv-weight", "lr", "seed",
                        "sample-every", "checkpoint-every"}) {
    std::string key = k;
    for (char& ch : key)
      if (ch == '-') ch = '_';
    j.key(key).value(a.get(k));
  }
  // The network's, not the flag's (a resumed or extended run keeps its network's).
  bool reflect = false;
  for (const LayerSpec& L : c.net->spec().layers)
    reflect = reflect || L.padding == Padding::reflect ||
              std::any_of(L.body.begin(), L.body.end(),
                          [](const LayerSpec& b) { return b.padding == Padding::reflect; });
  j.key("padding").value(reflect ? "reflect" : "zero");
  const bool nearest = std::any_of(c.net->spec().layers.begin(), c.net->spec().layers.end(),
                                   [](const LayerSpec& L) { return L.upsample > 1; });
  j.key("upsample").value(nearest ? "nearest" : "transposed");
  j.key("content_layers").array(a.get_list("content-layers"));
  j.key("style_layers").array(a.get_list("style-layers"));
  j.key("steps_target").value(a.has("steps") ? a.get_int("steps", 0, INT64_MAX) : int64_t(-1));
  j.key("minutes").value(a.has("minutes") ? a.get_double("minutes", 0, 1e9) : -1.0);
  j.key("photos").value(int64_t(photos.photos().paths.size()));
  j.key("photos_skipped").array(photos.skipped());
  j.key("vgg_weights").value(vgg.path()).key("vgg_checksum").value(vgg.checksum());
  j.key("model_bytes").value(int64_t(model.bytes)).key("model_fnv1a64").value(hex64(model.checksum));
  j.key("tensor_fnv1a64").begin_object();
  for (const auto& [name, t] : c.net->params())
    j.key(name).value(hex64(fnv1a_update(kFnvOffset, t.data(), size_t(t.numel()) * 4)));
  j.end_object();
  j.key("resumed_from_step").value(resumed_from);
  j.key("interrupted").value(interrupted);
  j.key("seconds").value(c.seconds).key("run_seconds").value(run_seconds);
  // Mean over the steps, leaving out each run's first (it warms the buffers).
  double sum = 0;
  int64_t count = 0;
  for (size_t i = 0; i < c.steps.size(); ++i) {
    const bool first_of_run = i == 0 || int64_t(i) == resumed_from;
    if (first_of_run) continue;
    sum += c.steps[i].seconds - c.steps[i - 1].seconds;
    ++count;
  }
  j.key("seconds_per_step").value(count > 0 ? sum / double(count) : (c.steps.empty() ? 0.0 : c.steps[0].seconds));
  j.key("steps").begin_array();
  for (const TrainStepRecord& s : c.steps) {
    j.begin_object().key("step").value(s.step).key("loss").value(s.terms.loss)
        .key("content").value(s.terms.content).key("style").value(s.terms.style)
        .key("tv").value(s.terms.tv).key("seconds").value(s.seconds);
    if (!s.terms.style_by_painting.empty()) {
      j.key("style_by_painting").begin_array();
      for (double v : s.terms.style_by_painting) j.value(v);
      j.end_array();
    }
    j.end_object();
  }
  j.end_array().end_object();
  write_file_atomically(path, j.str() + "\n");
}

}  // namespace nst::train_cli
