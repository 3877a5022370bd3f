// A small JSON reader (RFC 8259) for model.json files.
//
//   Json doc = parse_json(text, "model.json");      // throws nst::Error on bad input
//   const Json& w = doc.at("weightsManifest");       // throws if missing / not an object
//   for (const Json& g : w.items()) ...              // array elements
//
// Robust to malformed input: every read is bounds-checked, nesting is limited to
// kMaxJsonDepth levels (no unbounded recursion), errors name the source and the
// byte offset.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nst::io {

constexpr int kMaxJsonDepth = 64;

class Json {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_number() const { return kind_ == Kind::Number; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  // Typed accessors: throw nst::Error naming `what` when the kind differs.
  bool as_bool(const std::string& what = "value") const;
  double as_number(const std::string& what = "value") const;
  int64_t as_int(const std::string& what = "value") const;  // must be a whole number
  const std::string& as_string(const std::string& what = "value") const;
  const std::vector<Json>& items(const std::string& what = "value") const;  // array
  const std::vector<std::pair<std::string, Json>>& members(
      const std::string& what = "value") const;  // object, in file order

  const Json* find(const std::string& key) const;  // object member or nullptr
  const Json& at(const std::string& key) const;    // object member or throws

  static Json make_null() { return Json(); }
  static Json make_bool(bool b);
  static Json make_number(double v);
  static Json make_string(std::string s);
  static Json make_array(std::vector<Json> items);
  static Json make_object(std::vector<std::pair<std::string, Json>> members);

 private:
  Kind kind_ = Kind::Null;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Parses a whole document; `source` names it in error messages.
Json parse_json(std::string_view text, const std::string& source);

}  // namespace nst::io
