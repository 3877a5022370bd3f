#include "tools/serve_server.hpp"

#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <new>
#include <thread>

#include "io/json_writer.hpp"
#include "tensor/check.hpp"
#include "tools/serve_impl.hpp"
#include "tools/serve_page.hpp"

namespace nst::serve {

Gate::Ticket::Ticket(Gate& gate) : gate_(gate) {
  std::unique_lock<std::mutex> lock(gate_.mutex_);
  if (gate_.running_ >= gate_.max_running_) {
    if (gate_.waiting_ >= gate_.max_waiting_)
      throw RequestError(503, "busy: " + std::to_string(gate_.running_) + " pictures being painted, " +
                                  std::to_string(gate_.waiting_) + " waiting; try again shortly");
    ++gate_.waiting_;
    gate_.freed_.wait(lock, [&] { return gate_.running_ < gate_.max_running_; });
    --gate_.waiting_;
  }
  ++gate_.running_;
}

Gate::Ticket::~Ticket() {
  std::lock_guard<std::mutex> lock(gate_.mutex_);
  --gate_.running_;
  gate_.freed_.notify_one();
}

void send_json(httplib::Response& res, int status, const std::string& json) {
  res.status = status;
  res.set_content(json, "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  JsonWriter j;
  j.begin_object().key("error").value(message).end_object();
  res.headers.erase("Retry-After");
  if (status == 503) res.set_header("Retry-After", "5");
  send_json(res, status, j.str());
}

httplib::Server::Handler guarded(Handler handler) {
  return [handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    try {
      handler(req, res);
    } catch (const RequestError& e) {
      send_error(res, e.status(), e.what());
    } catch (const Error& e) {
      send_error(res, 400, e.what());
    } catch (const std::bad_alloc&) {
      send_error(res, 503, "out of memory: try a smaller picture, or later");
    } catch (const std::exception& e) {
      send_error(res, 500, std::string("internal error: ") + e.what());
    }
  };
}

std::string form_field(const httplib::Request& req, const std::string& name) {
  if (req.has_file(name)) return req.get_file_value(name).content;
  if (req.has_param(name)) return req.get_param_value(name);
  return "";
}

Server::Impl::Impl(ServeOptions o, const ModelCatalog& c, const Vgg19* v)
    : options(std::move(o)),
      catalog(c),
      vgg(v),
      jobs(v, options.jobs, options.work_dir),
      painting(options.fast_running, options.fast_waiting) {}

void Server::Impl::add_routes() {
  const auto page = guarded([](const httplib::Request&, httplib::Response& res) {
    // Everything the page needs is in it: no other origin may be reached.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; "
                   "script-src 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'");
    res.set_content(page_html(), "text/html; charset=utf-8");
  });
  http.Get("/", page);
  http.Get("/index.html", page);
  http.Get("/healthz", guarded([this](const httplib::Request&, httplib::Response& res) {
    JsonWriter j;
    j.begin_object().key("status").value("ok");
    j.key("models").value(int64_t(catalog.models().size()));
    j.key("jobs").value(vgg != nullptr).end_object();
    send_json(res, 200, j.str());
  }));
  http.Get("/metrics", guarded([this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics.prometheus(jobs.counts()), "text/plain; version=0.0.4");
  }));
}

Server::Server(ServeOptions options, const ModelCatalog& catalog, const Vgg19* vgg)
    : impl_(std::make_unique<Impl>(std::move(options), catalog, vgg)) {
  Impl& s = *impl_;
  // Requests waiting at the painting gate hold a thread each: the others
  // (status polls, /healthz, /metrics) keep http_threads of their own.
  const size_t threads =
      size_t(s.options.http_threads + s.options.fast_running + s.options.fast_waiting);
  s.http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR only: the library's default adds SO_REUSEPORT, with which a
  // second server binds a port already in use and silently shares its clients.
  s.http.set_socket_options([](socket_t sock) {
    const int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // Answers go out at once: the library writes the headers and the body in two
  // sends, and with Nagle's algorithm the body waited for the client's delayed
  // ACK of the headers: 40 ms on most requests of a kept-alive connection.
  s.http.set_tcp_nodelay(true);
  s.http.set_payload_max_length(size_t(s.options.max_upload_bytes));
  s.http.set_read_timeout(30);
  s.http.set_write_timeout(30);
  s.http.set_default_headers({{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}});
  // Bodies are read whole before a handler runs: refuse what cannot be bounded
  // (chunked, or no length) before reading. Too long a Content-Length gets
  // the library's 413 (it reads and drops the body, so the client sees it).
  s.http.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    const bool has_body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
    if (has_body_method && (req.has_header("Transfer-Encoding") || !req.has_header("Content-Length"))) {
      send_error(res, 411, "send the request with a Content-Length (chunked uploads are refused)");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  const int64_t max_upload = s.options.max_upload_bytes;
  s.http.set_error_handler([max_upload](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return;  // a handler's own error
    if (res.status == 404)
      send_error(res, 404, "nothing here: " + route_label(req.path) + " (see docs/api.md)");
    else if (res.status == 413)
      send_error(res, 413, "the request is larger than the server's limit of " +
                               std::to_string(max_upload) + " bytes");
    else if (res.status == 400)
      send_error(res, 400, "the request could not be parsed (malformed HTTP or multipart/form-data)");
    else if (res.status == 414)
      send_error(res, 414, "the URL is too long");
    else
      send_error(res, res.status, "HTTP error " + std::to_string(res.status));
  });
  s.http.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        send_error(res, 500, "internal error");
      });
  // Counted before the answer is sent (a client that reads /metrics next sees
  // its request); logged after.
  s.http.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    impl_->metrics.count_request(method_label(req.method), route_label(req.path), res.status);
  });
  s.http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (impl_->options.log_requests)
      std::fprintf(stderr, "nst serve: %s %s %s -> %d\n", req.remote_addr.c_str(),
                   method_label(req.method).c_str(), route_label(req.path).c_str(), res.status);
  });
  s.add_routes();
  s.add_api_routes();
}

Server::~Server() {
  stop();
  impl_->jobs.shutdown();
}

int Server::bind() {
  Impl& s = *impl_;
  const int port = s.options.port == 0 ? s.http.bind_to_any_port(s.options.host)
                   : s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port
                                                                          : -1;
  NST_CHECK(port > 0, "nst serve: cannot listen on ", s.options.host, ":", s.options.port,
            " (the port is in use, or the host is not an address of this machine)");
  return port;
}

void Server::run() {
  Impl& s = *impl_;
  s.run_entered = true;
  if (!s.stop_requested) s.http.listen_after_bind();
  s.run_returned = true;
  s.jobs.shutdown();
}

void Server::stop() {
  Impl& s = *impl_;
  s.stop_requested = true;
  // The library's stop() ends a running loop only: wait until it runs (or
  // run() saw the request and returned).
  while (s.run_entered && !s.run_returned) {
    if (s.http.is_running()) {
      s.http.stop();
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

JobQueue& Server::jobs() { return impl_->jobs; }

}  // namespace nst::serve
