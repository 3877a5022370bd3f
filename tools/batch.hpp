// Batches of photos for `nst fast` and `nst stylize` (docs/batch.md): the
// inputs (files and folders), one machine's share of them (--shard I/N), what
// counts as already done (--skip-existing), and the manifest every process
// appends a line per photo to (--manifest).
//
//   nst fast --model M.nstw --input photos/ --output-dir out/ --shard 2/8 --skip-existing
//            --manifest out/manifest.jsonl
//
// The flags and the split are inline here: nst_cli (options.cpp, which the
// tests link too) reads them; the rest is in batch.cpp, part of the nst program.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <string>
#include <vector>

#include "tensor/check.hpp"
#include "tools/args.hpp"

namespace nst::cli {

// Shard `index` of `count`, 0 <= index < count <= kMaxShards.
struct Shard {
  int64_t index = 0, count = 1;
  std::string str() const { return std::to_string(index) + "/" + std::to_string(count); }
};
inline constexpr int64_t kMaxShards = 10000;

// "I/N" -> {I, N}; nst::Error naming --shard and the rule otherwise.
inline Shard parse_shard(const std::string& text, const std::string& prog) {
  const auto whole = [](const std::string& s, int64_t& v) {
    if (s.empty() || s.size() > 6 || s.find_first_not_of("0123456789") != std::string::npos)
      return false;
    v = std::strtoll(s.c_str(), nullptr, 10);
    return true;
  };
  const size_t slash = text.find('/');
  Shard s;
  const bool parsed = slash != std::string::npos && whole(text.substr(0, slash), s.index) &&
                      whole(text.substr(slash + 1), s.count);
  NST_CHECK(parsed && s.count >= 1 && s.count <= kMaxShards && s.index < s.count, prog,
            ": --shard '", text, "': expected I/N with 0 <= I < N <= ", kMaxShards,
            " (shards count from 0: 0/3, 1/3, 2/3)");
  return s;
}

// The positions in `inputs` of shard s's photos: the inputs sorted by path,
// then every count-th one from the index-th (round robin, so a folder sorted
// by size or date is spread evenly). Every input is in exactly one shard for
// any count, whatever order the inputs were given in.
inline std::vector<size_t> shard_positions(const std::vector<std::string>& inputs, const Shard& s) {
  std::vector<size_t> order(inputs.size());
  std::iota(order.begin(), order.end(), size_t(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return inputs[a] < inputs[b]; });
  std::vector<size_t> mine;
  for (size_t k = size_t(s.index); k < order.size(); k += size_t(s.count)) mine.push_back(order[k]);
  return mine;
}

// The batch flags of either command, as given.
struct BatchFlags {
  std::vector<std::string> inputs;  // every --input / --content: files and folders
  std::string output_dir;           // "" = not a batch
  std::string format = "png";
  bool sharded = false;  // --shard given (else every input, in the order given)
  Shard shard;
  bool skip_existing = false;
  std::string manifest;  // "" = none
};

// Reads the inputs (option `input_option`), --output-dir, --format, --shard,
// --skip-existing and --manifest (the command declares them). Without
// --output-dir the last three are refused (--format is ignored, as it always
// was by nst fast).
inline BatchFlags read_batch_flags(const Args& a, const std::string& prog,
                                   const std::string& input_option) {
  BatchFlags f;
  f.inputs = a.get_all(input_option);
  f.output_dir = a.has("output-dir") ? a.get("output-dir") : "";
  NST_CHECK(!a.has("output-dir") || !f.output_dir.empty(), prog,
            ": --output-dir needs a folder name");
  for (const char* name : {"shard", "skip-existing", "manifest"})
    NST_CHECK(!a.has(name) || !f.output_dir.empty(), prog, ": --", name,
              " is for a batch: give --output-dir DIR too");
  f.format = a.get("format");
  NST_CHECK(f.format == "png" || f.format == "jpg", prog, ": --format must be png or jpg, got '",
            f.format, "'");
  f.sharded = a.has("shard");
  if (f.sharded) f.shard = parse_shard(a.get("shard"), prog);
  f.skip_existing = a.flag("skip-existing");
  f.manifest = a.has("manifest") ? a.get("manifest") : "";
  NST_CHECK(!a.has("manifest") || !f.manifest.empty(), prog, ": --manifest needs a file name");
  return f;
}

// ---- in batch.cpp (the nst program) -----------------------------------------

// Each given path: a file, or a folder whose image files (by extension, not
// recursive) are taken in name order. prog starts the error messages.
std::vector<std::string> collect_inputs(const std::vector<std::string>& given,
                                        const std::string& prog);

// DIR/<input's stem>.<format> for every input, after making DIR; refuses two
// inputs with one output name and an output that is its input.
std::vector<std::string> batch_outputs(const std::vector<std::string>& inputs,
                                       const BatchFlags& flags, const std::string& prog);

// The entries of `items` at `positions`, in that order.
std::vector<std::string> pick(const std::vector<std::string>& items,
                              const std::vector<size_t>& positions);

// `args` without the options named in `drop` (any of the spellings "--x V" and
// "--x=V"; has_value false: a flag, which takes no value).
struct Spelling {
  std::string name;
  bool has_value = true;
};
std::vector<std::string> without_options(const std::vector<std::string>& args,
                                         const std::vector<Spelling>& drop);

// --skip-existing for `nst stylize`: the picture `output` is done when its run
// record says the run finished (not interrupted, not diverged) and the record's
// output_fnv1a64 is the checksum of the picture on disk. `why` says what is
// missing otherwise; width and height are the picture's when done.
struct StylizeDone {
  bool done = false;
  std::string why;
  int64_t width = -1, height = -1;
};
StylizeDone stylize_output_done(const std::string& output, const std::string& record);

// One line of the manifest. width/height < 0: unknown (written as null).
struct ManifestEntry {
  std::string input, output, status;  // status: ok | failed | skipped
  int64_t width = -1, height = -1;
  double seconds = 0;
  std::string error;  // written only when not empty
};

// The manifest, a JSON Lines file that several processes (shards) may append
// to at once: each line is one write() on an O_APPEND descriptor, then fsync'd.
// A line a crash cut short stays the last bytes of the file; the next append
// starts on a new line, so it never runs into a good one (readers skip lines
// that do not parse).
class Manifest {
 public:
  Manifest() = default;  // no manifest: append does nothing
  // Opens (creating) `path` for appending: nst::Error naming it when it cannot.
  Manifest(const std::string& path, const Shard& shard, std::string prog);
  ~Manifest();
  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;

  // Appends the entry's line; false, after saying why on stderr, when it could
  // not be written whole.
  bool append(const ManifestEntry& e);
  // Appends the entries' lines with one write() and one fsync (the photos a
  // rerun skips: hundreds of lines, one sync).
  bool append(const std::vector<ManifestEntry>& entries);
  // The line append writes (no newline).
  std::string line(const ManifestEntry& e) const;

 private:
  int fd_ = -1;
  std::string path_, shard_, prog_;
};

}  // namespace nst::cli
