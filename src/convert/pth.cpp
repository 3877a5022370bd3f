#include "convert/pth.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>

#include "io/checksum.hpp"
#include "convert/pickle.hpp"
#include "models/vgg19_names.hpp"
#include "tensor/check.hpp"

namespace nst::io {

namespace {

using pickle::Object;
using pickle::Ref;

template <class T>
T le(const std::vector<uint8_t>& b, uint64_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}

// ---------------------------------------------------------------- zip (STORED entries)

struct ZipEntry {
  uint64_t offset = 0, size = 0;  // of the data
};

std::map<std::string, ZipEntry> read_zip(const std::vector<uint8_t>& f, const std::string& path) {
  auto bad = [&](const auto&... args) -> void { fail("pth '", path, "': zip: ", args...); };
  const uint64_t n = f.size();
  if (n < 22) bad("too short for a zip archive");
  uint64_t eocd = n - 22;
  const uint64_t stop = n > 22 + 65535 ? n - 22 - 65535 : 0;
  while (le<uint32_t>(f, eocd) != 0x06054b50) {
    if (eocd == stop) bad("no end-of-central-directory record (truncated?)");
    --eocd;
  }
  const uint64_t count = le<uint16_t>(f, eocd + 10);
  const uint64_t cd_size = le<uint32_t>(f, eocd + 12), cd_offset = le<uint32_t>(f, eocd + 16);
  if (count == 0xFFFF || cd_offset == 0xFFFFFFFF) bad("zip64 archives are not supported");
  if (cd_offset > eocd || cd_size > eocd - cd_offset) bad("central directory out of bounds");

  std::map<std::string, ZipEntry> entries;
  uint64_t p = cd_offset;
  for (uint64_t k = 0; k < count; ++k) {
    if (p + 46 > cd_offset + cd_size || le<uint32_t>(f, p) != 0x02014b50)
      bad("central directory entry ", k, " is corrupted");
    const uint16_t method = le<uint16_t>(f, p + 10);
    const uint32_t crc = le<uint32_t>(f, p + 16);
    const uint64_t csize = le<uint32_t>(f, p + 20), usize = le<uint32_t>(f, p + 24);
    const uint64_t name_len = le<uint16_t>(f, p + 28), extra_len = le<uint16_t>(f, p + 30),
                   comment_len = le<uint16_t>(f, p + 32), local = le<uint32_t>(f, p + 42);
    if (p + 46 + name_len > cd_offset + cd_size) bad("entry name out of bounds");
    const std::string name(reinterpret_cast<const char*>(f.data() + p + 46), name_len);
    p += 46 + name_len + extra_len + comment_len;
    if (method != 0)
      bad("entry '", name, "' is compressed (method ", method, "); only STORED is supported");
    if (csize != usize) bad("entry '", name, "' sizes disagree");
    if (local + 30 > n || le<uint32_t>(f, local) != 0x04034b50)
      bad("entry '", name, "': bad local header");
    const uint64_t data = local + 30 + le<uint16_t>(f, local + 26) + le<uint16_t>(f, local + 28);
    if (data > n || usize > n - data) bad("entry '", name, "' data out of bounds (truncated?)");
    if (crc32(f.data() + data, usize) != crc) bad("entry '", name, "': CRC-32 mismatch (corrupted)");
    entries[name] = {data, usize};
  }
  return entries;
}

// ---------------------------------------------------------------- storages and tensors

struct Storage {
  std::string type, key;
  int64_t numel = 0;
  const uint8_t* data = nullptr;
  uint64_t bytes = 0;
};

int storage_element_size(const std::string& type) {
  static const std::map<std::string, int> sizes = {
      {"torch.FloatStorage", 4}, {"torch.DoubleStorage", 8}, {"torch.HalfStorage", 2},
      {"torch.BFloat16Storage", 2}, {"torch.LongStorage", 8}, {"torch.IntStorage", 4},
      {"torch.ShortStorage", 2}, {"torch.CharStorage", 1}, {"torch.ByteStorage", 1},
      {"torch.BoolStorage", 1}};
  auto it = sizes.find(type);
  return it == sizes.end() ? 0 : it->second;
}

// pid = ('storage', <Global torch.XStorage>, key, location, numel[, view_metadata])
Ref storage_from_pid(const Ref& pid, const std::string& path) {
  const auto& a = pid->items;
  NST_CHECK(pid->kind == Object::Kind::Tuple && a.size() >= 5 && a[0]->kind == Object::Kind::Str &&
                a[0]->s == "storage" && a[1]->kind == Object::Kind::Global &&
                a[2]->kind == Object::Kind::Str && a[4]->kind == Object::Kind::Int,
            "pth '", path, "': unexpected persistent id (not a torch storage)");
  NST_CHECK(a.size() == 5 || a[5]->kind == Object::Kind::None, "pth '", path,
            "': storage views (legacy view_metadata) are not supported");
  NST_CHECK(storage_element_size(a[1]->s) > 0, "pth '", path, "': unknown storage type ", a[1]->s);
  NST_CHECK(a[4]->i >= 0 && a[4]->i <= (int64_t(1) << 36), "pth '", path, "': storage ", a[2]->s,
            " has absurd size ", a[4]->i);
  auto s = std::make_shared<Object>();
  s->kind = Object::Kind::Storage;
  s->s = a[1]->s;
  s->key = a[2]->s;
  s->numel = a[4]->i;
  return s;
}

// Gathers a (possibly strided) float32 tensor from its storage.
WeightEntry gather(const std::string& name, const Object& t, const Storage& st,
                   const std::string& path) {
  const std::string where = str("pth '", path, "': tensor ", name, ": ");
  NST_CHECK(st.type == "torch.FloatStorage", where, "dtype ", st.type,
            " is not supported (only float32 / FloatStorage)");
  NST_CHECK(!t.sizes.empty() && t.sizes.size() <= 5, where, "rank ", t.sizes.size(),
            " is not 1 to 5");
  NST_CHECK(st.bytes == uint64_t(st.numel) * 4, where, "storage ", st.key, " holds ", st.bytes,
            " bytes, expected ", st.numel * 4);
  Shape shape;
  int64_t last = t.offset;  // highest storage index touched
  NST_CHECK(t.offset >= 0, where, "negative storage offset");
  for (size_t k = 0; k < t.sizes.size(); ++k) {
    NST_CHECK(t.sizes[k] >= 1 && t.sizes[k] <= (int64_t(1) << 32) && t.strides[k] >= 0 &&
                  t.strides[k] <= (int64_t(1) << 36),
              where, "size or stride out of range");
    shape.push_back(t.sizes[k]);
    last += (t.sizes[k] - 1) * t.strides[k];
    // A view has at most as many elements as its storage (no stride-0 expansion).
    NST_CHECK(shape.numel() <= st.numel, where, "has more elements than storage ", st.key);
  }
  NST_CHECK(last < st.numel, where, "reads past the end of storage ", st.key);
  WeightEntry e{name, DType::Float32, shape, 1.0, 0.0, {}};
  e.bytes.resize(size_t(shape.numel()) * 4);
  const int rank = shape.rank();
  std::vector<int64_t> idx(size_t(rank), 0);
  for (int64_t i = 0; i < shape.numel(); ++i) {
    int64_t src = t.offset;
    for (int k = 0; k < rank; ++k) src += idx[size_t(k)] * t.strides[size_t(k)];
    std::memcpy(&e.bytes[size_t(i) * 4], st.data + src * 4, 4);
    for (int k = rank - 1; k >= 0 && ++idx[size_t(k)] == shape[k]; --k) idx[size_t(k)] = 0;
  }
  return e;
}

void collect(PthStateDict& out, const Ref& root, const std::map<std::string, Storage>& storages) {
  const std::string& path = out.source;
  NST_CHECK(root->kind == Object::Kind::Dict, "pth '", path, "': holds a ",
            pickle::kind_name(root->kind), ", not a state_dict (a dict of tensors)");
  for (const auto& [k, v] : root->entries) {
    NST_CHECK(k->kind == Object::Kind::Str, "pth '", path, "': a state_dict key is not a string");
    NST_CHECK(v->kind == Object::Kind::Tensor, "pth '", path, "': entry '", k->s, "' holds a ",
              pickle::kind_name(v->kind), ", not a tensor (save model.state_dict())");
    auto it = storages.find(v->items[0]->key);
    NST_CHECK(it != storages.end(), "pth '", path, "': tensor ", k->s, ": storage ",
              v->items[0]->key, " is missing");
    out.tensors.push_back(gather(k->s, *v, it->second, path));
  }
}

void read_zip_pth(PthStateDict& out, const std::vector<uint8_t>& f) {
  const std::string& path = out.source;
  const auto entries = read_zip(f, path);
  std::string prefix;
  for (const auto& [name, e] : entries)
    if (name.size() >= 9 && name.compare(name.size() - 9, 9, "/data.pkl") == 0 &&
        std::count(name.begin(), name.end(), '/') == 1)
      prefix = name.substr(0, name.size() - 8);
  NST_CHECK(!prefix.empty(), "pth '", path, "': zip has no <name>/data.pkl (not a torch.save file)");
  if (auto bo = entries.find(prefix + "byteorder"); bo != entries.end())
    NST_CHECK(bo->second.size == 6 && std::memcmp(f.data() + bo->second.offset, "little", 6) == 0,
              "pth '", path, "': big-endian checkpoints are not supported");
  std::map<std::string, Storage> storages;
  auto load_storage = [&](const Ref& pid) {
    Ref s = storage_from_pid(pid, path);
    auto it = entries.find(prefix + "data/" + s->key);
    NST_CHECK(it != entries.end(), "pth '", path, "': storage ", s->key, " has no data entry");
    storages[s->key] = {s->s, s->key, s->numel, f.data() + it->second.offset, it->second.size};
    return s;
  };
  const ZipEntry& pkl = entries.at(prefix + "data.pkl");
  size_t pos = 0;
  const Ref root = pickle::load(f.data() + pkl.offset, pkl.size, pos, load_storage, path);
  collect(out, root, storages);
}

void read_legacy_pth(PthStateDict& out, const std::vector<uint8_t>& f) {
  const std::string& path = out.source;
  static const uint8_t kMagic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  auto no_pid = [&](const Ref&) -> Ref { fail("pth '", path, "': unexpected persistent id"); };
  size_t pos = 0;
  const Ref magic = pickle::load(f.data(), f.size(), pos, no_pid, path);
  NST_CHECK(magic->kind == Object::Kind::BigInt && magic->s.size() == 10 &&
                std::memcmp(magic->s.data(), kMagic, 10) == 0,
            "pth '", path, "': not a torch checkpoint (bad legacy magic number)");
  const Ref protocol = pickle::load(f.data(), f.size(), pos, no_pid, path);
  NST_CHECK(protocol->kind == Object::Kind::Int && protocol->i == 1001, "pth '", path,
            "': unsupported legacy protocol version");
  const Ref sys = pickle::load(f.data(), f.size(), pos, no_pid, path);
  for (const auto& [k, v] : sys->entries)
    if (k->s == "little_endian")
      NST_CHECK(v->i == 1, "pth '", path, "': big-endian checkpoints are not supported");
  std::map<std::string, Storage> storages;
  auto record = [&](const Ref& pid) {
    Ref s = storage_from_pid(pid, path);
    storages[s->key] = {s->s, s->key, s->numel, nullptr, 0};
    return s;
  };
  const Ref root = pickle::load(f.data(), f.size(), pos, record, path);
  const Ref keys = pickle::load(f.data(), f.size(), pos, no_pid, path);
  NST_CHECK(keys->kind == Object::Kind::List, "pth '", path, "': legacy storage key list missing");
  for (const Ref& k : keys->items) {
    auto it = storages.find(k->s);
    NST_CHECK(k->kind == Object::Kind::Str && it != storages.end(), "pth '", path,
              "': legacy storage list names an unknown storage");
    Storage& st = it->second;
    NST_CHECK(f.size() - pos >= 8, "pth '", path, "': truncated at storage ", st.key);
    const int64_t count = le<int64_t>(f, pos);
    const uint64_t bytes = uint64_t(st.numel) * uint64_t(storage_element_size(st.type));
    NST_CHECK(count == st.numel && bytes <= f.size() - pos - 8, "pth '", path, "': storage ",
              st.key, " is truncated or has a wrong size");
    st.data = f.data() + pos + 8;
    st.bytes = bytes;
    pos += 8 + bytes;
  }
  collect(out, root, storages);
}

}  // namespace

PthStateDict read_pth(const std::string& path) {
  PthStateDict out;
  out.source = path;
  std::ifstream is(path, std::ios::binary | std::ios::ate);
  NST_CHECK(is.good(), "pth '", path, "': cannot open");
  const std::streamoff size = is.tellg();
  NST_CHECK(size >= 0 && size <= (std::streamoff(1) << 36), "pth '", path, "': unreadable size");
  std::vector<uint8_t> f(static_cast<size_t>(size));
  is.seekg(0);
  is.read(reinterpret_cast<char*>(f.data()), size);
  NST_CHECK(is.good() || size == 0, "pth '", path, "': read failed");
  Sha256 sha;
  sha.update(f.data(), f.size());
  out.sha256 = sha.hex_digest();
  if (f.size() >= 4 && std::memcmp(f.data(), "PK\x03\x04", 4) == 0)
    read_zip_pth(out, f);
  else if (f.size() >= 2 && f[0] == 0x80 && f[1] == 0x02)
    read_legacy_pth(out, f);
  else
    fail("pth '", path, "': neither a zip nor a legacy torch.save file");
  return out;
}

std::vector<WeightEntry> vgg19_from_pth(const PthStateDict& dict) {
  // Sort the features.N / classifier.N entries by N (the file may order keys anyhow).
  std::map<std::pair<int, int>, std::vector<const WeightEntry*>> layers;  // (group, N)
  for (const WeightEntry& e : dict.tensors) {
    int n = -1;
    char kind[16] = {};
    int group = 0;
    if (std::sscanf(e.name.c_str(), "features.%d.%15s", &n, kind) == 2) group = 0;
    else if (std::sscanf(e.name.c_str(), "classifier.%d.%15s", &n, kind) == 2) group = 1;
    else fail("pth '", dict.source, "': key '", e.name, "' is not a VGG features/classifier key");
    NST_CHECK(n >= 0 && (std::string(kind) == "weight" || std::string(kind) == "bias"), "pth '",
              dict.source, "': key '", e.name, "' is not a weight or bias");
    layers[{group, n}].push_back(&e);
  }
  std::vector<WeightEntry> out;
  size_t conv = 0, fc = 0;
  const auto& names = vgg19_layers();
  for (const auto& [key, list] : layers) {
    const size_t k = key.first == 0 ? conv++ : 16 + fc++;
    NST_CHECK(k < names.size() && (key.first == 0) == (k < 16), "pth '", dict.source,
              "': more layers than VGG-19 has (at ", key.first == 0 ? "features." : "classifier.",
              key.second, ")");
    for (const WeightEntry* e : list) {
      WeightEntry renamed = *e;
      renamed.name = names[k].name + e->name.substr(e->name.rfind('.'));
      out.push_back(std::move(renamed));
    }
  }
  NST_CHECK(conv == 16 && (fc == 0 || fc == 3), "pth '", dict.source, "': found ", conv,
            " conv and ", fc, " fc layers; VGG-19 has 16 and 3");
  return out;
}

}  // namespace nst::io
