// .nstw reader: mmap + validation of every field (layout: weights/FORMAT.md).
#include "io/weights.hpp"

#include <fcntl.h>
#include <sys/mman.h>

#include <algorithm>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <map>

#include "io/checksum.hpp"
#include "io/weights_layout.hpp"
#include "tensor/check.hpp"

namespace nst::io {

using namespace nstw;

struct WeightFile::Impl {
  std::string path;
  const uint8_t* base = nullptr;
  uint64_t size = 0;
  WeightMetadata meta;
  std::vector<TensorInfo> tensors;
  std::map<std::string, size_t> by_name;

  ~Impl() {
    if (base) ::munmap(const_cast<uint8_t*>(base), size);
  }
  template <class... Args>
  [[noreturn]] void bad(const Args&... args) const {
    fail("weights '", path, "': ", args...);
  }
};

namespace {

// Bounds-checked reader over the index bytes.
class Cursor {
 public:
  Cursor(const WeightFile::Impl& f, const uint8_t* p, uint64_t n) : f_(f), p_(p), n_(n) {}
  template <class T>
  T get(const char* what) {
    need(sizeof(T), what);
    T v = load<T>(p_ + pos_);
    pos_ += sizeof(T);
    return v;
  }
  std::string text(const char* what, uint32_t max_len) {
    const uint32_t len = get<uint32_t>(what);
    if (len > max_len) f_.bad("index: ", what, " length ", len, " exceeds ", max_len);
    need(len, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), len);
    pos_ += len;
    return s;
  }
  uint64_t remaining() const { return n_ - pos_; }

 private:
  void need(uint64_t k, const char* what) {
    if (k > n_ - pos_) f_.bad("index truncated while reading ", what);
  }
  const WeightFile::Impl& f_;
  const uint8_t* p_;
  uint64_t n_, pos_ = 0;
};

void parse_header(WeightFile::Impl& f, uint32_t& version, uint32_t& count, uint64_t& index_size,
                  uint64_t& data_offset, uint64_t& index_checksum) {
  if (f.size < kHeaderSize)
    f.bad("file is ", f.size, " bytes, shorter than the ", kHeaderSize,
          "-byte header (truncated or not a weight file)");
  const uint8_t* h = f.base;
  if (std::memcmp(h, kMagic, 8) != 0) f.bad("bad magic: not an nst weight file (.nstw)");
  version = load<uint32_t>(h + kOffVersion);
  if (version != kVersion && version != kVersionNetwork)
    f.bad("unsupported format version ", version, " (this build reads versions ", kVersion,
          " and ", kVersionNetwork, ")");
  if (load<uint64_t>(h + kOffHeaderChecksum) != fnv1a64(h, kOffHeaderChecksum))
    f.bad("header checksum mismatch (header corrupted)");
  count = load<uint32_t>(h + kOffCount);
  const uint64_t file_size = load<uint64_t>(h + kOffFileSize);
  const uint64_t index_offset = load<uint64_t>(h + kOffIndexOffset);
  index_size = load<uint64_t>(h + kOffIndexSize);
  data_offset = load<uint64_t>(h + kOffDataOffset);
  index_checksum = load<uint64_t>(h + kOffIndexChecksum);
  if (file_size != f.size)
    f.bad("header says ", file_size, " bytes but the file has ", f.size,
          file_size > f.size ? " (truncated)" : " (trailing bytes)");
  if (count > kMaxTensors) f.bad("header: tensor count ", count, " exceeds ", kMaxTensors);
  if (index_offset != kHeaderSize) f.bad("header: index offset ", index_offset, " is not 64");
  if (index_size > f.size - kHeaderSize) f.bad("header: index size ", index_size, " out of file");
  if (data_offset % kAlign != 0 || data_offset < kHeaderSize + index_size || data_offset > f.size)
    f.bad("header: data offset ", data_offset, " invalid");
}

void parse_metadata(WeightFile::Impl& f, Cursor& c, uint32_t version) {
  InputConvention& in = f.meta.input;
  const uint8_t order = c.get<uint8_t>("channel order");
  if (order > 1) f.bad("metadata: channel order ", int(order), " is neither 0 (RGB) nor 1 (BGR)");
  in.order = ChannelOrder(order);
  for (int i = 0; i < 3; ++i) c.get<uint8_t>("reserved");
  in.pixel_range = c.get<float>("pixel range");
  if (in.pixel_range != 1.0f && in.pixel_range != 255.0f)
    f.bad("metadata: pixel range ", in.pixel_range, " is neither 1 nor 255");
  for (float& m : in.mean) m = c.get<float>("mean");
  for (float& s : in.std) s = c.get<float>("std");
  for (int i = 0; i < 3; ++i)
    if (!std::isfinite(in.mean[i]) || !(in.std[i] > 0.0f) || !std::isfinite(in.std[i]))
      f.bad("metadata: mean must be finite and std finite and positive");
  f.meta.source = c.text("source", kMaxText);
  f.meta.source_checksum = c.text("source checksum", kMaxText);
  if (version == kVersionNetwork) {
    f.meta.network = c.text("network description", kMaxNetwork);
    if (f.meta.network.empty()) f.bad("metadata: version 2 file with an empty network description");
  }
}

TensorInfo parse_record(WeightFile::Impl& f, Cursor& c, uint64_t data_start) {
  TensorInfo t;
  t.name = c.text("tensor name", kMaxName);
  if (t.name.empty()) f.bad("index: empty tensor name");
  for (char ch : t.name)
    if (ch <= 0x20 || ch >= 0x7F) f.bad("index: tensor name is not printable ASCII");
  auto bad = [&](const auto&... args) { f.bad("tensor ", t.name, ": ", args...); };
  const uint8_t dtype = c.get<uint8_t>("dtype");
  const uint8_t rank = c.get<uint8_t>("rank");
  c.get<uint16_t>("reserved");
  if (dtype > 1) bad("unknown dtype code ", int(dtype));
  t.dtype = DType(dtype);
  if (rank < 1 || rank > kMaxRank) bad("rank ", int(rank), " is not 1 to ", kMaxRank);
  uint64_t numel = 1;
  for (int i = 0; i < rank; ++i) {
    const uint64_t d = c.get<uint64_t>("dims");
    if (d < 1 || d > kMaxNumel) bad("dimension ", d, " out of range");
    numel *= d;
    if (numel > kMaxNumel) bad("absurd element count (more than 2^40)");
    t.shape.push_back(int64_t(d));
  }
  t.scale = c.get<double>("scale");
  t.min = c.get<double>("min");
  t.offset = c.get<uint64_t>("offset");
  t.size = c.get<uint64_t>("size");
  t.checksum = c.get<uint64_t>("checksum");
  if (t.dtype == DType::Float32 && (t.scale != 1.0 || t.min != 0.0))
    bad("float32 tensor with scale/min other than 1/0");
  if (!std::isfinite(t.scale) || t.scale < 0.0 || !std::isfinite(t.min))
    bad("scale/min not finite");
  if (t.size != numel * uint64_t(dtype_size(t.dtype)))
    bad("size ", t.size, " bytes does not match shape ", t.shape.to_string(), " of ",
        dtype_name(t.dtype));
  if (t.offset % kAlign != 0) bad("offset ", t.offset, " is not 64-byte aligned");
  if (t.offset < data_start || t.offset > f.size || t.size > f.size - t.offset)
    bad("data [", t.offset, ", +", t.size, ") lies outside the data area of the ", f.size,
        "-byte file (truncated or corrupted index)");
  return t;
}

}  // namespace

WeightFile::WeightFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WeightFile::WeightFile(WeightFile&&) noexcept = default;
WeightFile& WeightFile::operator=(WeightFile&&) noexcept = default;
WeightFile::~WeightFile() = default;

WeightFile WeightFile::open(const std::string& path) {
  auto f = std::make_unique<Impl>();
  f->path = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) f->bad("cannot open: ", std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    f->bad("not a regular file");
  }
  f->size = uint64_t(st.st_size);
  if (f->size > 0) {
    void* p = ::mmap(nullptr, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) f->bad("mmap failed: ", std::strerror(errno));
    f->base = static_cast<const uint8_t*>(p);
  } else {
    ::close(fd);
  }

  uint32_t version = 0, count = 0;
  uint64_t index_size = 0, data_offset = 0, index_checksum = 0;
  parse_header(*f, version, count, index_size, data_offset, index_checksum);
  const uint8_t* index = f->base + kHeaderSize;
  if (fnv1a64(index, index_size) != index_checksum)
    f->bad("index checksum mismatch (tensor table corrupted)");
  Cursor c(*f, index, index_size);
  parse_metadata(*f, c, version);
  uint64_t end = data_offset;
  for (uint32_t i = 0; i < count; ++i) {
    TensorInfo t = parse_record(*f, c, end);  // tensors in file order, no overlap
    if (!f->by_name.emplace(t.name, f->tensors.size()).second)
      f->bad("tensor ", t.name, ": appears twice");
    end = t.offset + t.size;
    f->tensors.push_back(std::move(t));
  }
  if (c.remaining() != 0) f->bad("index has ", c.remaining(), " unexpected trailing bytes");
  // Padding must be zero, so that every byte of the file is checked.
  uint64_t pad_start = kHeaderSize + index_size;
  auto check_padding = [&](uint64_t pad_end) {
    for (uint64_t k = pad_start; k < pad_end; ++k)
      if (f->base[k] != 0) f->bad("non-zero padding at byte ", k, " (corrupted)");
  };
  for (const TensorInfo& t : f->tensors) {
    check_padding(t.offset);
    pad_start = t.offset + t.size;
  }
  check_padding(f->size);
  // The pages leave the resident set as they are checksummed, 4 MB at a time
  // (they stay in the page cache; tensor() reads them back): checking a 144 MB
  // file costs 4 MB of RSS, not the whole file on top of the floats.
  const uint64_t page = uint64_t(::sysconf(_SC_PAGESIZE)), piece = uint64_t(4) << 20;
  for (const TensorInfo& t : f->tensors) {
    uint64_t h = kFnv1a64Basis;
    for (uint64_t at = t.offset; at < t.offset + t.size; at += piece) {
      const uint64_t stop = std::min(t.offset + t.size, at + piece);
      h = fnv1a64(f->base + at, stop - at, h);
      const uint64_t first = (at + page - 1) / page * page, last = stop / page * page;
      if (last > first) ::madvise(const_cast<uint8_t*>(f->base) + first, last - first, MADV_DONTNEED);
    }
    if (h != t.checksum) f->bad("tensor ", t.name, ": checksum mismatch (data corrupted)");
  }
  return WeightFile(std::move(f));
}

const std::string& WeightFile::path() const { return impl_->path; }
const WeightMetadata& WeightFile::metadata() const { return impl_->meta; }

std::vector<std::string> WeightFile::names() const {
  std::vector<std::string> out;
  for (const TensorInfo& t : impl_->tensors) out.push_back(t.name);
  return out;
}

bool WeightFile::contains(const std::string& name) const { return impl_->by_name.count(name); }

const TensorInfo& WeightFile::info(const std::string& name) const {
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) impl_->bad("no tensor named '", name, "'");
  return impl_->tensors[it->second];
}

const uint8_t* WeightFile::raw(const std::string& name) const {
  return impl_->base + info(name).offset;
}

Tensor WeightFile::tensor(const std::string& name) const {
  const TensorInfo& t = info(name);
  Tensor out = Tensor::empty(t.shape);
  const uint8_t* p = impl_->base + t.offset;
  if (t.dtype == DType::Float32) {
    std::memcpy(out.data(), p, t.size);
  } else {
    for (int64_t i = 0; i < out.numel(); ++i) out[i] = float(double(p[i]) * t.scale + t.min);
  }
  return out;
}

}  // namespace nst::io
