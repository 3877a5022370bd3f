#include "io/warning.hpp"

#include <cstdio>
#include <mutex>
#include <utility>

namespace nst {

namespace {

std::mutex& handler_mutex() {
  static std::mutex m;
  return m;
}

WarningHandler& current_handler() {
  static WarningHandler handler;
  return handler;
}

void warn_to_stderr(const std::string& message) {
  const std::string line = "nst: warning: " + message + "\n";
  std::fputs(line.c_str(), stderr);  // one call: lines of two threads do not interleave
}

}  // namespace

void warn(const std::string& message) {
  WarningHandler handler;
  {
    const std::lock_guard<std::mutex> lock(handler_mutex());
    handler = current_handler();  // a copy: the handler may itself call warn or set a handler
  }
  if (handler)
    handler(message);
  else
    warn_to_stderr(message);
}

WarningHandler set_warning_handler(WarningHandler handler) {
  const std::lock_guard<std::mutex> lock(handler_mutex());
  return std::exchange(current_handler(), std::move(handler));
}

}  // namespace nst
