// Batches through the real nst binary (docs/batch.md): `nst fast` and
// `nst stylize` with --output-dir, --shard, --skip-existing and --manifest;
// three processes splitting one folder; an interrupted stylize batch resumed by
// running the same command again; the Slurm recipe run locally; bad flags.
// The nst fast tests use a tiny random network made here; the stylize ones
// need build/vgg19.nstw and the shared paintings (skipped loudly otherwise).
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "cli_util.hpp"
#include "nst/checkpoint.hpp"
#include "spawn_util.hpp"
#include "transformer_util.hpp"

using namespace nst;
using namespace nst::testing;
namespace fs = std::filesystem;

namespace {

std::string tiny_model(const ScratchDir& dir) {
  const std::string path = dir.file("tiny.nstw");
  random_transformer(johnson_transformer(2), 1).save(path, "unit test", "");
  return path;
}

// p0.png .. p{n-1}.png, random pixels of h x w, in a new folder.
std::string write_photos(const std::string& folder, int n, int64_t h = 16, int64_t w = 20) {
  fs::create_directories(folder);
  for (int k = 0; k < n; ++k)
    save_image(folder + "/p" + std::to_string(k) + ".png", random_pixels(h, w, 10 + k));
  return folder;
}

// Every line of the manifest, each parsed (a line that is not JSON fails the test).
std::vector<io::Json> manifest_lines(const std::string& path) {
  std::vector<io::Json> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(io::parse_json(line, path));
  return lines;
}

// The bytes of every file in `dir` whose name ends in `suffix`.
std::map<std::string, std::string> bytes_of_folder(const std::string& dir,
                                                   const std::string& suffix = "") {
  std::map<std::string, std::string> out;
  for (const std::string& name : list_dir(dir))
    if (name.ends_with(suffix)) out[name] = read_file(dir + "/" + name);
  return out;
}

}  // namespace

TEST_CASE("cli batch: nst fast --skip-existing paints only what is missing", "[cli][batch]") {
  ScratchDir dir("batch");
  const std::string model = tiny_model(dir);
  const std::string photos = write_photos(dir.file("photos"), 4), painted = dir.file("painted");
  const std::string manifest = dir.file("manifest.jsonl");
  const std::vector<std::string> args{"fast",       "--model",      model,   "--input",
                                      photos,       "--output-dir", painted, "--skip-existing",
                                      "--manifest", manifest};
  check_clean_exit(run_nst(args));
  const std::set<std::string> names{"p0.png", "p1.png", "p2.png", "p3.png"};
  REQUIRE(list_dir(painted) == names);
  std::vector<io::Json> lines = manifest_lines(manifest);
  REQUIRE(lines.size() == 4);
  for (size_t k = 0; k < 4; ++k) {
    const std::string name = "p" + std::to_string(k) + ".png";
    CHECK(lines[k].at("input").as_string() == photos + "/" + name);
    CHECK(lines[k].at("output").as_string() == painted + "/" + name);
    CHECK(lines[k].at("status").as_string() == "ok");
    CHECK(lines[k].at("width").as_int() == 20);
    CHECK(lines[k].at("height").as_int() == 16);
    CHECK(lines[k].at("seconds").as_number() >= 0);
    CHECK(lines[k].at("shard").as_string() == "0/1");
    CHECK(lines[k].find("error") == nullptr);
  }
  const std::map<std::string, std::string> first = bytes_of_folder(painted);

  // Run again: everything is there.
  const CliRun again = run_nst(args);
  check_clean_exit(again);
  CHECK(again.err.find("4 of 4 photos already painted, skipped (--skip-existing)") !=
        std::string::npos);
  CHECK(bytes_of_folder(painted) == first);
  lines = manifest_lines(manifest);
  REQUIRE(lines.size() == 8);
  for (size_t k = 4; k < 8; ++k) {
    CHECK(lines[k].at("status").as_string() == "skipped");
    CHECK(lines[k].at("width").is_null());
  }

  // One picture lost: exactly that one is painted again, to the same bytes.
  fs::remove(painted + "/p2.png");
  std::vector<std::string> with_json = args;
  with_json.push_back("--json");
  const CliRun third = run_nst(with_json);
  check_clean_exit(third);
  CHECK(bytes_of_folder(painted) == first);
  const io::Json j = io::parse_json(third.out, "stdout");
  REQUIRE(j.at("images").items().size() == 1);
  CHECK(j.at("images").items()[0].at("input").as_string() == photos + "/p2.png");
  CHECK(j.at("skipped").items().size() == 3);
  lines = manifest_lines(manifest);
  REQUIRE(lines.size() == 12);
  std::map<std::string, std::string> status;
  for (size_t k = 8; k < 12; ++k)
    status[lines[k].at("input").as_string()] = lines[k].at("status").as_string();
  CHECK(status == std::map<std::string, std::string>{{photos + "/p0.png", "skipped"},
                                                     {photos + "/p1.png", "skipped"},
                                                     {photos + "/p2.png", "ok"},
                                                     {photos + "/p3.png", "skipped"}});
}

TEST_CASE("cli batch: three nst fast processes with --shard cover a folder exactly once",
          "[cli][batch]") {
  ScratchDir dir("batch");
  const std::string model = tiny_model(dir);
  const std::string photos = write_photos(dir.file("photos"), 7), painted = dir.file("painted");
  const std::string manifest = dir.file("manifest.jsonl");
  std::vector<Child> children;
  for (int i = 0; i < 3; ++i)
    children.push_back(
        spawn_nst({"fast", "--model", model, "--input", photos, "--output-dir", painted, "--shard",
                   std::to_string(i) + "/3", "--manifest", manifest, "--threads", "1"},
                  dir.file("err" + std::to_string(i) + ".txt")));
  for (const Child& c : children) {
    INFO(slurp(c.err_path));
    CHECK(wait_exit_code(c) == 0);
  }
  CHECK(list_dir(painted).size() == 7);
  const std::vector<io::Json> lines = manifest_lines(manifest);
  REQUIRE(lines.size() == 7);
  std::map<std::string, int> times;
  std::map<std::string, int> per_shard;
  for (const io::Json& line : lines) {
    CHECK(line.at("status").as_string() == "ok");
    ++times[line.at("input").as_string()];
    ++per_shard[line.at("shard").as_string()];
  }
  CHECK(times.size() == 7);
  for (const auto& [input, n] : times) CHECK(n == 1);
  CHECK(per_shard == std::map<std::string, int>{{"0/3", 3}, {"1/3", 2}, {"2/3", 2}});
}

TEST_CASE("cli batch: a shard with no photos succeeds and says so", "[cli][batch]") {
  ScratchDir dir("batch");
  const std::string model = tiny_model(dir);
  const std::string photos = write_photos(dir.file("photos"), 3), painted = dir.file("painted");
  const CliRun r = run_nst({"fast", "--model", model, "--input", photos, "--output-dir", painted,
                            "--shard", "5/10", "--manifest", dir.file("m.jsonl")});
  check_clean_exit(r);
  CHECK(r.err.find("nst fast: shard 5/10 holds none of the 3 photos: nothing to do") !=
        std::string::npos);
  CHECK(list_dir(painted).empty());
  CHECK(read_file(dir.file("m.jsonl")).empty());
}

TEST_CASE("cli batch: bad batch flags are refused before any work", "[cli][batch]") {
  ScratchDir dir("batch");
  const std::string model = tiny_model(dir);
  const std::string photos = write_photos(dir.file("photos"), 2), painted = dir.file("painted");
  const std::vector<std::string> fast{"fast", "--model",      model,  "--input",
                                      photos, "--output-dir", painted};
  const std::vector<std::string> stylize{"stylize",          "--content",    photos, "--style",
                                         photos + "/p0.png", "--output-dir", painted};
  const auto refused = [&](std::vector<std::string> args, const std::vector<std::string>& more,
                           const std::string& message) {
    args.insert(args.end(), more.begin(), more.end());
    INFO(args[0] << " ... " << more[0]);
    check_error_exit(run_nst(args), message);
    CHECK_FALSE(fs::exists(painted));
  };
  for (const std::string bad : {"3/3", "-1/2", "a/b", "1/0"}) {
    const std::string why = "': expected I/N with 0 <= I < N <= 10000";
    refused(fast, {"--shard", bad}, "nst fast: --shard '" + bad + why);
    refused(stylize, {"--shard", bad}, "nst stylize: --shard '" + bad + why);
  }
  const std::vector<std::string> one_photo{
      "fast", "--model", model, "--input", photos + "/p0.png", "--output", dir.file("out.png")};
  refused(one_photo, {"--shard", "0/2"},
          "nst fast: --shard is for a batch: give --output-dir DIR too");
  refused(one_photo, {"--skip-existing"},
          "nst fast: --skip-existing is for a batch: give --output-dir DIR too");
  for (const std::string flag : {"output", "record", "checkpoint", "resume"})
    refused(
        stylize, {"--" + flag, dir.file("x.png")},
        "nst stylize: --" + flag + " does not go with --output-dir: a batch writes DIR/<name>.png");
  refused(stylize, {"--style-weights", "1,10"},
          "nst stylize: --style-weights does not go with --output-dir");
  refused({"stylize", "--content", photos + "/p0.png", "--content", photos + "/p1.png", "--style",
           photos + "/p0.png"},
          {"--output", dir.file("x.png")},
          "nst stylize: several --content need --output-dir DIR (a batch)");
  refused({"stylize", "--content", photos + "/p0.png", "--style", photos + "/p0.png"},
          {"--manifest", "m.jsonl"},
          "nst stylize: --manifest is for a batch: give --output-dir DIR too");
  // A manifest that cannot be appended to (a folder), before the network loads.
  const CliRun r = run_nst(
      {"fast", "--model", model, "--input", photos, "--output-dir", painted, "--manifest", photos});
  check_error_exit(r, "nst fast: --manifest '" + photos + "'");
  CHECK(list_dir(painted).empty());
}

namespace {

// stylize at 32 px on the shared starry night, plus `more`.
std::vector<std::string> stylize_args(const std::vector<std::string>& more) {
  std::vector<std::string> a{"stylize",
                             "--style",
                             shared_image("starry_night.jpg"),
                             "--weights",
                             default_weights(),
                             "--size",
                             "32",
                             "--content-layers",
                             "relu2_2",
                             "--style-layers",
                             "relu1_1,relu2_1"};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

}  // namespace

TEST_CASE(
    "cli batch: nst stylize on a folder paints each photo as a single run and skips finished ones",
    "[cli][batch]") {
  NST_REQUIRE_WEIGHTS();
  NST_REQUIRE_SHARED("images/starry_night.jpg");
  ScratchDir dir("batch");
  const std::string photos = write_photos(dir.file("photos"), 2, 30, 40),
                    painted = dir.file("painted");
  const std::string manifest = dir.file("manifest.jsonl");
  const std::vector<std::string> batch =
      stylize_args({"--content", photos, "--output-dir", painted, "--iterations", "3",
                    "--print-every", "0", "--skip-existing", "--manifest", manifest});
  check_clean_exit(run_nst(batch));
  CHECK(list_dir(painted) ==
        (std::set<std::string>{"p0.png", "p0.png.json", "p1.png", "p1.png.json"}));
  // Each picture has the bytes of the single run of its photo.
  for (const std::string name : {"p0", "p1"}) {
    const std::string single = dir.file(name + "_single.png");
    check_clean_exit(run_nst(stylize_args({"--content", photos + "/" + name + ".png", "--output",
                                           single, "--iterations", "3", "--print-every", "0"})));
    CHECK(read_file(painted + "/" + name + ".png") == read_file(single));
    CHECK_FALSE(
        read_json(painted + "/" + name + ".png.json").at("result").at("interrupted").as_bool());
  }
  std::vector<io::Json> lines = manifest_lines(manifest);
  REQUIRE(lines.size() == 2);
  for (const io::Json& line : lines) {
    CHECK(line.at("status").as_string() == "ok");
    CHECK(line.at("width").as_int() == 32);
    CHECK(line.at("height").as_int() == 24);
  }
  const std::map<std::string, std::string> first = bytes_of_folder(painted);
  fs::copy(painted, dir.file("painted_first"));

  const CliRun again = run_nst(batch);
  check_clean_exit(again);
  CHECK(again.err.find("2 of 2 photos already painted, skipped (--skip-existing)") !=
        std::string::npos);
  CHECK(bytes_of_folder(painted) == first);

  // A picture that is not the one its record describes is painted again.
  write_text(painted + "/p1.png", first.at("p0.png"));
  check_clean_exit(run_nst(batch));
  CHECK(bytes_of_folder(painted, ".png") == bytes_of_folder(dir.file("painted_first"), ".png"));
  lines = manifest_lines(manifest);
  REQUIRE(lines.size() == 6);
  CHECK(lines[4].at("input").as_string() == photos + "/p0.png");
  CHECK(lines[4].at("status").as_string() == "skipped");
  CHECK(lines[4].at("width").as_int() == 32);
  CHECK(lines[5].at("input").as_string() == photos + "/p1.png");
  CHECK(lines[5].at("status").as_string() == "ok");
}

TEST_CASE(
    "cli batch: a photo that fails in an nst stylize batch is reported and the others are painted",
    "[cli][batch]") {
  NST_REQUIRE_WEIGHTS();
  NST_REQUIRE_SHARED("images/starry_night.jpg");
  ScratchDir dir("batch");
  const std::string photos = write_photos(dir.file("photos"), 1, 30, 40),
                    painted = dir.file("painted");
  write_text(photos + "/bad.png", "not a picture");
  const std::string manifest = dir.file("manifest.jsonl");
  const CliRun r =
      run_nst(stylize_args({"--content", photos, "--output-dir", painted, "--iterations", "2",
                            "--print-every", "0", "--manifest", manifest}));
  INFO(describe(r));
  REQUIRE(r.signal == 0);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("nst stylize: '" + photos + "/bad.png' failed: image '" + photos +
                   "/bad.png': not a readable image") != std::string::npos);
  CHECK(r.err.find("nst stylize: batch done: 1 painted, 0 skipped, 1 failed") != std::string::npos);
  CHECK(list_dir(painted) == (std::set<std::string>{"p0.png", "p0.png.json"}));
  const std::vector<io::Json> lines = manifest_lines(manifest);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].at("input").as_string() == photos + "/bad.png");
  CHECK(lines[0].at("status").as_string() == "failed");
  CHECK_THAT(lines[0].at("error").as_string(), Catch::Contains("not a readable image"));
  CHECK(lines[1].at("status").as_string() == "ok");
}

TEST_CASE("cli batch: an interrupted nst stylize batch continues when the same command runs again",
          "[cli][batch]") {
  NST_REQUIRE_WEIGHTS();
  NST_REQUIRE_SHARED("images/starry_night.jpg");
  ScratchDir dir("batch");
  const std::string photos = write_photos(dir.file("photos"), 2, 30, 40),
                    painted = dir.file("painted");
  const std::vector<std::string> common{"--iterations", "60", "--threads", "2"};
  std::map<std::string, std::string> reference;  // each photo's uninterrupted single run
  for (const std::string name : {"p0", "p1"}) {
    std::vector<std::string> a = stylize_args(common);
    a.insert(a.end(), {"--content", photos + "/" + name + ".png", "--output",
                       dir.file(name + ".png"), "--print-every", "0"});
    check_clean_exit(run_nst(a));
    reference[name] = read_file(dir.file(name + ".png"));
  }
  std::vector<std::string> batch = stylize_args(common);
  batch.insert(batch.end(), {"--content", photos, "--output-dir", painted, "--skip-existing",
                             "--print-every", "1"});

  const std::string err = dir.file("err.txt");
  Child c = spawn_nst(batch, err);
  wait_for_text(c, "iteration 1/60");
  REQUIRE(::kill(c.pid, SIGINT) == 0);
  const int code = wait_exit_code(c);
  const std::string log = slurp(err);
  INFO(log);
  REQUIRE(code == 130);
  CHECK(log.find("interrupted (signal 2)") != std::string::npos);
  CHECK(log.find("rerun the same command with --skip-existing to continue") != std::string::npos);
  REQUIRE(fs::exists(painted + "/p0.png.ckpt"));
  // The checkpoint holds the photo's own single run: `nst stylize --resume` works on it too.
  const Checkpoint ckpt = load_checkpoint(painted + "/p0.png.ckpt");
  CHECK(std::find(ckpt.args.begin(), ckpt.args.end(), "--output-dir") == ckpt.args.end());
  CHECK(std::find(ckpt.args.begin(), ckpt.args.end(), painted + "/p0.png") != ckpt.args.end());

  const CliRun again = run_nst(batch);
  check_clean_exit(again);
  CHECK(again.err.find("nst stylize: resuming from " + painted + "/p0.png.ckpt") !=
        std::string::npos);
  CHECK(read_file(painted + "/p0.png") ==
        reference["p0"]);  // bit-identical to the uninterrupted run
  CHECK(read_file(painted + "/p1.png") == reference["p1"]);
}

TEST_CASE("cli batch: the Slurm array recipe run locally paints every photo exactly once",
          "[cli][batch]") {
  NST_REQUIRE_SHARED("images/train/0001.jpg");
  fs::path model = fs::path(NST_BINARY_PATH).parent_path() / "models" / "udnie.nstw";
  if (!fs::exists(model)) model = fs::path(NST_SOURCE_DIR) / "build" / "models" / "udnie.nstw";
  if (!fs::exists(model)) {
    WARN("SKIPPED: no models/udnie.nstw next to nst or in build/ (make models)");
    return;
  }
  ScratchDir dir("batch");
  const std::string in = dir.file("in"), out = dir.file("out");
  fs::create_directories(in);
  std::vector<std::string> train;
  for (const auto& e : fs::directory_iterator(shared_dir() + "/images/train"))
    if (e.path().extension() == ".jpg") train.push_back(e.path().string());
  std::sort(train.begin(), train.end());
  REQUIRE(train.size() >= 7);
  for (size_t k = 0; k < 7; ++k)
    fs::copy_file(train[k], in + "/" + fs::path(train[k]).filename().string());

  CliOptions opt;
  opt.binary = "/bin/bash";
  opt.timeout_seconds = 300;
  opt.env = {{"NST", NST_BINARY_PATH},
             {"MODEL", model.string()},
             {"INPUT_DIR", in},
             {"OUTPUT_DIR", out},
             {"SIZE", "64"},
             {"THREADS", "1"},
             {"LOG_DIR", dir.file("logs")}};
  const std::string script = std::string(NST_SOURCE_DIR) + "/deploy/slurm/run-local.sh";
  check_clean_exit(run_nst({script, "3"}, opt));
  std::set<std::string> pictures = list_dir(out);
  CHECK(pictures.erase("manifest.jsonl") == 1);
  CHECK(pictures.size() == 7);
  std::map<std::string, int> painted;
  std::set<std::string> shards;
  for (const io::Json& line : manifest_lines(out + "/manifest.jsonl")) {
    CHECK(line.at("status").as_string() == "ok");
    ++painted[line.at("input").as_string()];
    shards.insert(line.at("shard").as_string());
  }
  CHECK(painted.size() == 7);
  for (const auto& [input, n] : painted) CHECK(n == 1);
  CHECK(shards == std::set<std::string>{"0/3", "1/3", "2/3"});

  // The array again (a requeue): nothing left to do.
  check_clean_exit(run_nst({script, "3"}, opt));
  size_t skipped = 0;
  for (const io::Json& line : manifest_lines(out + "/manifest.jsonl"))
    if (line.at("status").as_string() == "skipped") ++skipped;
  CHECK(skipped == 7);
}
