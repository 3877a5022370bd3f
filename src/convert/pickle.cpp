#include "convert/pickle.hpp"

#include <cstring>
#include <unordered_map>

#include "tensor/check.hpp"

namespace nst::io::pickle {

const char* kind_name(Object::Kind k) {
  static const char* names[] = {"None", "bool", "int", "big int", "float", "str",
                                "tuple", "list", "dict", "global", "storage", "tensor"};
  return names[int(k)];
}

namespace {

constexpr size_t kMaxStack = 1 << 20;
constexpr size_t kMaxMemo = 1 << 22;
constexpr size_t kMaxString = 1 << 20;

Ref make(Object::Kind k) {
  auto r = std::make_shared<Object>();
  r->kind = k;
  return r;
}
Ref make_int(int64_t v) {
  Ref r = make(Object::Kind::Int);
  r->i = v;
  return r;
}

class Machine {
 public:
  Machine(const uint8_t* data, size_t size, size_t& pos, const PersistentLoad& persistent,
          const std::string& what)
      : d_(data), n_(size), pos_(pos), persistent_(persistent), what_(what) {}

  Ref run() {
    for (;;) {
      const size_t at = pos_;
      const uint8_t op = byte();
      if (op == '.') {  // STOP
        NST_CHECK(stack_.size() == 1 && marks_.empty(), "pth '", what_, "': pickle ends with ",
                  stack_.size(), " values on the stack (corrupted)");
        return stack_.back();
      }
      step(op, at);
      NST_CHECK(stack_.size() <= kMaxStack, "pth '", what_, "': pickle stack too deep");
    }
  }

 private:
  [[noreturn]] void bad(const std::string& msg, size_t at) const {
    fail("pth '", what_, "': pickle ", msg, " at byte ", at);
  }
  const uint8_t* take(size_t k) {
    if (k > n_ - pos_) bad("truncated", pos_);
    const uint8_t* p = d_ + pos_;
    pos_ += k;
    return p;
  }
  uint8_t byte() { return *take(1); }
  template <class T>
  T le() {
    T v;
    std::memcpy(&v, take(sizeof(T)), sizeof(T));
    return v;
  }
  std::string line() {
    const size_t start = pos_;
    while (pos_ < n_ && d_[pos_] != '\n') ++pos_;
    if (pos_ >= n_) bad("truncated GLOBAL", start);
    std::string s(reinterpret_cast<const char*>(d_ + start), pos_ - start);
    ++pos_;
    return s;
  }
  std::string text(size_t len) {
    if (len > kMaxString) bad("string too long", pos_);
    const uint8_t* p = take(len);
    return std::string(reinterpret_cast<const char*>(p), len);
  }
  Ref pop(size_t at) {
    if (stack_.empty() || (!marks_.empty() && stack_.size() <= marks_.back()))
      bad("stack underflow (corrupted)", at);
    Ref r = stack_.back();
    stack_.pop_back();
    return r;
  }
  Ref& top(size_t at) {
    if (stack_.empty()) bad("stack underflow (corrupted)", at);
    return stack_.back();
  }
  std::vector<Ref> pop_mark(size_t at) {
    if (marks_.empty()) bad("no MARK (corrupted)", at);
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<Ref> v(stack_.begin() + int64_t(m), stack_.end());
    stack_.resize(m);
    return v;
  }
  void push(Ref r) { stack_.push_back(std::move(r)); }
  void push_str(std::string s) {
    Ref r = make(Object::Kind::Str);
    r->s = std::move(s);
    push(r);
  }
  Ref tuple(std::vector<Ref> items) {
    Ref r = make(Object::Kind::Tuple);
    r->items = std::move(items);
    return r;
  }
  void memo_put(uint32_t idx, size_t at) {
    if (idx >= kMaxMemo) bad("memo index too large", at);
    memo_[idx] = top(at);
  }
  void memo_get(uint32_t idx, size_t at) {
    auto it = memo_.find(idx);
    if (it == memo_.end()) bad("memo entry " + std::to_string(idx) + " missing", at);
    push(it->second);
  }
  void set_items(Ref& dict, std::vector<Ref>& kv, size_t at) {
    if (dict->kind != Object::Kind::Dict) bad("SETITEM on a " + std::string(kind_name(dict->kind)), at);
    if (kv.size() % 2) bad("odd number of dict items", at);
    for (size_t k = 0; k < kv.size(); k += 2) dict->entries.emplace_back(kv[k], kv[k + 1]);
  }

  static std::vector<int64_t> ints(const Ref& t, const char* what, size_t at, const Machine& m) {
    if (t->kind != Object::Kind::Tuple) m.bad(std::string(what) + " is not a tuple", at);
    std::vector<int64_t> v;
    for (const Ref& x : t->items) {
      if (x->kind != Object::Kind::Int) m.bad(std::string(what) + " holds a non-integer", at);
      v.push_back(x->i);
    }
    return v;
  }

  Ref reduce(const Ref& fn, const Ref& args, size_t at) {
    if (fn->kind != Object::Kind::Global || args->kind != Object::Kind::Tuple)
      bad("REDUCE of something not a known global", at);
    const auto& a = args->items;
    if (fn->s == "collections.OrderedDict") {
      if (!a.empty()) bad("OrderedDict with arguments", at);
      return make(Object::Kind::Dict);
    }
    if (fn->s == "torch._utils._rebuild_parameter") {
      if (a.empty() || a[0]->kind != Object::Kind::Tensor) bad("bad _rebuild_parameter", at);
      return a[0];
    }
    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, hooks[, meta])
    if (a.size() < 4 || a[0]->kind != Object::Kind::Storage || a[1]->kind != Object::Kind::Int)
      bad("bad arguments to _rebuild_tensor_v2", at);
    Ref t = make(Object::Kind::Tensor);
    t->items = {a[0]};
    t->offset = a[1]->i;
    t->sizes = ints(a[2], "tensor size", at, *this);
    t->strides = ints(a[3], "tensor stride", at, *this);
    if (t->sizes.size() != t->strides.size()) bad("tensor size and stride ranks differ", at);
    return t;
  }

  void global(size_t at) {
    const std::string module = line();  // two statements: evaluation order matters
    const std::string name = module + "." + line();
    static const char* allowed[] = {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
                                    "torch._utils._rebuild_parameter"};
    bool ok = name.rfind("torch.", 0) == 0 && name.size() > 13 &&
              name.compare(name.size() - 7, 7, "Storage") == 0 &&
              name.find('.', 6) == std::string::npos;  // torch.<Type>Storage
    for (const char* a : allowed) ok = ok || name == a;
    if (!ok) bad("refers to '" + name + "', which a torch state_dict does not use", at);
    Ref g = make(Object::Kind::Global);
    g->s = name;
    push(g);
  }

  void step(uint8_t op, size_t at) {
    switch (op) {
      case 0x80: if (byte() > 5) bad("protocol too new", at); break;      // PROTO
      case 'c': global(at); break;                                        // GLOBAL
      case 'q': memo_put(byte(), at); break;                              // BINPUT
      case 'r': memo_put(le<uint32_t>(), at); break;                      // LONG_BINPUT
      case 'h': memo_get(byte(), at); break;                              // BINGET
      case 'j': memo_get(le<uint32_t>(), at); break;                      // LONG_BINGET
      case '(': marks_.push_back(stack_.size()); break;                   // MARK
      case ')': push(tuple({})); break;                                   // EMPTY_TUPLE
      case 't': push(tuple(pop_mark(at))); break;                         // TUPLE
      case 0x85: { Ref a = pop(at); push(tuple({a})); break; }            // TUPLE1
      case 0x86: { Ref b = pop(at), a = pop(at); push(tuple({a, b})); break; }  // TUPLE2
      case 0x87: {                                                        // TUPLE3
        Ref c = pop(at), b = pop(at), a = pop(at);
        push(tuple({a, b, c}));
        break;
      }
      case ']': push(make(Object::Kind::List)); break;                    // EMPTY_LIST
      case 'a': { Ref v = pop(at); list(at)->items.push_back(v); break; } // APPEND
      case 'e': {                                                         // APPENDS
        std::vector<Ref> v = pop_mark(at);
        Ref& l = list(at);
        l->items.insert(l->items.end(), v.begin(), v.end());
        break;
      }
      case '}': push(make(Object::Kind::Dict)); break;                    // EMPTY_DICT
      case 's': {                                                         // SETITEM
        Ref v = pop(at), k = pop(at);
        std::vector<Ref> kv{k, v};
        set_items(top(at), kv, at);
        break;
      }
      case 'u': { std::vector<Ref> kv = pop_mark(at); set_items(top(at), kv, at); break; }
      case 'X': push_str(text(le<uint32_t>())); break;                    // BINUNICODE
      case 0x8c: push_str(text(byte())); break;                           // SHORT_BINUNICODE
      case 'T': push_str(text(le<uint32_t>())); break;                    // BINSTRING
      case 'U': push_str(text(byte())); break;                            // SHORT_BINSTRING
      case 'K': push(make_int(byte())); break;                            // BININT1
      case 'M': push(make_int(le<uint16_t>())); break;                    // BININT2
      case 'J': push(make_int(le<int32_t>())); break;                     // BININT
      case 0x8a: {                                                        // LONG1
        const uint8_t len = byte();
        const uint8_t* p = take(len);
        if (len <= 8) {
          uint64_t v = 0;
          for (int k = 0; k < len; ++k) v |= uint64_t(p[k]) << (8 * k);
          if (len > 0 && len < 8 && (p[len - 1] & 0x80)) v |= ~uint64_t(0) << (8 * len);
          push(make_int(int64_t(v)));
        } else {
          Ref r = make(Object::Kind::BigInt);
          r->s.assign(reinterpret_cast<const char*>(p), len);
          push(r);
        }
        break;
      }
      case 'G': {                                                         // BINFLOAT (big-endian)
        uint64_t bits = 0;
        for (const uint8_t* p = take(8); p != d_ + pos_; ++p) bits = bits << 8 | *p;
        Ref r = make(Object::Kind::Float);
        std::memcpy(&r->f, &bits, 8);
        push(r);
        break;
      }
      case 'N': push(make(Object::Kind::None)); break;                    // NONE
      case 0x88: case 0x89: {                                             // NEWTRUE, NEWFALSE
        Ref r = make(Object::Kind::Bool);
        r->i = op == 0x88;
        push(r);
        break;
      }
      case 'Q': push(persistent_(pop(at))); break;                        // BINPERSID
      case 'R': { Ref args = pop(at), fn = pop(at); push(reduce(fn, args, at)); break; }
      case 'b': {                                                         // BUILD
        Ref state = pop(at);
        if (top(at)->kind != Object::Kind::Dict) bad("BUILD on a non-dict", at);
        break;  // an OrderedDict's state (_metadata) is not needed
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        bad(std::string("opcode ") + hex + " is not supported (not a torch state_dict?)", at);
      }
    }
  }
  Ref& list(size_t at) {
    Ref& l = top(at);
    if (l->kind != Object::Kind::List) bad("APPEND to a non-list", at);
    return l;
  }

  const uint8_t* d_;
  size_t n_;
  size_t& pos_;
  const PersistentLoad& persistent_;
  const std::string& what_;
  std::vector<Ref> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, Ref> memo_;
};

}  // namespace

Ref load(const uint8_t* data, size_t size, size_t& pos, const PersistentLoad& persistent,
         const std::string& what) {
  return Machine(data, size, pos, persistent, what).run();
}

}  // namespace nst::io::pickle
