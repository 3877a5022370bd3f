// `nst train` end to end: a tiny network (width 4, the published depth) on 16 px
// crops of synthetic photos, so that each step takes milliseconds (a third of a
// second under ASan, where the VGG's GEMMs run ~50x slower).
#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "cli_util.hpp"
#include "models/transformer.hpp"
#include "spawn_util.hpp"
#include "vgg_util.hpp"

using namespace nst;
using namespace nst::testing;

namespace {

Tensor stripes(int64_t h, int64_t w, uint64_t seed) {
  Tensor t = Tensor::empty({1, 3, h, w});
  for (int64_t c = 0; c < 3; ++c)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        t[(c * h + y) * w + x] =
            float(127.5 + 100 * std::sin(0.2 * double(x + 3 * c) + 0.1 * double(seed) * double(y)));
  return t;
}

// nst with a hang guard of 5 minutes (the default minute is too short for the
// longer runs under the sanitizers on a slow machine).
CliRun run_train(const std::vector<std::string>& args) {
  CliOptions o;
  o.timeout_seconds = 300;
  return run_nst(args, o);
}

struct TrainFixture {
  ScratchDir dir{"cli-train"};
  std::string weights = vgg19_weights_path();
  TrainFixture() {
    std::filesystem::create_directories(dir.file("photos/sub"));
    for (int i = 0; i < 5; ++i)
      save_image(dir.file((i < 3 ? "photos/p" : "photos/sub/p") + std::to_string(i) + ".png"),
                 stripes(40 + 4 * i, 48, uint64_t(i + 1)));
    save_image(dir.file("style.png"), stripes(64, 64, 9));
  }
  // The tiny run's flags, writing OUTPUT in the scratch folder; `more` holds
  // (--option, value) pairs that replace or add to them.
  std::vector<std::string> args(const std::string& output, std::vector<std::string> more = {}) const {
    std::vector<std::string> a{"train",        "--style",  dir.file("style.png"), "--images",
                               dir.file("photos"), "--output", dir.file(output),  "--width",
                               "4",            "--size",   "16",                  "--batch",
                               "2",            "--weights", weights,              "--threads",
                               "1",            "--sample-every", "0",             "--lr", "0.01",
                               // the painting's and the photos' own sizes: the defaults
                               // (512 px) cost more than the steps, a minute under ASan
                               "--style-size", "64",   "--sample-size", "48"};
    for (size_t m = 0; m + 1 < more.size(); m += 2) {
      bool replaced = false;
      for (size_t i = 1; i + 1 < a.size(); i += 2)
        if (a[i] == more[m]) {
          a[i + 1] = more[m + 1];
          replaced = true;
        }
      if (!replaced) a.insert(a.end(), {more[m], more[m + 1]});
    }
    return a;
  }
};

#define NST_REQUIRE_TRAIN_WEIGHTS(f)                                             \
  if (f.weights.empty()) {                                                        \
    WARN("SKIPPED: no VGG-19 weights for nst train (run `make weights`)");       \
    return;                                                                       \
  }

}  // namespace

TEST_CASE("cli train: a run writes the model, checkpoint, samples and record, nst fast paints "
          "with it", "[cli][cli-train]") {
  TrainFixture f;
  NST_REQUIRE_TRAIN_WEIGHTS(f);
  const CliRun r = run_train(f.args("m.nstw", {"--steps", "12", "--sample-every", "5",
                                             "--sample", f.dir.file("photos/p0.png")}));
  check_clean_exit(r);
  CHECK(r.err.find("done after 12 steps") != std::string::npos);
  const std::set<std::string> files = list_dir(f.dir.file(""));
  for (const char* want : {"m.nstw", "m.nstw.ckpt", "m.nstw.json", "m.sample-000005.png",
                           "m.sample-000010.png"})
    CHECK(files.count(want));
  const io::Json rec = read_json(f.dir.file("m.nstw.json"));
  CHECK(rec.at("command").as_string() == "train");
  CHECK(rec.at("photos").as_number() == 5);
  CHECK(rec.at("steps").items().size() == 12);
  const io::Json& s = rec.at("steps").items()[11];
  CHECK(s.at("step").as_number() == 12);
  for (const char* k : {"loss", "content", "style", "tv", "seconds"}) CHECK(s.at(k).as_number() >= 0);
  CHECK(rec.at("seconds_per_step").as_number() > 0);
  CHECK(rec.at("model_bytes").as_number() == double(std::filesystem::file_size(f.dir.file("m.nstw"))));
  CHECK(rec.at("tensor_fnv1a64").at("conv1.weight").as_string().size() == 16);
  // New networks mirror the border (issue 17); --padding zero makes the published kind.
  // with transposed convs; --padding zero makes the published kind, --upsample nearest
  // the resize-convolution.
  CHECK(rec.at("padding").as_string() == "reflect");
  CHECK(rec.at("upsample").as_string() == "transposed");
  CHECK(transformer_spec_json(Transformer::load(f.dir.file("m.nstw")).spec()) ==
        transformer_spec_json(johnson_transformer(4, 5, Padding::reflect)));
  check_clean_exit(run_train(f.args("z.nstw", {"--steps", "2", "--padding", "zero"})));
  CHECK(read_json(f.dir.file("z.nstw.json")).at("padding").as_string() == "zero");
  CHECK(transformer_spec_json(Transformer::load(f.dir.file("z.nstw")).spec()) ==
        transformer_spec_json(johnson_transformer(4)));
  check_clean_exit(run_train(f.args("n.nstw", {"--steps", "2", "--upsample", "nearest"})));
  CHECK(read_json(f.dir.file("n.nstw.json")).at("upsample").as_string() == "nearest");
  CHECK(transformer_spec_json(Transformer::load(f.dir.file("n.nstw")).spec()) ==
        transformer_spec_json(johnson_transformer(4, 5, Padding::reflect, Upsampling::nearest)));

  const CliRun painted = run_train({"fast", "--model", f.dir.file("m.nstw"), "--input",
                                  f.dir.file("photos/p1.png"), "--output", f.dir.file("p.png")});
  check_clean_exit(painted);
  CHECK(load_image(f.dir.file("p.png")).shape() == Shape{1, 3, 44, 48});
}

TEST_CASE("cli train: 15 steps, then 15 more from the checkpoint, give the bytes of 30",
          "[cli][cli-train]") {
  TrainFixture f;
  NST_REQUIRE_TRAIN_WEIGHTS(f);
  check_clean_exit(run_train(f.args("whole.nstw", {"--steps", "30"})));
  check_clean_exit(run_train(f.args("half.nstw", {"--steps", "15"})));
  const CliRun more = run_train({"train", "--resume", f.dir.file("half.nstw.ckpt"), "--steps", "30",
                               "--output", f.dir.file("resumed.nstw")});
  check_clean_exit(more);
  CHECK(more.err.find("resuming at step 15") != std::string::npos);
  CHECK(read_bytes(f.dir.file("resumed.nstw")) == read_bytes(f.dir.file("whole.nstw")));
  const io::Json rec = read_json(f.dir.file("resumed.nstw.json"));
  CHECK(rec.at("steps").items().size() == 30);
  CHECK(rec.at("resumed_from_step").as_number() == 15);
  // A schedule by hand: the crop size and learning rate may change on resuming.
  const CliRun bigger = run_train({"train", "--resume", f.dir.file("half.nstw.ckpt"), "--steps", "18",
                                 "--size", "24", "--lr", "0.002", "--output", f.dir.file("big.nstw")});
  check_clean_exit(bigger);
  const io::Json big = read_json(f.dir.file("big.nstw.json"));
  CHECK(big.at("size").as_string() == "24");
  CHECK(big.at("lr").as_string() == "0.002");
  CHECK(big.at("steps").items().size() == 18);
  // Settings fixed by the checkpoint cannot change.
  check_error_exit(run_train({"train", "--resume", f.dir.file("half.nstw.ckpt"), "--width", "8"}),
                   "--width cannot change when resuming");
  check_error_exit(run_train({"train", "--resume", f.dir.file("half.nstw.ckpt"), "--padding", "zero"}),
                   "--padding cannot change when resuming");
  check_error_exit(run_train({"train", "--resume", f.dir.file("missing.ckpt")}), "missing.ckpt");
}

TEST_CASE("cli train: bad inputs fail before training and write nothing", "[cli][cli-train]") {
  TrainFixture f;
  NST_REQUIRE_TRAIN_WEIGHTS(f);
  std::filesystem::create_directories(f.dir.file("empty"));
  std::filesystem::create_directories(f.dir.file("broken"));
  write_text(f.dir.file("broken/a.jpg"), "\xff\xd8 garbage");
  write_text(f.dir.file("broken/b.png"), "");
  write_text(f.dir.file("bad_style.jpg"), "\xff\xd8\xff\xe0 truncated");
  const auto with = [&](const std::string& key, const std::string& v) {
    return f.args("out/m.nstw", {"--steps", "3", key, v});
  };
  std::filesystem::create_directories(f.dir.file("out"));
  check_error_exit(run_train(with("--images", f.dir.file("nowhere"))), "not a folder");
  check_error_exit(run_train(with("--images", f.dir.file("empty"))), "no .jpg, .jpeg or .png");
  check_error_exit(run_train(with("--images", f.dir.file("broken"))), "none of its 2 photos could be read");
  check_error_exit(run_train(with("--style", f.dir.file("bad_style.jpg"))), "bad_style.jpg");
  check_error_exit(run_train(with("--style", f.dir.file("no_style.jpg"))), "no_style.jpg");
  check_error_exit(run_train(with("--size", "30")), "multiple of 4");
  check_error_exit(run_train(with("--batch", "0")), "--batch");
  check_error_exit(run_train(with("--steps", "-2")), "--steps");
  check_error_exit(run_train(with("--lr", "abc")), "--lr");
  check_error_exit(run_train(with("--padding", "wrap")), "reflect or zero");
  check_error_exit(run_train(with("--upsample", "bicubic")), "nearest or transposed");
  check_error_exit(run_train(with("--content-layers", "relu9_9")), "relu9_9");
  check_error_exit(run_train(f.args("no/such/folder/m.nstw", {"--steps", "3"})),
                   "does not exist");
  check_error_exit(run_train({"train", "--style", f.dir.file("style.png")}), "--images is required");
  check_error_exit(run_train(f.args("out/m.nstw", {"--bogus", "1"})), "--bogus");
  CHECK(list_dir(f.dir.file("out")).empty());

  // One corrupt photo among good ones is listed once and skipped.
  write_text(f.dir.file("photos/zz_corrupt.jpg"), "\xff\xd8 garbage");
  const CliRun r = run_train(f.args("out/m.nstw", {"--steps", "6"}));
  check_clean_exit(r);
  CHECK(r.err.find("zz_corrupt.jpg") != std::string::npos);
  const io::Json rec = read_json(f.dir.file("out/m.nstw.json"));
  REQUIRE(rec.at("photos_skipped").items().size() == 1);

  // The same command again would replace that run's checkpoint: refused, nothing touched.
  const auto model = read_bytes(f.dir.file("out/m.nstw"));
  const auto state = read_bytes(f.dir.file("out/m.nstw.ckpt"));
  check_error_exit(run_train(f.args("out/m.nstw", {"--steps", "6"})), "--resume");
  CHECK(read_bytes(f.dir.file("out/m.nstw")) == model);
  CHECK(read_bytes(f.dir.file("out/m.nstw.ckpt")) == state);
}

TEST_CASE("cli train: SIGINT stops between steps, keeps a checkpoint and the model, the run "
          "resumes", "[cli][cli-train]") {
  TrainFixture f;
  NST_REQUIRE_TRAIN_WEIGHTS(f);
  std::vector<std::string> args = f.args("m.nstw", {"--steps", "100000", "--print-every", "1"});
  const Child c = spawn_nst(args, f.dir.file("err.txt"));
  wait_for_text(c, "step 3 ");
  REQUIRE(::kill(c.pid, SIGINT) == 0);
  CHECK(wait_exit_code(c) == 130);
  const std::string err = slurp(f.dir.file("err.txt"));
  INFO(err);
  CHECK(err.find("interrupted after") != std::string::npos);
  CHECK(err.find("--resume") != std::string::npos);
  const io::Json rec = read_json(f.dir.file("m.nstw.json"));
  CHECK(rec.at("interrupted").as_bool());
  const double done = double(rec.at("steps").items().size());
  CHECK(done >= 3);
  const CliRun more = run_train({"train", "--resume", f.dir.file("m.nstw.ckpt"), "--steps",
                               std::to_string(int(done) + 2)});
  check_clean_exit(more);
  CHECK(read_json(f.dir.file("m.nstw.json")).at("steps").items().size() == size_t(done) + 2);
}

TEST_CASE("cli train: 1 and 2 threads give the same model bytes", "[cli][cli-train][threads]") {
  TrainFixture f;
  NST_REQUIRE_TRAIN_WEIGHTS(f);
  check_clean_exit(run_train(f.args("t1.nstw", {"--steps", "4", "--threads", "1"})));
  check_clean_exit(run_train(f.args("t2.nstw", {"--steps", "4", "--threads", "2"})));
  CHECK(read_bytes(f.dir.file("t1.nstw")) == read_bytes(f.dir.file("t2.nstw")));
}

TEST_CASE("cli train: several paintings make one multi-style network, with samples, record and resume "
          "per style", "[cli][cli-train][multistyle]") {
  TrainFixture f;
  NST_REQUIRE_TRAIN_WEIGHTS(f);
  std::filesystem::create_directories(f.dir.file("other"));
  save_image(f.dir.file("other/style.png"), stripes(48, 64, 3));  // same file name, another folder
  const std::vector<std::string> two{"--style", f.dir.file("other/style.png")};
  auto args = [&](const std::string& out, std::vector<std::string> more) {
    std::vector<std::string> a = f.args(out, std::move(more));
    a.insert(a.end(), two.begin(), two.end());  // a second --style after the fixture's
    return a;
  };
  check_clean_exit(run_train(args("ab.nstw", {"--steps", "6", "--sample-every", "3", "--sample",
                                              f.dir.file("photos/p0.png")})));
  const std::set<std::string> files = list_dir(f.dir.file(""));
  for (const char* want : {"ab.sample-000003-s0.png", "ab.sample-000003-s1.png",
                           "ab.sample-000006-s0.png", "ab.sample-000006-s1.png"})
    CHECK(files.count(want));
  const Transformer net = Transformer::load(f.dir.file("ab.nstw"));
  CHECK(net.style_names() == std::vector<std::string>{"style", "style_2"});
  const io::Json rec = read_json(f.dir.file("ab.nstw.json"));
  REQUIRE(rec.at("styles").items().size() == 2);
  const io::Json& last = rec.at("steps").items().back();
  REQUIRE(last.at("style_by_painting").items().size() == 2);
  for (const io::Json& v : last.at("style_by_painting").items()) CHECK(v.as_number() > 0);
  // The two styles paint differently, and --style-index picks them.
  const CliRun list = run_train({"fast", "--model", f.dir.file("ab.nstw"), "--list"});
  CHECK(list.out == "0\tstyle\n1\tstyle_2\n");
  for (const char* k : {"0", "1"})
    check_clean_exit(run_train({"fast", "--model", f.dir.file("ab.nstw"), "--input",
                                f.dir.file("photos/p1.png"), "--style-index", k, "--output",
                                f.dir.file(std::string("p") + k + ".png")}));
  CHECK(read_bytes(f.dir.file("p0.png")) != read_bytes(f.dir.file("p1.png")));
  // 3 + 3 resumed = 6, bit for bit, per-painting records kept across the checkpoint.
  check_clean_exit(run_train(args("half.nstw", {"--steps", "3"})));
  check_clean_exit(run_train({"train", "--resume", f.dir.file("half.nstw.ckpt"), "--steps", "6",
                              "--output", f.dir.file("resumed.nstw")}));
  CHECK(read_bytes(f.dir.file("resumed.nstw")) == read_bytes(f.dir.file("ab.nstw")));
  const io::Json resumed = read_json(f.dir.file("resumed.nstw.json"));
  REQUIRE(resumed.at("steps").items().size() == 6);
  CHECK(resumed.at("steps").items()[0].at("style_by_painting").items().size() == 2);

  // --extend: a third style on the trained network; only its norm rows move.
  save_image(f.dir.file("third.png"), stripes(64, 48, 5));
  check_clean_exit(run_train({"train", "--extend", f.dir.file("ab.nstw"), "--style",
                              f.dir.file("third.png"), "--images", f.dir.file("photos"), "--output",
                              f.dir.file("abc.nstw"), "--size", "16", "--batch", "2", "--steps", "3",
                              "--weights", f.weights, "--threads", "1", "--sample-every", "0",
                              "--style-size", "64", "--lr", "0.01"}));
  const Transformer abc = Transformer::load(f.dir.file("abc.nstw"));
  CHECK(abc.style_names() == std::vector<std::string>{"style", "style_2", "third"});
  for (const auto& [name, t] : abc.params()) {
    INFO(name);
    const Tensor& old = net.params().at(name);
    if (name.find(".norm.") == std::string::npos) {
      CHECK(bit_identical(t, old));
    } else {
      REQUIRE(t.dim(0) == 3);
      CHECK(std::equal(old.data(), old.data() + old.numel(), t.data()));  // rows 0 and 1
    }
  }
  check_error_exit(run_train({"train", "--extend", f.dir.file("ab.nstw"), "--style",
                              f.dir.file("third.png"), "--images", f.dir.file("photos"), "--output",
                              f.dir.file("x.nstw"), "--width", "8"}),
                   "--width comes from the network given to --extend");
  check_error_exit(run_train({"train", "--extend", f.dir.file("missing.nstw"), "--style",
                              f.dir.file("third.png"), "--images", f.dir.file("photos"), "--output",
                              f.dir.file("x.nstw"), "--weights", f.weights}),
                   "missing.nstw");
  CHECK_FALSE(std::filesystem::exists(f.dir.file("x.nstw")));
}
