// nst serve's optimisation jobs: one run to its end on a tiny picture, a
// cancelled one, the bounded queue (503), deletion after the keep time. They
// need the real VGG-19 (skipped loudly without it). Also: the time limit, and
// SIGTERM to the program while a job runs.
#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "spawn_util.hpp"
#include "test_serve_util.hpp"
#include "vgg_util.hpp"

using namespace nst;
using namespace nst::testing::serve_test;
using nst::testing::Child;
using nst::testing::ScratchDir;
using nst::testing::slurp;
using nst::testing::spawn_nst;
using nst::testing::wait_exit_code;
using nst::testing::wait_for_text;

namespace {

httplib::MultipartFormDataItems job_form(int64_t size, int64_t iterations) {
  return {file("photo", png(24, 32, 1), "photo.png"), file("painting", png(32, 32, 2), "painting.png"),
          text("size", std::to_string(size)), text("iterations", std::to_string(iterations))};
}

std::string submit(httplib::Client& c, int64_t size, int64_t iterations) {
  const auto r = c.Post("/api/jobs", job_form(size, iterations));
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 202);
  return json(r).at("id").as_string();
}

// Polls the job until it is no longer queued or running (a guard of 10
// minutes keeps a broken server from hanging the suite; no timing is checked).
io::Json wait_finished(httplib::Client& c, const std::string& id) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(10);
  while (true) {
    const io::Json s = json(c.Get(("/api/jobs/" + id).c_str()));
    const std::string state = s.at("state").as_string();
    if (state != "queued" && state != "running") return s;
    REQUIRE(std::chrono::steady_clock::now() < give_up);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

TEST_CASE("serve jobs: a 32 px job runs to its end and its picture is served", "[serve]") {
  NST_REQUIRE_VGG19(vgg, false);
  TestServer s({}, vgg);
  auto c = client(s);
  const std::string id = submit(c, 32, 3);
  CHECK(serve::valid_job_id(id));
  const io::Json done = wait_finished(c, id);
  INFO(done.at("message").as_string());
  CHECK(done.at("state").as_string() == "done");
  CHECK(done.at("done").as_int() == 3);
  CHECK(done.at("total").as_int() == 3);
  CHECK(done.at("progress").as_number() == 1.0);
  CHECK(done.at("loss").as_number() > 0);
  CHECK(done.at("width").as_int() == 32);
  CHECK(done.at("height").as_int() == 24);
  const auto image = c.Get(("/api/jobs/" + id + "/image").c_str());
  REQUIRE(image);
  REQUIRE(image->status == 200);
  const Tensor picture = load_image_from_memory(image->body, "job picture");
  CHECK(picture.h() == 24);
  CHECK(picture.w() == 32);
  // Its picture is the only file in the work folder, named by its id.
  CHECK(testing::list_dir(s.work_dir()) == std::set<std::string>{id + ".png"});
  const std::string metrics = c.Get("/metrics")->body;
  CHECK(metrics.find("nst_jobs_finished_total{state=\"done\"} 1\n") != std::string::npos);
  CHECK(metrics.find("nst_job_seconds_count 1\n") != std::string::npos);
  // DELETE on a finished job deletes it and its picture.
  CHECK(json(c.Delete(("/api/jobs/" + id).c_str())).at("state").as_string() == "deleted");
  CHECK(c.Get(("/api/jobs/" + id).c_str())->status == 404);
  CHECK(testing::list_dir(s.work_dir()).empty());
}

TEST_CASE("serve jobs: bad job fields get 400", "[serve]") {
  NST_REQUIRE_VGG19(vgg, false);
  serve::ServeOptions o;
  o.jobs.workers = 0;  // nothing runs: only the checks are exercised
  TestServer s(o, vgg);
  auto c = client(s);
  check_error(c.Post("/api/jobs", job_form(16, 3)), 400, "field 'size': 16 is out of range (expected 32..512)");
  check_error(c.Post("/api/jobs", job_form(64, 0)), 400, "field 'iterations': 0 is out of range");
  check_error(post(c, "/api/jobs", {file("photo", png(24, 32))}), 400, "missing the file field 'painting'");
  check_error(post(c, "/api/jobs", {file("photo", "hello"), file("painting", png(32, 32))}), 400,
              "image 'photo.png': not a readable image");
}

TEST_CASE("serve jobs: a cancelled job stops with a clear state", "[serve]") {
  NST_REQUIRE_VGG19(vgg, false);
  TestServer s({}, vgg);
  auto c = client(s);
  // 500 iterations at 3 scales: minutes of work, cancelled at once.
  const std::string id = submit(c, 128, 500);
  const io::Json answer = json(c.Delete(("/api/jobs/" + id).c_str()));
  const std::string state = answer.at("state").as_string();
  CHECK((state == "cancelled" || (state == "running" && answer.at("cancel_requested").as_bool())));
  const io::Json end = wait_finished(c, id);
  CHECK(end.at("state").as_string() == "cancelled");
  CHECK(end.at("done").as_int() < end.at("total").as_int());
}

TEST_CASE("serve jobs: a full queue answers 503 with Retry-After", "[serve]") {
  NST_REQUIRE_VGG19(vgg, false);
  serve::ServeOptions o;
  o.jobs.workers = 0;  // jobs stay queued: the queue fills deterministically
  o.jobs.queued = 2;
  TestServer s(o, vgg);
  auto c = client(s);
  const std::string first = submit(c, 32, 3), second = submit(c, 32, 3);
  const auto full = c.Post("/api/jobs", job_form(32, 3));
  check_error(full, 503, "the job queue is full (0 running, 2 waiting)");
  CHECK(full->get_header_value("Retry-After") == "5");
  CHECK(json(c.Get(("/api/jobs/" + first).c_str())).at("state").as_string() == "queued");
  std::string metrics = c.Get("/metrics")->body;
  CHECK(metrics.find("nst_jobs_queued 2\n") != std::string::npos);
  CHECK(metrics.find("{method=\"POST\",route=\"/api/jobs\",status=\"503\"} 1\n") != std::string::npos);
  // A queued job cancelled ends at once and frees its place.
  CHECK(json(c.Delete(("/api/jobs/" + first).c_str())).at("state").as_string() == "cancelled");
  const io::Json cancelled = json(c.Get(("/api/jobs/" + first).c_str()));
  CHECK(cancelled.at("message").as_string() == "cancelled before it started");
  CHECK(cancelled.at("image_url").is_null());
  check_error(c.Get(("/api/jobs/" + first + "/image").c_str()), 404, "has no picture yet");
  const std::string third = submit(c, 32, 3);
  metrics = c.Get("/metrics")->body;
  CHECK(metrics.find("nst_jobs_finished_total{state=\"cancelled\"} 1\n") != std::string::npos);
  // Finished jobs go after the keep time; waiting ones stay.
  s.server->jobs().expire_finished(std::chrono::steady_clock::now() + std::chrono::hours(1));
  check_error(c.Get(("/api/jobs/" + first).c_str()), 404, "no job");
  CHECK(json(c.Get(("/api/jobs/" + second).c_str())).at("state").as_string() == "queued");
  CHECK(json(c.Get(("/api/jobs/" + third).c_str())).at("state").as_string() == "queued");
}

TEST_CASE("serve jobs: a job past its time limit stops as timed_out", "[serve]") {
  NST_REQUIRE_VGG19(vgg, false);
  serve::ServeOptions o;
  o.jobs.max_seconds = 1e-9;  // over before the first iteration ends
  TestServer s(o, vgg);
  auto c = client(s);
  const io::Json end = wait_finished(c, submit(c, 32, 100));
  CHECK(end.at("state").as_string() == "timed_out");
  CHECK(end.at("message").as_string().find("stopped after the time limit") != std::string::npos);
  CHECK(end.at("done").as_int() < 100);
}

TEST_CASE("serve jobs: SIGTERM stops a running job and the server exits 0", "[serve]") {
  NST_REQUIRE_VGG19(vgg, false);
  ModelFolder models;
  ScratchDir dir("serve-sigterm");
  const std::string work = dir.file("work");
  std::filesystem::create_directory(work);
  const Child child = spawn_nst({"serve", "--port", "0", "--models", models.path(), "--work", work,
                                 "--weights", testing::vgg19_weights_path(), "--quiet"},
                                dir.file("stderr"));
  wait_for_text(child, "listening on http://");
  std::smatch m;
  const std::string err = slurp(child.err_path);
  REQUIRE(std::regex_search(err, m, std::regex("127\\.0\\.0\\.1:([0-9]+)/")));
  httplib::Client c("127.0.0.1", std::stoi(m[1].str()));
  const std::string id = submit(c, 128, 500);  // minutes of work
  while (json(c.Get(("/api/jobs/" + id).c_str())).at("done").as_int() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ::kill(child.pid, SIGTERM);
  CHECK(wait_exit_code(child) == 0);
  CHECK(slurp(child.err_path).find("nst serve: stopped (signal 15)") != std::string::npos);
  CHECK(testing::list_dir(work).empty());  // the job's picture deleted with it
}
