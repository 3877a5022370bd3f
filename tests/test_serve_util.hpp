// The fixture of the nst serve tests (tests/test_serve*.cpp): a server started
// in this process on a free loopback port, driven with httplib::Client. The
// style networks are small random ones written to a scratch folder (one
// single-style, one with two styles).
#pragma once

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "cli_util.hpp"
#include "io/json.hpp"
#include "models/transformer.hpp"
#include "tools/serve_image.hpp"
#include "tools/serve_server.hpp"
#include "transformer_util.hpp"

namespace nst::testing::serve_test {

// Two tiny networks in a scratch folder: "mono" (1 style), "duo" (2 styles).
struct ModelFolder {
  ScratchDir dir{"serve-models"};
  ModelFolder() {
    TransformerSpec duo = johnson_transformer(4, 1);
    duo.styles = {"left", "right"};
    random_transformer(johnson_transformer(4, 1), 1).save(dir.file("mono.nstw"), "test", "0");
    random_transformer(duo, 2).save(dir.file("duo.nstw"), "test", "0");
    write_text(dir.file("broken.nstw"), "not a model");  // left out with a warning
  }
  std::string path() const { return std::filesystem::path(dir.file("x")).parent_path().string(); }
};

struct TestServer {
  ModelFolder models;
  ScratchDir work{"serve-work"};
  serve::ModelCatalog catalog = serve::ModelCatalog::load(models.path());
  std::unique_ptr<serve::Server> server;
  std::thread thread;
  int port = 0;

  explicit TestServer(serve::ServeOptions o = {}, const Vgg19* vgg = nullptr) {
    o.port = 0;
    o.log_requests = false;
    o.work_dir = std::filesystem::path(work.file("x")).parent_path().string();
    server = std::make_unique<serve::Server>(o, catalog, vgg);
    port = server->bind();
    thread = std::thread([this] { server->run(); });
  }
  ~TestServer() {
    server->stop();
    thread.join();
  }
  std::string work_dir() const { return std::filesystem::path(work.file("x")).parent_path().string(); }
};

inline httplib::Client client(const TestServer& s) {
  httplib::Client c("127.0.0.1", s.port);
  c.set_read_timeout(120);
  return c;
}

inline std::string png(int64_t h, int64_t w, uint64_t seed = 7) {
  return serve::encode_image(random_pixels(h, w, seed), serve::ImageFormat::png);
}

inline httplib::MultipartFormData file(const std::string& name, const std::string& bytes,
                                const std::string& filename = "photo.png") {
  return {name, bytes, filename, "application/octet-stream"};
}
inline httplib::MultipartFormData text(const std::string& name, const std::string& value) {
  return {name, value, "", ""};
}

// A multipart POST (a braced list alone is ambiguous among Client::Post's overloads).
inline httplib::Result post(httplib::Client& c, const std::string& path,
                            const httplib::MultipartFormDataItems& items) {
  return c.Post(path.c_str(), items);
}

// Sends `request` byte for byte on a new connection and returns everything
// the server answers until it closes (ask it to: Connection: close).
inline std::string raw_request(int port, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, size_t(n));
  ::close(fd);
  return answer;
}

inline io::Json json(const httplib::Result& r) {
  REQUIRE(r);
  return io::parse_json(r->body, "response");
}

// The response's {"error": ...} contains `message`.
inline void check_error(const httplib::Result& r, int status, const std::string& message) {
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == status);
  CHECK(json(r).at("error").as_string().find(message) != std::string::npos);
}

}  // namespace nst::testing::serve_test
