// nst serve as a program: it prints where it listens (127.0.0.1 unless told
// otherwise), answers, and on SIGTERM stops and exits 0, removing its
// temporary work folder; bad flags are errors before anything starts.
#include <httplib.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <regex>

#include "spawn_util.hpp"
#include "test_serve_util.hpp"

using namespace nst;
using namespace nst::testing;
using namespace nst::testing::serve_test;

TEST_CASE("serve cli: listens on loopback and stops on SIGTERM with exit 0", "[serve]") {
  ModelFolder models;
  ScratchDir dir("serve-cli");
  const std::string work = dir.file("work");
  std::filesystem::create_directory(work);
  const Child c = spawn_nst({"serve", "--port", "0", "--models", models.path(), "--work", work},
                            dir.file("stderr"));
  wait_for_text(c, "listening on http://");
  const std::string err = slurp(c.err_path);
  std::smatch m;
  REQUIRE(std::regex_search(err, m, std::regex("listening on http://127\\.0\\.0\\.1:([0-9]+)/")));
  CHECK(err.find("leaving out") != std::string::npos);  // broken.nstw
  httplib::Client client("127.0.0.1", std::stoi(m[1].str()));
  const auto r = post(client, "/api/fast", {file("image", png(16, 16)), text("model", "mono")});
  REQUIRE(r);
  CHECK(r->status == 200);
  ::kill(c.pid, SIGTERM);
  CHECK(wait_exit_code(c) == 0);
  CHECK(slurp(c.err_path).find("nst serve: stopped (signal 15)") != std::string::npos);
  CHECK(list_dir(work).empty());
}

TEST_CASE("serve cli: bad flags and folders are errors before serving", "[serve]") {
  ModelFolder models;
  ScratchDir dir("serve-cli-errors");
  check_error_exit(run_nst({"serve", "--models", dir.file("missing")}),
                   "nst serve: --models '" + dir.file("missing") + "' is not a folder");
  check_error_exit(run_nst({"serve", "--models", dir.file("")}),
                   "no style network (*.nstw) in");
  check_error_exit(run_nst({"serve", "--models", models.path(), "--weights", dir.file("none.nstw")}),
                   "none.nstw");
  check_error_exit(run_nst({"serve", "--models", models.path(), "--port", "70000"}), "--port");
  check_error_exit(run_nst({"serve", "--models", models.path(), "--work", dir.file("nowhere")}),
                   "nst serve: --work '" + dir.file("nowhere") + "' is not a folder");
  // A port another server holds.
  const TestServer other;
  CliOptions no_weights;
  no_weights.env = {{"NST_WEIGHTS", dir.file("none.nstw")}};
  const std::string port = std::to_string(other.port);
  check_error_exit(run_nst({"serve", "--models", models.path(), "--port", port}, no_weights),
                   "nst serve: cannot listen on 127.0.0.1:" + port + " (the port is in use");
  // Without --work: the temporary folder made for it is removed on the way out.
  no_weights.env.emplace_back("TMPDIR", dir.file("tmp"));
  std::filesystem::create_directory(dir.file("tmp"));
  check_error_exit(run_nst({"serve", "--models", models.path(), "--host", "10.9.9.9"}, no_weights),
                   "nst serve: cannot listen on 10.9.9.9:8080 (the port is in use, or the host is not");
  CHECK(list_dir(dir.file("tmp")).empty());
}
