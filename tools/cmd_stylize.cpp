// nst stylize: paints a content photo in the style of one or more paintings.
// With --style-weights, one run per style weight and a strip of them; with
// --output-dir, a batch of photos (tools/stylize_batch.cpp).
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "common.hpp"
#include "nst/checkpoint.hpp"
#include "nst/config.hpp"
#include "nst/stylize.hpp"
#include "tensor/check.hpp"
#include "tools/batch.hpp"
#include "tools/options.hpp"
#include "tools/stylize_batch.hpp"
#include "tools/stylize_run.hpp"
#include "tools/sweep.hpp"

namespace {

int run(int argc, const char* const* argv) {
  nst::StylizeConfig c;
  nst::cli::BatchFlags batch;
  if (!nst::cli::parse_stylize_args(argc, argv, c, &batch)) return 0;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!batch.output_dir.empty()) return nst::cli::run_stylize_batch(c, batch, args);
  nst::cli::ResumePoint resume;
  if (!c.resume.empty()) {
    // Continue an interrupted run: its own arguments, its own state.
    NST_CHECK(argc == 3 || (argc == 2 && std::string(argv[1]).rfind("--resume=", 0) == 0),
              "nst stylize: --resume takes no other options (the run's own are in the checkpoint)");
    resume.path = c.resume;
    resume.checkpoint = nst::load_checkpoint(c.resume);
    args = resume.checkpoint.args;
    std::vector<const char*> v{"stylize"};
    for (const std::string& a : args) v.push_back(a.c_str());
    c = nst::StylizeConfig();
    NST_CHECK(nst::cli::parse_stylize_args(int(v.size()), v.data(), c),
              "checkpoint: bad arguments");
    std::fprintf(stderr, "nst stylize: resuming at scale %zu, iteration %lld\n",
                 resume.checkpoint.state.scale + 1, (long long)resume.checkpoint.state.iteration);
  }
  // Every file the run reads; the masks are read and checked here, before any work.
  const std::vector<std::string> input_paths = nst::cli::run_input_paths(c);
  // Check every output path before hours of work.
  nst::cli::check_output(c, input_paths);
  nst::cli::apply_threads(c.threads);
  const nst::Tensor content = nst::cli::load_content(c);
  const nst::cli::Paintings paintings = nst::cli::load_paintings(c);
  const std::vector<nst::InputFile> inputs = nst::checksum_inputs(input_paths);
  if (!resume.path.empty()) nst::check_inputs_unchanged(resume.checkpoint, inputs, resume.path);
  const std::string weights = nst::cli::plan_run(c, content, paintings.styles);
  const nst::Vgg19 net = nst::Vgg19::load(weights, false, c.objective.layers());

  // From here to the last write, SIGINT and SIGTERM only set a flag: the driver
  // stops between two iterations, and a second signal cannot cut the writes short
  // (each file is written to a temporary and renamed, so none is ever half written).
  nst::cli::catch_stop_signals();
  // One run, or with --style-weights one per value: same network, same style
  // targets (computed at the first run's scales, then reused).
  const bool sweep = !c.style_weights.empty();
  const std::vector<double> values =
      sweep ? c.style_weights : std::vector<double>{c.objective.style_weight};
  nst::StyleTargetCache targets;
  std::vector<nst::Tensor> pictures;
  for (size_t v = 0; v < values.size(); ++v) {
    nst::StylizeConfig run_config = c;
    std::vector<std::string> run_args = args;
    if (sweep) {
      run_config.style_weights.clear();
      run_config.objective.style_weight = values[v];
      run_config.output = nst::cli::sweep_output(c.output, values[v]);
      run_config.record = run_config.output + ".json";
      run_config.checkpoint = run_config.output + ".ckpt";
      run_args = nst::cli::single_run_args(args, values[v], run_config.output);
      std::fprintf(stderr, "nst stylize: style weight %g (%zu of %zu): %s\n", values[v], v + 1,
                   values.size(), run_config.output.c_str());
    }
    const nst::cli::RunOutcome r = nst::cli::run_and_write(run_config, net, content, paintings,
                                                           run_args, inputs, resume, &targets);
    if (r.status == 130 && v + 1 < values.size())
      std::fprintf(stderr,
                   "nst stylize: %zu style weight(s) of the sweep not started; no strip written\n",
                   values.size() - v - 1);
    if (r.status != 0) return r.status;
    pictures.push_back(r.result.image);
  }
  if (sweep) {
    try {
      nst::cli::write_strip(nst::cli::strip_output(c.output), pictures);
      std::fprintf(stderr, "nst stylize: wrote the strip %s\n",
                   nst::cli::strip_output(c.output).c_str());
    } catch (const nst::Error& e) {
      std::fprintf(stderr, "nst stylize: error: %s\n", e.what());
      return 1;
    }
  }
  nst::cli::restore_stop_signals();
  return 0;
}

const nst::cli::Command command{"stylize", "paint a photo in the style of a painting", run};

}  // namespace
