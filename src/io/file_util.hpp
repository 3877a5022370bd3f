// Small file helpers: reading a whole file, extensions, path identity.
// Writing goes through io/atomic_write.hpp.
#pragma once

#include <string>

namespace nst {

// Reads a whole file; nst::Error names the file when it is missing or unreadable.
std::string read_file(const std::string& path, const std::string& what = "file");

// Lower-case extension without the dot ("png"), or "" when there is none.
std::string file_extension(const std::string& path);

// True when both paths name the same existing file (or the same path when absent).
bool same_file(const std::string& a, const std::string& b);

}  // namespace nst
