#include "tools/batch.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <utility>

#include "io/atomic_write.hpp"
#include "io/checksum.hpp"
#include "io/file_util.hpp"
#include "io/json.hpp"
#include "io/json_writer.hpp"

namespace fs = std::filesystem;

namespace nst::cli {

namespace {

bool is_image_name(const fs::path& p) {
  static const std::set<std::string> known = {"jpg", "jpeg", "png", "bmp", "tga",
                                              "gif", "pnm",  "ppm", "pgm"};
  return known.count(file_extension(p.string())) > 0;
}

}  // namespace

std::vector<std::string> collect_inputs(const std::vector<std::string>& given,
                                        const std::string& prog) {
  std::vector<std::string> out;
  for (const std::string& g : given) {
    std::error_code ec;
    if (!fs::is_directory(g, ec)) {
      out.push_back(g);  // a missing file is reported when its turn comes
      continue;
    }
    std::vector<std::string> found;
    for (const fs::directory_entry& e : fs::directory_iterator(g, ec))
      if (e.is_regular_file(ec) && is_image_name(e.path())) found.push_back(e.path().string());
    NST_CHECK(!ec, prog, ": cannot list the folder '", g, "': ", ec.message());
    NST_CHECK(!found.empty(), prog, ": the folder '", g, "' holds no image files (",
              "jpg, jpeg, png, bmp, tga, gif, pnm, ppm, pgm)");
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

std::vector<std::string> batch_outputs(const std::vector<std::string>& inputs,
                                       const BatchFlags& flags, const std::string& prog) {
  const fs::path dir = flags.output_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  NST_CHECK(fs::is_directory(dir), prog, ": cannot make the output folder '", dir.string(), "'",
            ec ? ": " + ec.message() : std::string());
  std::map<std::string, std::string> taken;
  std::vector<std::string> outputs;
  for (const std::string& in : inputs) {
    const std::string out = (dir / (fs::path(in).stem().string() + "." + flags.format)).string();
    const auto [it, fresh] = taken.emplace(out, in);
    NST_CHECK(fresh, prog, ": '", it->second, "' and '", in, "' would both be written to '", out,
              "' (rename one, or run them separately)");
    NST_CHECK(!same_file(in, out), prog, ": the output '", out,
              "' is the input photo itself; choose another name");
    outputs.push_back(out);
  }
  return outputs;
}

std::vector<std::string> pick(const std::vector<std::string>& items,
                              const std::vector<size_t>& positions) {
  std::vector<std::string> out;
  for (size_t p : positions) out.push_back(items.at(p));
  return out;
}

std::vector<std::string> without_options(const std::vector<std::string>& args,
                                         const std::vector<Spelling>& drop) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const size_t eq = args[i].find('=');
    const std::string name = args[i].substr(0, eq);
    const Spelling* hit = nullptr;
    for (const Spelling& d : drop)
      if (d.name == name) hit = &d;
    if (!hit) {
      out.push_back(args[i]);
      continue;
    }
    if (hit->has_value && eq == std::string::npos) ++i;  // its value is the next argument
  }
  return out;
}

StylizeDone stylize_output_done(const std::string& output, const std::string& record) {
  StylizeDone d;
  std::error_code ec;
  if (!fs::exists(output, ec)) return {false, "no picture yet", -1, -1};
  if (!fs::exists(record, ec)) return {false, "no run record " + record, -1, -1};
  try {
    const io::Json r = io::parse_json(read_file(record, "run record"), record);
    const io::Json& result = r.at("result");
    if (result.at("interrupted").as_bool()) return {false, "the run was interrupted", -1, -1};
    if (result.at("diverged").as_bool()) return {false, "the run diverged", -1, -1};
    const std::string bytes = read_file(output, "picture");
    char sum[17];
    std::snprintf(sum, sizeof sum, "%016llx",
                  (unsigned long long)io::fnv1a64(bytes.data(), bytes.size()));
    if (r.at("output_fnv1a64").as_string() != sum)
      return {false, "the picture is not the one its record describes", -1, -1};
    const std::vector<io::Json>& scales = result.at("scales").items();
    if (!scales.empty()) {
      d.width = scales.back().at("width").as_int();
      d.height = scales.back().at("height").as_int();
    }
  } catch (const Error& e) {
    return {false, std::string("unreadable run record: ") + e.what(), -1, -1};
  }
  d.done = true;
  return d;
}

Manifest::Manifest(const std::string& path, const Shard& shard, std::string prog)
    : path_(path), shard_(shard.str()), prog_(std::move(prog)) {
  // Read access too: append looks at the last byte (pread).
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  NST_CHECK(fd_ >= 0, prog_, ": --manifest '", path, "': cannot open for appending (",
            describe_errno(errno), ")");
  struct stat st {};
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    fail(prog_, ": --manifest '", path, "' is not a regular file");
  }
}

Manifest::~Manifest() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Manifest::line(const ManifestEntry& e) const {
  JsonWriter j;
  j.begin_object().key("input").value(e.input).key("output").value(e.output).key("status").value(
      e.status);
  for (const auto& [key, v] : {std::pair{"width", e.width}, std::pair{"height", e.height}}) {
    j.key(key);
    if (v >= 0)
      j.value(v);
    else
      j.null();
  }
  j.key("seconds").value(e.seconds);
  if (!e.error.empty()) j.key("error").value(e.error);
  j.key("shard").value(shard_).end_object();
  return j.str();
}

bool Manifest::append(const ManifestEntry& e) { return append(std::vector<ManifestEntry>{e}); }

bool Manifest::append(const std::vector<ManifestEntry>& entries) {
  if (fd_ < 0 || entries.empty()) return true;
  std::string text;
  for (const ManifestEntry& e : entries) text += line(e) + "\n";
  // A last line without its newline was cut short by a crash: start a new one.
  struct stat st {};
  char last = '\n';
  if (::fstat(fd_, &st) == 0 && st.st_size > 0 && ::pread(fd_, &last, 1, st.st_size - 1) == 1 &&
      last != '\n')
    text.insert(text.begin(), '\n');
  // One write: O_APPEND places it after every other process's lines.
  const ssize_t n = ::write(fd_, text.data(), text.size());
  std::string why;
  if (n < 0)
    why = describe_errno(errno);
  else if (n != ssize_t(text.size()))
    why = "only " + std::to_string(n) + " of " + std::to_string(text.size()) + " bytes written";
  else if (::fsync(fd_) != 0)
    why = "fsync: " + describe_errno(errno);
  if (why.empty()) return true;
  std::fprintf(stderr, "%s: error: --manifest '%s': the line%s for '%s'%s not written (%s)\n",
               prog_.c_str(), path_.c_str(), entries.size() > 1 ? "s" : "",
               entries[0].input.c_str(), entries.size() > 1 ? " and the next ones were" : " was",
               why.c_str());
  return false;
}

}  // namespace nst::cli
