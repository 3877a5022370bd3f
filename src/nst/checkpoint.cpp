#include "nst/checkpoint.hpp"

#include <cstring>

#include "io/atomic_write.hpp"
#include "io/file_util.hpp"
#include "optim/state_io.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace {

// Version 2: the checksum is FNV-1a 64 with its standard offset basis (version
// 1 used a mistyped one). Version 3 adds the input files' checksums.
constexpr char kMagic[8] = {'N', 'S', 'T', 'C', 'K', 'P', 'T', '3'};
constexpr char kMagicV2[8] = {'N', 'S', 'T', 'C', 'K', 'P', 'T', '2'};
constexpr char kMagicV1[8] = {'N', 'S', 'T', 'C', 'K', 'P', 'T', '1'};

uint64_t fnv1a(const char* p, size_t n) { return fnv1a_update(kFnvOffset, p, n); }

class Writer {
 public:
  template <class T>
  void pod(const T& v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    pod(uint64_t(s.size()));
    out += s;
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    pod(uint64_t(v.size()));
    out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string out;
};

class Reader {
 public:
  Reader(const std::string& bytes, const std::string& path) : b(bytes), file(path) {}
  template <class T>
  T pod() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b.data() + pos, sizeof v);
    pos += sizeof v;
    return v;
  }
  std::string str() {
    const uint64_t n = pod<uint64_t>();
    need(n);
    std::string s = b.substr(pos, size_t(n));
    pos += size_t(n);
    return s;
  }
  template <class T>
  std::vector<T> vec() {
    const uint64_t n = pod<uint64_t>();
    NST_CHECK(n <= (b.size() - pos) / sizeof(T), "checkpoint '", file, "': truncated or corrupt");
    std::vector<T> v(static_cast<size_t>(n));
    if (n > 0) std::memcpy(v.data(), b.data() + pos, size_t(n) * sizeof(T));  // data() may be null
    pos += size_t(n) * sizeof(T);
    return v;
  }
  void need(uint64_t n) const {
    NST_CHECK(n <= b.size() - pos, "checkpoint '", file, "': truncated or corrupt");
  }
  const std::string& b;
  std::string file;
  size_t pos = 0;
};

}  // namespace

void save_checkpoint(const std::string& path, const Checkpoint& c) {
  Writer w;
  w.out.append(kMagic, 8);
  w.pod(uint64_t(c.args.size()));
  for (const std::string& a : c.args) w.str(a);
  w.pod(uint64_t(c.inputs.size()));
  for (const InputFile& f : c.inputs) {
    w.str(f.path);
    w.pod(f.fnv1a64);
  }
  const RunState& s = c.state;
  w.pod(uint64_t(s.scale));
  w.pod(s.iteration);
  w.pod(s.done);
  w.pod(uint64_t(s.scales.size()));
  for (const ScaleRecord& r : s.scales) {
    w.pod(r.height);
    w.pod(r.width);
    w.pod(r.iterations);
    w.pod(r.evaluations);
    w.pod(r.seconds);
    w.str(r.stop_reason);
    w.vec(r.loss_trace);
  }
  w.pod(uint64_t(s.x.rank()));
  for (int64_t d : s.x.shape()) w.pod(d);
  w.out.append(reinterpret_cast<const char*>(s.x.data()), size_t(s.x.numel()) * sizeof(float));
  w.str(s.optimizer_state);
  // --average's running image (rank 0 when off) and its iteration count.
  w.pod(uint64_t(s.average.defined() ? s.average.rank() : 0));
  if (s.average.defined()) {
    for (int64_t d : s.average.shape()) w.pod(d);
    w.out.append(reinterpret_cast<const char*>(s.average.data()), size_t(s.average.numel()) * sizeof(float));
  }
  w.pod(s.average_steps);
  w.pod(fnv1a(w.out.data(), w.out.size()));
  write_file_atomically(path, w.out);
}

Checkpoint load_checkpoint(const std::string& path) {
  const std::string bytes = read_file(path, "checkpoint");
  NST_CHECK(bytes.size() < 8 || std::memcmp(bytes.data(), kMagicV1, 8) != 0, "checkpoint '", path,
            "': written by an older nst (format 1); restart the run");
  const bool v2 = bytes.size() >= 8 && std::memcmp(bytes.data(), kMagicV2, 8) == 0;
  NST_CHECK(bytes.size() >= 16 && (v2 || std::memcmp(bytes.data(), kMagic, 8) == 0), "checkpoint '", path,
            "': not an nst checkpoint (bad magic)");
  uint64_t stored = 0;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  NST_CHECK(stored == fnv1a(bytes.data(), bytes.size() - 8), "checkpoint '", path,
            "': checksum mismatch (truncated or corrupted)");
  Reader r(bytes, path);
  r.pos = 8;
  Checkpoint c;
  const uint64_t nargs = r.pod<uint64_t>();
  NST_CHECK(nargs < 10000, "checkpoint '", path, "': corrupt argument list");
  for (uint64_t i = 0; i < nargs; ++i) c.args.push_back(r.str());
  if (!v2) {
    const uint64_t ninputs = r.pod<uint64_t>();
    NST_CHECK(ninputs < 10000, "checkpoint '", path, "': corrupt input list");
    for (uint64_t i = 0; i < ninputs; ++i) {
      InputFile f;
      f.path = r.str();
      f.fnv1a64 = r.pod<uint64_t>();
      c.inputs.push_back(f);
    }
  }
  RunState& s = c.state;
  s.scale = size_t(r.pod<uint64_t>());
  s.iteration = r.pod<int64_t>();
  s.done = r.pod<int64_t>();
  NST_CHECK(s.scale < 1000 && s.iteration >= 0 && s.done >= s.iteration, "checkpoint '", path,
            "': corrupt position (scale ", s.scale, ", iteration ", s.iteration, ", done ", s.done,
            ")");
  const uint64_t nscales = r.pod<uint64_t>();
  NST_CHECK(nscales < 1000, "checkpoint '", path, "': corrupt scale list");
  for (uint64_t i = 0; i < nscales; ++i) {
    ScaleRecord rec;
    rec.height = r.pod<int64_t>();
    rec.width = r.pod<int64_t>();
    rec.iterations = r.pod<int64_t>();
    rec.evaluations = r.pod<int64_t>();
    rec.seconds = r.pod<double>();
    rec.stop_reason = r.str();
    rec.loss_trace = r.vec<double>();
    s.scales.push_back(rec);
  }
  const uint64_t rank = r.pod<uint64_t>();
  NST_CHECK(rank == 4, "checkpoint '", path, "': the image is not [1, 3, H, W]");
  Shape shape;
  for (uint64_t i = 0; i < rank; ++i) {
    const int64_t d = r.pod<int64_t>();
    NST_CHECK(d >= 1 && d <= 65536, "checkpoint '", path, "': bad image size");
    shape.push_back(d);
  }
  r.need(uint64_t(shape.numel()) * sizeof(float));
  s.x = Tensor::empty(shape);
  std::memcpy(s.x.data(), bytes.data() + r.pos, size_t(shape.numel()) * sizeof(float));
  r.pos += size_t(shape.numel()) * sizeof(float);
  s.optimizer_state = r.str();
  if (!v2) {
    const uint64_t arank = r.pod<uint64_t>();
    NST_CHECK(arank == 0 || arank == 4, "checkpoint '", path, "': corrupt average image");
    if (arank == 4) {
      Shape ashape;
      for (int i = 0; i < 4; ++i) ashape.push_back(r.pod<int64_t>());
      NST_CHECK(ashape == shape, "checkpoint '", path, "': the average image is not the image's size");
      r.need(uint64_t(ashape.numel()) * sizeof(float));
      s.average = Tensor::empty(ashape);
      std::memcpy(s.average.data(), bytes.data() + r.pos, size_t(ashape.numel()) * sizeof(float));
      r.pos += size_t(ashape.numel()) * sizeof(float);
    }
    s.average_steps = r.pod<int64_t>();
  }
  NST_CHECK(r.pos + 8 == bytes.size(), "checkpoint '", path,
            "': unexpected bytes after the fields");
  return c;
}

std::vector<InputFile> checksum_inputs(const std::vector<std::string>& paths) {
  std::vector<InputFile> out;
  for (const std::string& p : paths) {
    const std::string bytes = read_file(p, "input");
    out.push_back({p, fnv1a(bytes.data(), bytes.size())});
  }
  return out;
}

void check_inputs_unchanged(const Checkpoint& ckpt, const std::vector<InputFile>& now,
                            const std::string& checkpoint_path) {
  for (const InputFile& f : ckpt.inputs) {
    bool same = false;
    for (const InputFile& g : now) same = same || (g.path == f.path && g.fnv1a64 == f.fnv1a64);
    NST_CHECK(same, "resume: '", f.path, "' has changed since the checkpoint '", checkpoint_path,
              "' was written: continuing would mix two runs (restore the file, or start the run again)");
  }
}

}  // namespace nst
