// Files written so that a reader never sees half a file: the content goes to a
// temporary file in the same folder, which is renamed over the target only once
// complete. An existing target is replaced only by a complete new file.
#pragma once

#include <functional>
#include <string>

namespace nst {

// Calls write(tmp_path) to produce the file, then renames it to `path`.
// On any failure (write throws or returns false) the temporary file is removed
// and nst::Error names `path` and the problem. Checks first that the folder exists.
void write_atomically(const std::string& path, const std::function<bool(const std::string& tmp)>& write);

// Same, for bytes in memory.
void write_file_atomically(const std::string& path, const std::string& bytes);

// Reads a whole file; nst::Error names the file when it is missing or unreadable.
std::string read_file(const std::string& path, const std::string& what = "file");

// Lower-case extension without the dot ("png"), or "" when there is none.
std::string file_extension(const std::string& path);

// True when both paths name the same existing file (or the same path when absent).
bool same_file(const std::string& a, const std::string& b);

}  // namespace nst
