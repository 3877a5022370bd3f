#include "tools/args.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "tensor/check.hpp"

namespace nst {

// ---------------------------------------------------------------- Args

bool Args::has(const std::string& name) const { return values_.count(name) != 0; }

std::string Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it != values_.end()) return it->second.back();
  auto d = defaults_.find(name);
  return d != defaults_.end() ? d->second : std::string();
}

std::vector<std::string> Args::get_all(const std::string& name) const {
  auto it = values_.find(name);
  return it != values_.end() ? it->second : std::vector<std::string>{};
}

bool Args::flag(const std::string& name) const { return has(name); }

int64_t Args::get_int(const std::string& name, int64_t lo, int64_t hi) const {
  const std::string s = get(name);
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  NST_CHECK(!s.empty() && end && *end == '\0' && errno == 0, prog_, ": --", name,
            " expects a whole number, got '", s, "'");
  NST_CHECK(v >= lo && v <= hi, prog_, ": --", name, " must be from ", lo, " to ", hi, ", got ",
            v);
  return v;
}

double Args::get_double(const std::string& name, double lo, double hi) const {
  const std::string s = get(name);
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  NST_CHECK(!s.empty() && end && *end == '\0' && errno == 0 && std::isfinite(v), prog_, ": --",
            name, " expects a number, got '", s, "'");
  NST_CHECK(v >= lo && v <= hi, prog_, ": --", name, " must be from ", lo, " to ", hi, ", got ",
            s);
  return v;
}

std::vector<std::string> Args::get_list(const std::string& name) const {
  std::vector<std::string> out;
  std::stringstream ss(get(name));
  std::string item;
  while (std::getline(ss, item, ',')) {
    NST_CHECK(!item.empty(), prog_, ": --", name, " has an empty item in '", get(name), "'");
    out.push_back(item);
  }
  return out;
}

std::vector<double> Args::get_doubles(const std::string& name) const {
  std::vector<double> out;
  for (const std::string& item : get_list(name)) {
    char* end = nullptr;
    const double v = std::strtod(item.c_str(), &end);
    NST_CHECK(end && *end == '\0' && std::isfinite(v), prog_, ": --", name,
              " expects comma-separated numbers, got '", item, "'");
    out.push_back(v);
  }
  return out;
}

// ---------------------------------------------------------------- ArgParser

ArgParser::ArgParser(std::string prog, std::string description)
    : prog_(std::move(prog)), description_(std::move(description)) {}

ArgParser::Option& ArgParser::option(const std::string& name, const std::string& metavar,
                                     const std::string& help, const std::string& default_value) {
  Option o;
  o.name = name;
  o.metavar = metavar;
  o.help = help;
  o.default_value = default_value;
  options_.push_back(o);
  return options_.back();
}

ArgParser::Option& ArgParser::flag(const std::string& name, const std::string& help) {
  Option& o = option(name, "", help);
  o.is_flag = true;
  return o;
}

void ArgParser::positionals(int min_count, int max_count, const std::string& usage) {
  min_pos_ = min_count;
  max_pos_ = max_count;
  positional_usage_ = usage;
}

const ArgParser::Option* ArgParser::find(const std::string& spelled) const {
  for (const Option& o : options_) {
    if (spelled == "--" + o.name) return &o;
    for (const std::string& a : o.aliases)
      if (spelled == a) return &o;
  }
  return nullptr;
}

std::optional<Args> ArgParser::parse(int argc, const char* const* argv) const {
  std::vector<std::string> v;
  for (int i = 0; i < argc; ++i) v.emplace_back(argv[i] ? argv[i] : "");
  return parse(v);
}

std::optional<Args> ArgParser::parse(const std::vector<std::string>& argv) const {
  Args a;
  a.prog_ = prog_;
  for (const Option& o : options_)
    if (!o.is_flag && !o.default_value.empty()) a.defaults_[o.name] = o.default_value;
  bool only_positional = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-' ||
        (arg[1] >= '0' && arg[1] <= '9') || arg[1] == '.') {
      a.positional_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      std::cout << help();
      return std::nullopt;
    }
    std::string key = arg, value;
    bool has_inline = false;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      key = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_inline = true;
    }
    const Option* o = find(key);
    NST_CHECK(o, prog_, ": unknown option '", key, "' (see ", prog_, " --help)");
    if (o->is_flag) {
      NST_CHECK(!has_inline, prog_, ": ", key, " takes no value");
      a.values_[o->name].push_back("1");
      continue;
    }
    if (!has_inline) {
      NST_CHECK(i + 1 < argv.size(), prog_, ": ", key, " needs a value (", o->metavar, ")");
      value = argv[++i];
    }
    auto& slot = a.values_[o->name];
    NST_CHECK(o->is_repeatable || slot.empty(), prog_, ": ", key, " given more than once");
    slot.push_back(value);
  }
  for (const Option& o : options_)
    NST_CHECK(!o.is_required || a.has(o.name), prog_, ": --", o.name, " is required");
  const int npos = static_cast<int>(a.positional_.size());
  NST_CHECK(npos >= min_pos_ && npos <= max_pos_, prog_,
            npos > max_pos_ ? ": unexpected argument '" + a.positional_.back() + "'"
                            : ": missing " + positional_usage_);
  return a;
}

std::string ArgParser::help() const {
  std::ostringstream os;
  os << "usage: " << prog_ << " [options]";
  if (!positional_usage_.empty()) os << " " << positional_usage_;
  os << "\n\n" << description_ << "\n\noptions:\n";
  for (const Option& o : options_) {
    std::string left = "  --" + o.name + (o.is_flag ? "" : " " + o.metavar);
    for (const std::string& al : o.aliases) left += ", " + al;
    os << left;
    os << std::string(left.size() < 34 ? 34 - left.size() : 1, ' ') << o.help;
    if (!o.default_value.empty()) os << " (default " << o.default_value << ")";
    if (o.is_required) os << " (required)";
    os << "\n";
  }
  os << "  --help                          this help\n";
  return os.str();
}

}  // namespace nst
