// Always-on checks. A failed check throws nst::Error with a message that names
// the operation and what was wrong; it never aborts, so a CLI can report it.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace nst {

// The one exception type of the engine: user-facing errors (bad input, bad
// shapes, I/O) and violated invariants alike.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& first, const Rest&... rest) {
  os << first;
  append(os, rest...);
}
}  // namespace detail

// Concatenates the arguments with operator<<.
template <class... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  detail::append(os, args...);
  return os.str();
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(str(args...));
}

}  // namespace nst

// NST_CHECK(cond, "op: ", details...) throws nst::Error(details) when cond is false.
#define NST_CHECK(cond, ...)                      \
  do {                                            \
    if (!(cond)) ::nst::fail(__VA_ARGS__);        \
  } while (0)
