// A tiny JSON writer for run records and --json outputs.
//
//   JsonWriter j;
//   j.begin_object().key("total").value(1.5).key("style").begin_array();
//   for (double s : styles) j.value(s);
//   j.end_array().end_object();
//   std::string text = j.str();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace nst {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(const std::string& k);
  JsonWriter& value(const std::string& s);
  JsonWriter& value(const char* s) { return value(std::string(s)); }
  JsonWriter& value(double v);  // NaN and infinities are written as null
  JsonWriter& value(int64_t v);
  JsonWriter& value(int v) { return value(int64_t(v)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  template <class T>
  JsonWriter& array(const std::vector<T>& items) {
    begin_array();
    for (const T& item : items) value(item);
    return end_array();
  }
  const std::string& str() const { return out_; }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

std::string json_escape(const std::string& s);

}  // namespace nst
