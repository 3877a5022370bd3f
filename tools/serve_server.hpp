// nst serve: the HTTP server, a thin shell over the library. Handlers parse and
// validate (tools/serve_request.hpp), call what the CLI calls (fast_stylize,
// stylize through tools/serve_jobs.hpp), and every error becomes a status and
// {"error": message} in one place (serve_server.cpp, `guarded`). The API is in
// docs/api.md, the flags and limits in docs/serve.md.
//
//   serve::Server server(options, catalog, &vgg);
//   const int port = server.bind();   // options.port 0: a free port
//   std::thread t([&] { server.run(); });
//   ...
//   server.stop();                    // from any thread (SIGTERM's watcher)
//   t.join();
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "models/vgg19.hpp"
#include "tools/serve_jobs.hpp"
#include "tools/serve_models.hpp"

namespace nst::serve {

struct ServeOptions {
  std::string host = "127.0.0.1";       // loopback unless told otherwise
  int port = 8080;                      // 0: any free port
  int64_t max_upload_bytes = 25 << 20;  // a request's body; beyond: 413
  int64_t max_pixels = 16'000'000;      // per uploaded picture; beyond: 400
  int64_t fast_max_side = 1536;         // fast pictures' long side at most (larger: shrunk)
  int64_t fast_running = 1;             // fast pictures painted at once
  int64_t fast_waiting = 8;             // waiting beyond those; beyond: 503
  int64_t job_max_size = 512;           // an optimisation job's long side at most
  int64_t job_max_iterations = 500;     // its iterations per scale at most
  int64_t http_threads = 8;             // connections served at once besides the painters
  JobLimits jobs;
  std::string work_dir;                 // where job pictures go (must exist)
  bool log_requests = true;             // one line per request on stderr
};

class Server {
 public:
  // catalog and vgg (nullptr: optimisation jobs off) must outlive the server.
  Server(ServeOptions options, const ModelCatalog& catalog, const Vgg19* vgg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port and returns the port; nst::Error when it cannot.
  int bind();
  // Serves until stop(), then cancels the jobs and waits for them (they stop
  // between two iterations) and deletes their pictures.
  void run();
  // Stops accepting; requests in flight are answered. Any thread, any time.
  void stop();
  JobQueue& jobs();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nst::serve
