// nst serve: what serve_server.cpp (the server, its error mapping, the page,
// health and metrics) and serve_api.cpp (the /api handlers) share. Only these
// two files see the HTTP library.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include "tools/serve_metrics.hpp"
#include "tools/serve_request.hpp"
#include "tools/serve_server.hpp"

namespace nst::serve {

// At most `running` holders at once and `waiting` more queued behind them; a
// request beyond that is refused with 503 at once instead of piling up.
class Gate {
 public:
  Gate(int64_t running, int64_t waiting) : max_running_(running), max_waiting_(waiting) {}
  class Ticket {
   public:
    explicit Ticket(Gate& gate);  // waits for a place; RequestError 503 when the line is full
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    Gate& gate_;
  };
  int64_t waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  int64_t max_running_, max_waiting_, running_ = 0, waiting_ = 0;
};

struct Server::Impl {
  Impl(ServeOptions o, const ModelCatalog& c, const Vgg19* v);
  void add_routes();      // serve_server.cpp: the page, /healthz, /metrics
  void add_api_routes();  // serve_api.cpp: /api/...

  ServeOptions options;
  const ModelCatalog& catalog;
  const Vgg19* vgg;
  httplib::Server http;
  JobQueue jobs;
  Metrics metrics;
  Gate painting;  // fast pictures and the decoding of uploads
  std::atomic<bool> stop_requested{false}, run_entered{false}, run_returned{false};
};

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

// The one place errors become responses: RequestError -> its status,
// nst::Error (the library's checks) -> 400, out of memory -> 503, anything
// else -> 500; each with {"error": message}.
httplib::Server::Handler guarded(Handler handler);
void send_json(httplib::Response& res, int status, const std::string& json);
void send_error(httplib::Response& res, int status, const std::string& message);

// A multipart form field's bytes (or a query parameter's); "" when absent.
std::string form_field(const httplib::Request& req, const std::string& name);

}  // namespace nst::serve
