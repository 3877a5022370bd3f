#include "tools/stylize_batch.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <numeric>
#include <optional>

#include "common.hpp"
#include "models/vgg19.hpp"
#include "nst/checkpoint.hpp"
#include "tensor/check.hpp"
#include "tools/options.hpp"
#include "tools/stylize_run.hpp"

namespace nst::cli {

namespace {

const std::string kProg = "nst stylize";

// The options of the batch itself, which one photo's run does not take.
const std::vector<Spelling> kBatchOptions = {
    {"--content"}, {"-content_image"}, {"--output-dir"},          {"--format"},
    {"--shard"},   {"--manifest"},     {"--skip-existing", false}};

// The arguments of one photo's run: the batch's own without its batch options
// and photos, then --content PHOTO --output OUT. Its checkpoint keeps them, so
// `nst stylize --resume OUT.ckpt` continues it as a single run would, and a
// rerun of the batch knows the checkpoint for its own.
std::vector<std::string> photo_args(const std::vector<std::string>& batch_args,
                                    const std::string& input, const std::string& output) {
  std::vector<std::string> a = without_options(batch_args, kBatchOptions);
  a.insert(a.end(), {"--content", input, "--output", output});
  return a;
}

StylizeConfig photo_config(const std::vector<std::string>& args) {
  std::vector<const char*> v{"stylize"};
  for (const std::string& a : args) v.push_back(a.c_str());
  StylizeConfig c;
  NST_CHECK(parse_stylize_args(int(v.size()), v.data(), c), kProg, ": bad arguments for one photo");
  return c;
}

// --skip-existing: the checkpoint an interrupted run of the same arguments left
// beside the photo's output, when the files it read are unchanged; else none
// (the run starts over and says why).
ResumePoint checkpoint_to_resume(const StylizeConfig& c, const std::vector<std::string>& args,
                                 const std::vector<InputFile>& inputs) {
  ResumePoint r;
  std::error_code ec;
  if (!std::filesystem::exists(c.checkpoint, ec)) return r;
  try {
    Checkpoint ckpt = load_checkpoint(c.checkpoint);
    NST_CHECK(ckpt.args == args, "it is of a run with other arguments");
    check_inputs_unchanged(ckpt, inputs, c.checkpoint);
    std::fprintf(stderr, "nst stylize: resuming from %s at scale %zu, iteration %lld\n",
                 c.checkpoint.c_str(), ckpt.state.scale + 1, (long long)ckpt.state.iteration);
    r.path = c.checkpoint;
    r.checkpoint = std::move(ckpt);
  } catch (const Error& e) {
    std::fprintf(stderr, "nst stylize: not resuming from %s (%s): starting over\n",
                 c.checkpoint.c_str(), e.what());
  }
  return r;
}

// Paints one photo; the entry says how it went, `status` is the exit status
// its single run would have (0, 1, or 130 when interrupted).
ManifestEntry paint(const std::string& input, const std::string& output,
                    const std::vector<std::string>& batch_args, bool skip_existing,
                    const Vgg19& net, const Paintings& paintings, int& status) {
  ManifestEntry e{input, output, "ok", -1, -1, 0.0, ""};
  status = 0;
  try {
    const std::vector<std::string> args = photo_args(batch_args, input, output);
    StylizeConfig c = photo_config(args);
    // The checks of a single run, before this photo's work.
    const std::vector<std::string> paths = run_input_paths(c);
    check_output(c, paths);
    const Tensor content = load_content(c);
    const std::vector<InputFile> inputs = checksum_inputs(paths);
    const ResumePoint resume =
        skip_existing ? checkpoint_to_resume(c, args, inputs) : ResumePoint{};
    (void)plan_run(c, content, paintings.styles);
    const RunOutcome r = run_and_write(c, net, content, paintings, args, inputs, resume, nullptr);
    status = r.status;
    if (r.result.image.defined()) {
      e.width = r.result.image.dim(3);
      e.height = r.result.image.dim(2);
    }
    if (r.status == 130)
      e.error = "interrupted (signal " + std::to_string(stop_signal()) + "): checkpoint " +
                c.checkpoint + "; rerun with --skip-existing to continue";
    else if (r.status != 0)
      e.error = r.result.diverged ? "the loss became NaN or infinite"
                                  : "a file of the run was not written";
  } catch (const std::exception& ex) {
    status = 1;
    e.error = ex.what();
    std::fprintf(stderr, "nst stylize: '%s' failed: %s\n", input.c_str(), ex.what());
  }
  if (status != 0) e.status = "failed";
  return e;
}

}  // namespace

int run_stylize_batch(const StylizeConfig& c, const BatchFlags& flags,
                      const std::vector<std::string>& args) {
  // The whole batch's photos and outputs (every shard checks the same names).
  const std::vector<std::string> all = collect_inputs(flags.inputs, kProg);
  const std::vector<std::string> all_outputs = batch_outputs(all, flags, kProg);
  std::vector<size_t> mine(all.size());
  std::iota(mine.begin(), mine.end(), size_t(0));
  if (flags.sharded) mine = shard_positions(all, flags.shard);
  const std::vector<std::string> inputs = pick(all, mine), outputs = pick(all_outputs, mine);
  std::optional<Manifest> manifest;
  if (!flags.manifest.empty()) manifest.emplace(flags.manifest, flags.shard, kProg);
  if (inputs.empty()) {
    std::fprintf(stderr, "nst stylize: shard %s holds none of the %zu photos: nothing to do\n",
                 flags.shard.str().c_str(), all.size());
    return 0;
  }
  const auto append = [&](const ManifestEntry& e) { return !manifest || manifest->append(e); };
  bool manifest_ok = true;

  // --skip-existing: the photos whose run finished are left as they are.
  std::vector<size_t> todo;
  std::vector<ManifestEntry> skipped_lines;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const StylizeDone done =
        flags.skip_existing ? stylize_output_done(outputs[k], outputs[k] + ".json") : StylizeDone{};
    if (!done.done) {
      todo.push_back(k);
      continue;
    }
    skipped_lines.push_back({inputs[k], outputs[k], "skipped", done.width, done.height, 0.0, ""});
  }
  manifest_ok = !manifest || manifest->append(skipped_lines);
  const size_t skipped = inputs.size() - todo.size();
  if (skipped > 0)
    std::fprintf(stderr,
                 "nst stylize: %zu of %zu photos already painted, skipped (--skip-existing)\n",
                 skipped, inputs.size());
  if (todo.empty()) return manifest_ok ? 0 : 1;

  // What every photo shares: the threads, the paintings, masks and start image, the network.
  apply_threads(c.threads);
  const Paintings paintings = load_paintings(c);
  const Vgg19 net = Vgg19::load(resolve_weights(c.weights), false, c.objective.layers());

  catch_stop_signals();
  size_t painted = 0, failed = 0, n = 0;
  int status = 0;
  for (; n < todo.size() && stop_signal() == 0 && status != 130; ++n) {
    const size_t k = todo[n];
    std::fprintf(stderr, "nst stylize: [%zu/%zu] %s -> %s\n", n + 1, todo.size(), inputs[k].c_str(),
                 outputs[k].c_str());
    const auto t0 = std::chrono::steady_clock::now();
    ManifestEntry e =
        paint(inputs[k], outputs[k], args, flags.skip_existing, net, paintings, status);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    manifest_ok = append(e) && manifest_ok;
    if (e.status == "ok")
      ++painted;
    else
      ++failed;
  }
  restore_stop_signals();
  if (stop_signal() != 0) {
    const bool in_progress = status == 130;  // the photo stopped wrote its checkpoint
    std::fprintf(stderr,
                 "nst stylize: batch interrupted: %zu painted, %zu not started%s; rerun the same "
                 "command with --skip-existing to continue\n",
                 painted, todo.size() - n, in_progress ? ", 1 stopped with its checkpoint" : "");
    return 130;
  }
  std::fprintf(stderr, "nst stylize: batch done: %zu painted, %zu skipped, %zu failed\n", painted,
               skipped, failed);
  if (!manifest_ok)
    std::fprintf(stderr, "nst stylize: error: the manifest misses lines (see above)\n");
  return failed > 0 || !manifest_ok ? 1 : 0;
}

}  // namespace nst::cli
