// nst serve's HTTP API: models, fast stylisation, bad uploads, routes,
// metrics (the optimisation jobs: test_serve_jobs.cpp).
#include <netinet/tcp.h>

#include <filesystem>
#include <optional>
#include <vector>

#include "test_serve_util.hpp"
#include "tools/serve_impl.hpp"

using namespace nst;
using namespace nst::testing::serve_test;

TEST_CASE("serve: models list each style with a thumbnail", "[serve]") {
  TestServer s;
  auto c = client(s);
  const io::Json list = json(c.Get("/api/models"));
  CHECK(list.at("limits").at("job_max_size").as_int() == 512);
  CHECK(list.at("limits").at("max_pixels").as_int() == 16'000'000);
  const io::Json& models = list.at("models");
  REQUIRE(models.items().size() == 2);  // broken.nstw left out
  CHECK(models.items()[0].at("name").as_string() == "duo");
  CHECK(models.items()[0].at("styles").items().size() == 2);
  CHECK(models.items()[0].at("styles").items()[1].at("name").as_string() == "right");
  CHECK(models.items()[1].at("name").as_string() == "mono");
  const std::string url = models.items()[0].at("styles").items()[1].at("thumbnail").as_string();
  const auto thumb = c.Get(url.c_str());
  REQUIRE(thumb);
  CHECK(thumb->status == 200);
  CHECK(thumb->get_header_value("Content-Type") == "image/png");
  const Tensor t = load_image_from_memory(thumb->body, "thumbnail");
  CHECK(t.h() == serve::ModelCatalog::thumbnail_side);
  CHECK(t.w() == serve::ModelCatalog::thumbnail_side);
  check_error(c.Get("/api/models/duo/thumbnail?style=2"), 400, "field 'style': 2 is out of range");
  check_error(c.Get("/api/models/nope/thumbnail"), 404, "no model 'nope'");
  const auto health = json(c.Get("/healthz"));
  CHECK(health.at("status").as_string() == "ok");
  CHECK(health.at("jobs").as_bool() == false);
  const auto page = c.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body.find("/api/fast") != std::string::npos);
  CHECK(page->body.find("http://") == std::string::npos);  // no external URL
  CHECK(page->body.find("https://") == std::string::npos);
}

namespace {

// A 200 answer of the given type whose picture decodes to h x w.
void check_picture(const httplib::Result& r, const std::string& type, int64_t h, int64_t w) {
  REQUIRE(r);
  INFO(r->body.substr(0, 200));
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == type);
  const Tensor out = load_image_from_memory(r->body, "response");
  CHECK(out.h() == h);
  CHECK(out.w() == w);
}

}  // namespace

TEST_CASE("serve: a fast stylisation returns a picture of the right size", "[serve]") {
  TestServer s;
  auto c = client(s);
  check_picture(post(c, "/api/fast", {file("image", png(30, 40)), text("model", "mono")}), "image/png",
                30, 40);
  check_picture(post(c, "/api/fast", {file("image", png(30, 40)), text("model", "duo"),
                                      text("mix", "0.25,0.75"), text("size", "20"), text("format", "jpg")}),
                "image/jpeg", 15, 20);
  // The mix (1, 0) is style 0: the same picture as asking for style 0.
  const auto by_index = post(c, "/api/fast", {file("image", png(30, 40)), text("model", "duo"),
                                             text("style", "0")});
  const auto by_mix = post(c, "/api/fast", {file("image", png(30, 40)), text("model", "duo"),
                                           text("mix", "1,0")});
  REQUIRE(by_index);
  REQUIRE(by_mix);
  CHECK(by_index->body == by_mix->body);
}

TEST_CASE("serve: bad fast requests get 4xx with the CLI's messages", "[serve]") {
  serve::ServeOptions o;
  o.max_upload_bytes = 64 << 10;
  o.max_pixels = 2000;
  TestServer s(o);
  auto c = client(s);
  const auto fast = [&](const httplib::MultipartFormDataItems& items) { return c.Post("/api/fast", items); };
  check_error(fast({file("image", "hello, not a picture", "notes.png"), text("model", "mono")}), 400,
              "image 'notes.png': not a readable image");
  const std::string whole = png(30, 40);
  check_error(fast({file("image", whole.substr(0, whole.size() / 2), "cut.png"), text("model", "mono")}),
              400, "image 'cut.png': cannot decode");
  std::string liar = whole;  // IHDR claims 100000 x 100000 (refused before decoding)
  for (size_t at : {16, 20}) liar.replace(at, 4, std::string("\x00\x01\x86\xa0", 4));
  check_error(fast({file("image", liar, "liar.png"), text("model", "mono")}), 400,
              "image 'liar.png': 100000 x 100000 pixels is beyond the limit of 2000 pixels");
  check_error(fast({file("image", png(50, 50)), text("model", "mono")}), 400,
              "50 x 50 pixels is beyond the limit of 2000 pixels");
  check_error(fast({file("image", std::string(100 << 10, 'x')), text("model", "mono")}), 413,
              "larger than the server's limit of 65536 bytes");
  check_error(fast({text("model", "mono")}), 400, "missing the file field 'image'");
  check_error(fast({file("image", whole), text("model", "../mono")}), 404, "no model '../mono'");
  check_error(fast({file("image", whole)}), 400, "missing the field 'model'");
  check_error(fast({file("image", whole), text("model", "duo"), text("mix", "1")}), 400,
              "field 'mix': 1 weight, but the model has 2 styles");
  check_error(fast({file("image", whole), text("model", "duo"), text("mix", "1,nan")}), 400,
              "'nan' is not a number");
  check_error(fast({file("image", whole), text("model", "duo"), text("style", "2")}), 400,
              "field 'style': 2 is out of range (expected 0..1)");
  check_error(fast({file("image", whole), text("model", "mono"), text("size", "-3")}), 400,
              "field 'size': '-3' is not a whole number");
  check_error(fast({file("image", whole), text("model", "mono"), text("format", "gif")}), 400,
              "field 'format': 'gif' is not png or jpg");
  check_error(c.Post("/api/fast", "model=mono", "application/x-www-form-urlencoded"), 400,
              "multipart/form-data");
  check_error(c.Post("/api/fast", "--x\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nmono\r\n--x",
                     "multipart/form-data; boundary=x"),
              400, "the request could not be parsed (malformed HTTP or multipart/form-data)");
  // A body of unknown length is refused before it is read.
  const std::string chunked = raw_request(
      s.port, "POST /api/fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\n");
  CHECK(chunked.rfind("HTTP/1.1 411 ", 0) == 0);
  CHECK(chunked.find("chunked uploads are refused") != std::string::npos);
  // The server is still there, and answers normally.
  const auto ok = fast({file("image", png(20, 20)), text("model", "mono")});
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("serve: unknown routes and path tricks get 404 and never a file", "[serve]") {
  TestServer s;
  auto c = client(s);
  nst::testing::write_text(s.work_dir() + "/0123456789abcdef0123456789abcdef.png", "planted");
  for (const char* path :
       {"/etc/passwd", "/../../../../etc/passwd", "/api/models/..%2F..%2Fetc%2Fpasswd/thumbnail",
        "/api/models/../../etc/passwd/thumbnail", "/api/jobs/..%2F..%2Fetc%2Fpasswd",
        "/api/jobs/../../../etc/passwd/image", "/api/jobs/0123456789abcdef0123456789abcdef/image",
        "/api/jobs/0123456789ABCDEF0123456789ABCDEF", "/api/jobs/%00", "/api/jobs//image",
        "/index.html/..", "/api/models/mono.nstw/thumbnail"}) {
    INFO(path);
    const auto r = c.Get(path);
    REQUIRE(r);
    CHECK(r->status == 404);
    CHECK(r->body.find("root:") == std::string::npos);
    CHECK(r->body.find("planted") == std::string::npos);
  }
  check_error(c.Delete("/api/jobs/0123456789abcdef0123456789abcdef"), 404, "no job");
  // The same, byte for byte as written (no client-side clean-up of the path).
  for (const char* path : {"/../../../../etc/passwd", "/api/jobs/../../../../etc/passwd",
                           "/api/models/../../../etc/passwd/thumbnail", "/%2e%2e/%2e%2e/etc/passwd"}) {
    INFO(path);
    const std::string answer =
        raw_request(s.port, std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    INFO(answer);
    CHECK(answer.rfind("HTTP/1.1 404 ", 0) == 0);
    CHECK(answer.find("root:") == std::string::npos);
  }
}

TEST_CASE("serve: metrics count requests by route and status", "[serve]") {
  TestServer s;
  auto c = client(s);
  for (int i = 0; i < 3; ++i) REQUIRE(c.Get("/healthz"));
  REQUIRE(c.Get("/api/jobs/0123456789abcdef0123456789abcdef"));
  REQUIRE(c.Get("/no/such/page"));
  REQUIRE(post(c, "/api/fast", {text("model", "mono")}));
  const auto m = c.Get("/metrics");
  REQUIRE(m);
  CHECK(m->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  const std::string& t = m->body;
  INFO(t);
  CHECK(t.find("nst_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3\n") !=
        std::string::npos);
  CHECK(t.find("{method=\"GET\",route=\"/api/jobs/{id}\",status=\"404\"} 1\n") != std::string::npos);
  CHECK(t.find("{method=\"GET\",route=\"other\",status=\"404\"} 1\n") != std::string::npos);
  CHECK(t.find("{method=\"POST\",route=\"/api/fast\",status=\"400\"} 1\n") != std::string::npos);
  CHECK(t.find("nst_jobs_queued 0\n") != std::string::npos);
  CHECK(t.find("nst_jobs_running 0\n") != std::string::npos);
  CHECK(t.find("nst_job_seconds_count 0\n") != std::string::npos);
}

// The library sends an answer's headers and body in two writes: with Nagle's
// algorithm the body waited for the client's delayed ACK, 40 ms on most
// requests of a kept-alive connection (found by bench/load_serve.py). The
// server runs in this process, so the test finds the socket it accepted (the
// one of its port with a peer) and reads the option there, instead of timing.
static std::vector<int> accepted_sockets(int port) {
  std::vector<int> fds;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    const int fd = std::stoi(entry.path().filename().string());
    sockaddr_storage local{}, peer{};
    socklen_t local_size = sizeof local, peer_size = sizeof peer;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) continue;
    int local_port = -1;
    if (local.ss_family == AF_INET) local_port = ntohs(reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    if (local.ss_family == AF_INET6) local_port = ntohs(reinterpret_cast<sockaddr_in6*>(&local)->sin6_port);
    if (local_port != port) continue;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) continue;  // the listener
    fds.push_back(fd);
  }
  return fds;
}

TEST_CASE("serve: answers on a kept-alive connection are not held back by Nagle", "[serve]") {
  TestServer s;
  auto c = client(s);
  c.set_keep_alive(true);
  REQUIRE(c.Get("/healthz"));  // the connection stays open for the next request
  const std::vector<int> fds = accepted_sockets(s.port);
  REQUIRE(fds.size() == 1);
  int nodelay = 0;
  socklen_t size = sizeof nodelay;
  REQUIRE(::getsockopt(fds[0], IPPROTO_TCP, TCP_NODELAY, &nodelay, &size) == 0);
  CHECK(nodelay != 0);
}

TEST_CASE("serve: without weights jobs are refused with 503", "[serve]") {
  TestServer s;
  auto c = client(s);
  check_error(post(c, "/api/jobs", {file("photo", png(32, 32)), file("painting", png(32, 32))}), 503,
              "optimisation jobs are off");
}

TEST_CASE("serve: the painter's line refuses with 503 once full", "[serve]") {
  serve::Gate alone(1, 0);
  {
    const serve::Gate::Ticket first(alone);
    try {
      const serve::Gate::Ticket second(alone);
      FAIL("a second ticket with no waiting room");
    } catch (const serve::RequestError& e) {
      CHECK(e.status() == 503);
      CHECK(std::string(e.what()) == "busy: 1 pictures being painted, 0 waiting; try again shortly");
    }
  }
  const serve::Gate::Ticket again(alone);  // the place was given back

  serve::Gate line(1, 1);
  std::optional<serve::Gate::Ticket> first;
  first.emplace(line);
  bool served = false;
  std::thread second([&] {
    const serve::Gate::Ticket t(line);  // waits for `first`
    served = true;
  });
  while (line.waiting() == 0) std::this_thread::yield();
  CHECK_THROWS_AS(serve::Gate::Ticket(line), serve::RequestError);  // the line is full
  first.reset();
  second.join();
  CHECK(served);
}
