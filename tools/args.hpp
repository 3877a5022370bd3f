// A small command-line parser for the nst subcommands.
//
//   ArgParser p("nst stylize", "Paint a photo in the style of a painting.");
//   p.option("content", "C", "content image").alias("-content_image").required();
//   p.option("size", "PX", "long side of the output", "512");
//   p.flag("original-colors", "keep the content's colours");
//   Args a = p.parse(argc, argv);   // throws nst::Error with a clear message
//   int size = a.get_int("size", 1, 65536);
//
// Options are written --name VALUE or --name=VALUE; aliases (the classic
// neural-style spellings such as -content_image) behave the same. An option
// may be repeated when declared repeatable().
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nst {

class Args {
 public:
  bool has(const std::string& name) const;
  std::string get(const std::string& name) const;  // the last value given (or default)
  std::vector<std::string> get_all(const std::string& name) const;
  bool flag(const std::string& name) const;
  int64_t get_int(const std::string& name, int64_t lo, int64_t hi) const;
  double get_double(const std::string& name, double lo, double hi) const;
  std::vector<double> get_doubles(const std::string& name) const;  // "0.7,0.3"
  std::vector<std::string> get_list(const std::string& name) const;  // "a,b,c"
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  friend class ArgParser;
  std::string prog_;
  std::map<std::string, std::vector<std::string>> values_;
  std::map<std::string, std::string> defaults_;
  std::vector<std::string> positional_;
};

class ArgParser {
 public:
  struct Option {
    std::string name, metavar, help, default_value;
    std::vector<std::string> aliases;
    bool is_flag = false, is_required = false, is_repeatable = false;
    Option& alias(const std::string& a) { aliases.push_back(a); return *this; }
    Option& required() { is_required = true; return *this; }
    Option& repeatable() { is_repeatable = true; return *this; }
  };

  ArgParser(std::string prog, std::string description);
  Option& option(const std::string& name, const std::string& metavar, const std::string& help,
                 const std::string& default_value = "");
  Option& flag(const std::string& name, const std::string& help);
  // Positional arguments: how many are accepted and how they show in usage.
  void positionals(int min_count, int max_count, const std::string& usage);

  // Throws nst::Error("nst stylize: ...") on unknown options, missing values,
  // missing required options, or a wrong number of positional arguments.
  // Returns std::nullopt when --help was given (the help has been printed).
  std::optional<Args> parse(int argc, const char* const* argv) const;
  std::optional<Args> parse(const std::vector<std::string>& argv) const;
  std::string help() const;

 private:
  const Option* find(const std::string& spelled) const;
  std::string prog_, description_, positional_usage_;
  int min_pos_ = 0, max_pos_ = 0;
  std::vector<Option> options_;
};

}  // namespace nst
