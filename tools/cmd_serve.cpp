// nst serve: a style-transfer web service for machines without a GPU.
//
//   nst serve --port 8080 --models build/models
//
// Loads the feed-forward networks (*.nstw) of --models and the VGG-19 weights
// once, then serves a web page and the JSON API of docs/api.md on 127.0.0.1
// (--host to listen elsewhere). Uploads stay in memory; job pictures go to
// --work (default: a fresh temporary folder, removed at exit). SIGINT / SIGTERM:
// stop accepting, answer the requests in flight, stop the running jobs between
// two iterations, exit 0. Flags and limits: docs/serve.md.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "cli.hpp"
#include "common.hpp"
#include "models/vgg19.hpp"
#include "nst/config.hpp"
#include "tensor/check.hpp"
#include "tools/args.hpp"
#include "tools/serve_server.hpp"

namespace fs = std::filesystem;

namespace {

std::atomic<int> g_signal{0};
extern "C" void on_serve_signal(int sig) { g_signal.store(sig); }

// A new private folder (mode 0700) under $TMPDIR or /tmp, removed with
// everything in it when this goes, on every way out (an error too).
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::error_code ec;
    fs::path base = fs::temp_directory_path(ec);
    if (ec) base = "/tmp";
    path_ = (base / "nst-serve-XXXXXX").string();
    NST_CHECK(::mkdtemp(path_.data()) != nullptr, "nst serve: cannot make a temporary folder in '",
              base.string(), "' (give --work DIR)");
  }
  ~TemporaryFolder() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

int run(int argc, const char* const* argv) {
  nst::ArgParser p("nst serve",
                   "Serve a web page and a JSON API that paint photos: feed-forward styles "
                   "(--models) and optimisation jobs (VGG-19 --weights). API: docs/api.md.");
  p.option("models", "DIR", "folder of style networks (*.nstw), e.g. build/models").required();
  p.option("port", "N", "TCP port (0: any free port, printed at start)", "8080");
  p.option("host", "ADDR", "address to listen on (0.0.0.0: every interface)", "127.0.0.1");
  p.option("weights", "FILE", "VGG-19 weights for optimisation jobs (default: as nst stylize; "
           "without them jobs are off)");
  p.option("work", "DIR", "where job pictures are kept (default: a new temporary folder)");
  p.option("max-upload-mb", "MB", "largest request body (beyond: 413)", "25");
  p.option("max-pixels", "N", "largest uploaded picture in pixels (beyond: 400)", "16000000");
  p.option("fast-max-side", "PX", "fast pictures' long side at most (larger photos are shrunk)",
           "1536");
  p.option("fast-waiting", "N", "fast pictures waiting for the painter (beyond: 503)", "8");
  p.option("jobs", "N", "optimisation jobs running at once", "1");
  p.option("queue", "N", "optimisation jobs waiting (beyond: 503)", "4");
  p.option("job-max-size", "PX", "a job's largest long side", "512");
  p.option("job-max-iterations", "N", "a job's most iterations per scale", "500");
  p.option("job-timeout", "S", "a running job is stopped after S seconds", "600");
  p.option("keep-minutes", "M", "finished jobs and their pictures are deleted after M minutes",
           "30");
  p.option("threads", "N", "kernel threads (0 = all cores)", "0");
  p.flag("quiet", "do not log each request on stderr");
  auto parsed = p.parse(argc - 1, argv + 1);
  if (!parsed) return 0;
  const nst::Args& a = *parsed;

  nst::serve::ServeOptions o;
  o.host = a.get("host");
  o.port = int(a.get_int("port", 0, 65535));
  o.max_upload_bytes = a.get_int("max-upload-mb", 1, 2000) << 20;
  o.max_pixels = a.get_int("max-pixels", 1, int64_t{1} << 28);
  o.fast_max_side = a.get_int("fast-max-side", 16, 8192);
  o.fast_waiting = a.get_int("fast-waiting", 0, 64);
  o.jobs.workers = a.get_int("jobs", 1, 64);
  o.jobs.queued = a.get_int("queue", 0, 10000);
  o.job_max_size = a.get_int("job-max-size", 32, 4096);
  o.job_max_iterations = a.get_int("job-max-iterations", 1, 100000);
  o.jobs.max_seconds = a.get_double("job-timeout", 1, 7 * 86400);
  o.jobs.keep_seconds = 60 * a.get_double("keep-minutes", 0, 7 * 24 * 60);
  o.log_requests = !a.flag("quiet");
  nst::cli::apply_threads(a.get_int("threads", 0, 1024));
  std::error_code ec;
  NST_CHECK(!a.has("work") || fs::is_directory(a.get("work"), ec), "nst serve: --work '",
            a.get("work"), "' is not a folder");

  const nst::serve::ModelCatalog catalog = nst::serve::ModelCatalog::load(a.get("models"));
  std::unique_ptr<nst::Vgg19> vgg;
  try {
    const std::string weights = nst::cli::resolve_weights(a.get("weights"));
    vgg = std::make_unique<nst::Vgg19>(
        nst::Vgg19::load(weights, false, nst::ObjectiveConfig().layers()));
  } catch (const nst::Error& e) {
    if (a.has("weights")) throw;  // asked for and unusable: an error, not a warning
    std::fprintf(stderr, "nst serve: warning: optimisation jobs are off: %s\n", e.what());
  }

  std::optional<TemporaryFolder> own_work;
  if (!a.has("work")) own_work.emplace();
  o.work_dir = own_work ? own_work->path() : a.get("work");

  int status = 0;
  {
    nst::serve::Server server(o, catalog, vgg.get());
    const int port = server.bind();
    std::fprintf(stderr, "nst serve: %zu models, jobs %s; listening on http://%s:%d/\n",
                 catalog.models().size(), vgg ? "on" : "off", o.host.c_str(), port);
    std::signal(SIGINT, on_serve_signal);
    std::signal(SIGTERM, on_serve_signal);
    std::signal(SIGPIPE, SIG_IGN);  // a client that hangs up is the library's error, not ours
    std::atomic<bool> served{false};
    std::thread watcher([&] {
      while (g_signal.load() == 0 && !served.load())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      server.stop();
    });
    server.run();  // returns after stop(), the running jobs stopped
    served = true;
    watcher.join();
    if (g_signal.load() != 0)
      std::fprintf(stderr, "nst serve: stopped (signal %d)\n", g_signal.load());
    else
      status = 1;  // the server ended without being asked to
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (status != 0) std::fprintf(stderr, "nst serve: error: the server stopped unexpectedly\n");
  return status;
}

const nst::cli::Command command{"serve", "a web page and JSON API that paint photos", run};

}  // namespace
