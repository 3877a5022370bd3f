// The one way this program writes a file. Every writer (images, run records,
// checkpoints, npy dumps, weight and model files, and any added later) goes
// through write_atomically, so a reader never sees half a file and a failure
// never costs the file that was there before:
//
//   1. open a temporary in the target's folder (".NAME.tmpPID_K", O_EXCL),
//   2. write the bytes, checking every write (short writes are continued),
//   3. fsync and close it, checking both,
//   4. rename it over the target (atomic within one file system),
//   5. fsync the folder, so the rename itself survives a crash.
//
// Any failure in 1-4 removes the temporary, leaves the old target untouched and
// throws WriteError (an nst::Error) naming the target and the cause ("no space
// left on the device" for ENOSPC). A failure in 5 leaves the complete new file
// in place and throws too (new_file_in_place): its rename may not survive a
// power cut.
//
// Test seam (in the spirit of SQLite's fault-injecting VFS): the environment
// variable NST_TEST_FAIL_IO="[KIND:]N:ERRNO", or set_io_fault() in a test,
// makes the Nth operation of that kind fail with ERRNO (ENOSPC, EIO, EDQUOT,
// EROFS or EACCES); KIND is one of open, write, fsync, close, rename, syncdir,
// or any (the default: every operation counts). A failed write first writes half
// of its bytes, as a real disk that fills up does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "tensor/check.hpp"

namespace nst {

// What was written: its size and FNV-1a 64 checksum (a run record stores them
// so that a reader can tell whether a picture is the one the record describes).
struct WrittenFile {
  uint64_t bytes = 0;
  uint64_t checksum = 0;
};

// The error write_atomically throws when the file system fails it. in_place:
// the new file is complete and in place (only the folder's sync failed).
class WriteError : public Error {
 public:
  WriteError(const std::string& message, int err, bool in_place, WrittenFile file = {})
      : Error(message), errno_value(err), new_file_in_place(in_place), written(file) {}
  int errno_value;
  bool new_file_in_place;
  WrittenFile written;  // what is in place when new_file_in_place
};

// Where a producer writes the bytes of the file. Every call is checked; on
// failure it throws and write_atomically cleans up.
class FileSink {
 public:
  void write(const void* data, size_t n);
  void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }
  uint64_t bytes_written() const { return written_; }
  uint64_t checksum() const { return checksum_; }  // FNV-1a 64 of the bytes so far

 private:
  friend WrittenFile write_atomically(const std::string&, const std::function<void(FileSink&)>&);
  FileSink(int fd, std::string target) : fd_(fd), target_(std::move(target)) {}
  int fd_;
  std::string target_;
  uint64_t written_ = 0;
  uint64_t checksum_ = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
};

// Writes `path` with the bytes `produce` gives the sink (steps 1-5 above).
// Checks first that the folder exists and that the target is not a folder.
WrittenFile write_atomically(const std::string& path, const std::function<void(FileSink&)>& produce);

// Same, for bytes in memory.
WrittenFile write_file_atomically(const std::string& path, std::string_view bytes);

// The cause of a failed system call as a user reads it: "no space left on the
// device" for ENOSPC, "disk quota exceeded", "input/output error (the device
// failed)", ..., else strerror's text.
std::string describe_errno(int err);

// The fault seam (see above). kind is "any", "open", "write", "fsync", "close",
// "rename" or "syncdir"; nth counts from 1 from the moment of the call; nth = 0
// turns injection off. io_operation_count() is the number of operations of
// every kind made since the last set_io_fault (for tests that try every N).
struct IoFault {
  std::string kind = "any";
  int64_t nth = 0;
  int err = 0;
};
void set_io_fault(const IoFault& fault);
int64_t io_operation_count();
// Parses "[KIND:]N:ERRNO" (ERRNO by name: ENOSPC, EIO, ...); nst::Error when malformed.
IoFault parse_io_fault(const std::string& spec);

}  // namespace nst
