#include "io/json.hpp"

#include <charconv>
#include <cmath>

#include "tensor/check.hpp"

namespace nst::io {

// ---------------------------------------------------------------- Json values

Json Json::make_bool(bool b) {
  Json j;
  j.kind_ = Kind::Bool;
  j.bool_ = b;
  return j;
}
Json Json::make_number(double v) {
  Json j;
  j.kind_ = Kind::Number;
  j.number_ = v;
  return j;
}
Json Json::make_string(std::string s) {
  Json j;
  j.kind_ = Kind::String;
  j.string_ = std::move(s);
  return j;
}
Json Json::make_array(std::vector<Json> items) {
  Json j;
  j.kind_ = Kind::Array;
  j.items_ = std::move(items);
  return j;
}
Json Json::make_object(std::vector<std::pair<std::string, Json>> members) {
  Json j;
  j.kind_ = Kind::Object;
  j.members_ = std::move(members);
  return j;
}

bool Json::as_bool(const std::string& what) const {
  NST_CHECK(kind_ == Kind::Bool, "json: ", what, " must be true or false");
  return bool_;
}
double Json::as_number(const std::string& what) const {
  NST_CHECK(kind_ == Kind::Number, "json: ", what, " must be a number");
  return number_;
}
int64_t Json::as_int(const std::string& what) const {
  const double v = as_number(what);
  NST_CHECK(std::floor(v) == v && std::abs(v) <= 9.0e15, "json: ", what,
            " must be a whole number, got ", v);
  return static_cast<int64_t>(v);
}
const std::string& Json::as_string(const std::string& what) const {
  NST_CHECK(kind_ == Kind::String, "json: ", what, " must be a string");
  return string_;
}
const std::vector<Json>& Json::items(const std::string& what) const {
  NST_CHECK(kind_ == Kind::Array, "json: ", what, " must be an array");
  return items_;
}
const std::vector<std::pair<std::string, Json>>& Json::members(const std::string& what) const {
  NST_CHECK(kind_ == Kind::Object, "json: ", what, " must be an object");
  return members_;
}
const Json* Json::find(const std::string& key) const {
  if (kind_ != Kind::Object) return nullptr;
  for (const auto& [k, v] : members_)
    if (k == key) return &v;
  return nullptr;
}
const Json& Json::at(const std::string& key) const {
  NST_CHECK(kind_ == Kind::Object, "json: looking up '", key, "' in something not an object");
  const Json* v = find(key);
  NST_CHECK(v != nullptr, "json: missing key '", key, "'");
  return *v;
}

// ---------------------------------------------------------------- parser

namespace {

class Parser {
 public:
  Parser(std::string_view text, const std::string& source) : s_(text), source_(source) {}

  Json document() {
    Json v = value(0);
    skip_space();
    if (pos_ != s_.size()) error("unexpected text after the document");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& what) const {
    fail("json '", source_, "': ", what, " at byte ", pos_);
  }
  void skip_space() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  char peek() {
    if (pos_ >= s_.size()) error("unexpected end of input");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++pos_;
  }
  void literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) error("invalid literal");
    pos_ += word.size();
  }

  Json value(int depth) {
    if (depth >= kMaxJsonDepth) error("nesting deeper than " + std::to_string(kMaxJsonDepth));
    skip_space();
    const char c = peek();
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return Json::make_string(string());
    if (c == 't') return literal("true"), Json::make_bool(true);
    if (c == 'f') return literal("false"), Json::make_bool(false);
    if (c == 'n') return literal("null"), Json::make_null();
    if (c == '-' || (c >= '0' && c <= '9')) return Json::make_number(number());
    error(std::string("unexpected character '") + c + "'");
  }

  Json object(int depth) {
    expect('{');
    std::vector<std::pair<std::string, Json>> members;
    skip_space();
    if (peek() == '}') return ++pos_, Json::make_object(std::move(members));
    for (;;) {
      skip_space();
      if (peek() != '"') error("expected a string key");
      std::string key = string();
      skip_space();
      expect(':');
      members.emplace_back(std::move(key), value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect('}');
      return Json::make_object(std::move(members));
    }
  }

  Json array(int depth) {
    expect('[');
    std::vector<Json> items;
    skip_space();
    if (peek() == ']') return ++pos_, Json::make_array(std::move(items));
    for (;;) {
      items.push_back(value(depth + 1));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      expect(']');
      return Json::make_array(std::move(items));
    }
  }

  double number() {
    // Validate the RFC 8259 grammar, then convert the token.
    const size_t start = pos_;
    auto digits = [&] {
      const size_t d0 = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      if (pos_ == d0) error("malformed number");
    };
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0')
      ++pos_;
    else
      digits();
    if (pos_ < s_.size() && s_[pos_] == '.') ++pos_, digits();
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      digits();
    }
    double v = 0.0;
    const auto [ptr, ec] = std::from_chars(s_.data() + start, s_.data() + pos_, v);
    if (ec != std::errc() || ptr != s_.data() + pos_ || !std::isfinite(v))
      error("number out of range");
    return v;
  }

  uint32_t hex4() {
    if (s_.size() - pos_ < 4) error("truncated \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= uint32_t(h - '0');
      else if (h >= 'a' && h <= 'f') v |= uint32_t(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= uint32_t(h - 'A' + 10);
      else error("bad hex digit in \\u escape");
    }
    return v;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    for (;;) {
      const char c = peek();
      ++pos_;
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      const char e = peek();
      ++pos_;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp < 0xDC00) {  // high surrogate: a low one must follow
            if (s_.substr(pos_, 2) != "\\u") error("unpaired surrogate in \\u escape");
            pos_ += 2;
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo >= 0xE000) error("unpaired surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp < 0xE000) {
            error("unpaired surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default: error("bad escape in string");
      }
    }
  }

  std::string_view s_;
  const std::string& source_;
  size_t pos_ = 0;
};

}  // namespace

Json parse_json(std::string_view text, const std::string& source) {
  return Parser(text, source).document();
}

}  // namespace nst::io
