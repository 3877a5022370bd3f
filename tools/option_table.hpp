// The machinery of the option tables in options.cpp: one Option per flag says
// how it is declared, read into a config struct and shown in the run record,
// with makers for the common kinds (a number in a range, a path, a choice, a
// flag). Header-only templates; tools/ only.
#pragma once

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "io/json_writer.hpp"
#include "tensor/check.hpp"
#include "tools/args.hpp"

namespace nst::cli::option_table {

// One option of a command with config type C: how it is declared, how it is
// read into the config (prog starts every message) and how the run record
// shows it (no record function: not recorded). Options are read in table order.
template <class C>
struct Option {
  std::string name, metavar, help, default_value;  // metavar "" = a flag
  std::vector<std::string> aliases;
  bool repeatable = false, required = false;
  std::function<void(const Args&, C&, const std::string& prog)> read;
  std::function<void(JsonWriter&, const C&)> record;

  Option& alias(std::string a) {
    aliases.push_back(std::move(a));
    return *this;
  }
  Option& unrecorded() {
    record = nullptr;
    return *this;
  }
  Option& mandatory() {
    required = true;
    return *this;
  }
};

// "content-weight" -> "content_weight"
inline std::string record_key(std::string name) {
  for (char& ch : name)
    if (ch == '-') ch = '_';
  return name;
}

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

// A field's value in the record: lists as JSON arrays.
template <class T>
void write_value(JsonWriter& j, const T& v) {
  if constexpr (IsVector<T>::value) {
    j.array(v);
  } else {
    j.value(v);
  }
}

// ---- makers for the common kinds: the config field is a member pointer -----

template <class C, class T>
Option<C> recorded(std::string name, std::string metavar, std::string help, std::string def, T C::*field) {
  Option<C> o{name, std::move(metavar), std::move(help), std::move(def), {}, false, false, nullptr, nullptr};
  o.record = [key = record_key(name), field](JsonWriter& j, const C& c) {
    j.key(key);
    write_value(j, c.*field);
  };
  return o;
}

template <class C>
Option<C> integer(std::string name, std::string metavar, std::string help, std::string def,
                  int64_t C::*field, int64_t lo, int64_t hi) {
  Option<C> o = recorded(name, std::move(metavar), std::move(help), std::move(def), field);
  o.read = [=](const Args& a, C& c, const std::string&) { c.*field = a.get_int(name, lo, hi); };
  return o;
}

template <class C>
Option<C> real(std::string name, std::string metavar, std::string help, std::string def, double C::*field,
               double lo, double hi) {
  Option<C> o = recorded(name, std::move(metavar), std::move(help), std::move(def), field);
  o.read = [=](const Args& a, C& c, const std::string&) { c.*field = a.get_double(name, lo, hi); };
  return o;
}

template <class C>
Option<C> text(std::string name, std::string metavar, std::string help, std::string def,
               std::string C::*field) {
  Option<C> o = recorded(name, std::move(metavar), std::move(help), std::move(def), field);
  o.read = [=](const Args& a, C& c, const std::string&) { c.*field = a.get(name); };
  return o;
}

// A value out of a fixed set: "--optimizer must be lbfgs or adam, got 'sgd'".
template <class C>
Option<C> choice(std::string name, std::string help, std::string def, std::string C::*field,
                 std::vector<std::string> allowed) {
  std::string metavar, listed;
  for (size_t i = 0; i < allowed.size(); ++i) {
    metavar += (i ? "|" : "") + allowed[i];
    listed += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
  }
  Option<C> o = recorded(name, metavar, std::move(help), std::move(def), field);
  o.read = [=](const Args& a, C& c, const std::string& prog) {
    c.*field = a.get(name);
    bool ok = false;
    for (const std::string& v : allowed) ok = ok || v == c.*field;
    NST_CHECK(ok, prog, ": --", name, " must be ", listed, ", got '", c.*field, "'");
  };
  return o;
}

template <class C>
Option<C> flag(std::string name, std::string help, bool C::*field) {
  Option<C> o = recorded(name, "", std::move(help), "", field);
  o.read = [=](const Args& a, C& c, const std::string&) { c.*field = a.flag(name); };
  return o;
}

template <class C>
void declare(ArgParser& p, const std::vector<Option<C>>& options) {
  for (const Option<C>& o : options) {
    if (o.name.empty()) continue;  // a check, not an option
    ArgParser::Option& d = o.metavar.empty() ? p.flag(o.name, o.help)
                                             : p.option(o.name, o.metavar, o.help, o.default_value);
    for (const std::string& a : o.aliases) d.alias(a);
    if (o.repeatable) d.repeatable();
    if (o.required) d.required();
  }
}

}  // namespace nst::cli::option_table
