// Warnings: a problem in the input that the engine works around with a documented
// fallback (e.g. a corrupt EXIF orientation is ignored), which the user should
// still hear about. warn() hands the message to the current handler; the default
// handler writes one line "nst: warning: MESSAGE" to stderr. Tests, and a server
// that returns warnings with its response, install their own handler.
#pragma once

#include <functional>
#include <string>

namespace nst {

using WarningHandler = std::function<void(const std::string& message)>;

// Passes message (no "nst: warning: " prefix, no newline) to the current handler.
// Safe to call from any thread; the handler runs on the calling thread.
void warn(const std::string& message);

// Makes handler the handler of every thread (an empty one restores the stderr
// default) and returns the previous one, so a caller can put it back.
WarningHandler set_warning_handler(WarningHandler handler);

}  // namespace nst
