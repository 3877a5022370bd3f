// A subset of Python's pickle (protocol 2) enough for what torch.save writes for
// a state_dict: dicts / OrderedDicts of tensors rebuilt by
// torch._utils._rebuild_tensor_v2 from persistent-id storages.
//
// The machine is iterative (no recursion), bounds-checks every read, accepts only
// the opcodes and globals listed in pickle.cpp, and throws nst::Error otherwise.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nst::io::pickle {

struct Object;
using Ref = std::shared_ptr<Object>;

struct Object {
  enum class Kind { None, Bool, Int, BigInt, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;         // Bool, Int
  double f = 0.0;        // Float
  std::string s;         // Str; Global "module.name"; BigInt little-endian bytes; Storage dtype global
  std::vector<Ref> items;                     // Tuple, List
  std::vector<std::pair<Ref, Ref>> entries;   // Dict (insertion order)
  // Storage: s = storage type ("torch.FloatStorage"), key, numel.
  std::string key;
  int64_t numel = 0;
  // Tensor: items[0] = storage, offset, sizes, strides.
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

const char* kind_name(Object::Kind k);

// Resolves a persistent id (the tuple after BINPERSID) to a Storage object.
using PersistentLoad = std::function<Ref(const Ref& pid)>;

// Runs one pickle starting at data[pos], stops after its STOP opcode and
// returns the result; pos moves past it. `what` names the source in errors.
Ref load(const uint8_t* data, size_t size, size_t& pos, const PersistentLoad& persistent,
         const std::string& what);

}  // namespace nst::io::pickle
