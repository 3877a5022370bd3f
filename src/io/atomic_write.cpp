#include "io/atomic_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "io/checksum.hpp"
#include "tensor/check.hpp"

namespace nst {

namespace fs = std::filesystem;

namespace {

// ---- the fault seam ---------------------------------------------------------

enum class Op { open, write, fsync, close, rename, syncdir, count };
constexpr const char* kOpNames[] = {"open", "write", "fsync", "close", "rename", "syncdir"};

struct FaultState {
  std::mutex mutex;
  IoFault fault;
  int64_t any = 0;                           // operations of every kind so far
  int64_t per_op[size_t(Op::count)] = {};    // and of each kind
};

FaultState& fault_state() {
  static FaultState* state = [] {
    auto* s = new FaultState;  // never destroyed: writers may run during exit
    if (const char* spec = std::getenv("NST_TEST_FAIL_IO"); spec && *spec) s->fault = parse_io_fault(spec);
    return s;
  }();
  return *state;
}

// Counts one operation; returns the errno it must fail with, or 0.
int injected_failure(Op op) {
  FaultState& s = fault_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  const int64_t any = ++s.any;
  const int64_t mine = ++s.per_op[size_t(op)];
  if (s.fault.nth <= 0) return 0;
  const bool hit = s.fault.kind == "any" ? any == s.fault.nth
                                          : (s.fault.kind == kOpNames[size_t(op)] && mine == s.fault.nth);
  return hit ? s.fault.err : 0;
}

constexpr struct {
  const char* name;
  int value;
} kErrnos[] = {{"ENOSPC", ENOSPC}, {"EIO", EIO}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}, {"EACCES", EACCES}};

// ---- checked system calls ---------------------------------------------------
// Each returns 0 or the errno of the failure (injected or real).

int sys_open_excl(const std::string& path, int& fd) {
  if (const int e = injected_failure(Op::open)) return e;
  do fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  while (fd < 0 && errno == EINTR);
  return fd < 0 ? errno : 0;
}

int sys_write_all(int fd, const char* p, size_t n) {
  if (const int e = injected_failure(Op::write)) {
    [[maybe_unused]] const ssize_t half = ::write(fd, p, n / 2);  // a disk filling up mid-write
    return e;
  }
  while (n > 0) {
    const ssize_t k = ::write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return errno;
    if (k == 0) return EIO;  // a regular file never takes 0 of n > 0 bytes without an error
    p += k;
    n -= size_t(k);
  }
  return 0;
}

int sys_fsync(int fd, Op op) {
  if (const int e = injected_failure(op)) return e;
  int r;
  do r = ::fsync(fd);
  while (r < 0 && errno == EINTR);
  return r < 0 ? errno : 0;
}

int sys_close(int fd) {
  if (const int e = injected_failure(Op::close)) {
    ::close(fd);
    return e;
  }
  // close is not retried on EINTR: on Linux the descriptor is gone either way.
  return ::close(fd) < 0 && errno != EINTR ? errno : 0;
}

int sys_rename(const std::string& from, const std::string& to) {
  if (const int e = injected_failure(Op::rename)) return e;
  return ::rename(from.c_str(), to.c_str()) < 0 ? errno : 0;
}

// fsync of the folder, so that the rename is on the disk. File systems that
// cannot sync a folder (EINVAL) have nothing to sync.
int sys_sync_folder(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno == EACCES ? 0 : errno;  // a folder we may write but not read
  const int e = sys_fsync(fd, Op::syncdir);
  ::close(fd);
  return e == EINVAL ? 0 : e;
}

// Thrown inside write_atomically by the sink; carries the errno.
struct WriteFailure {
  int err;
  const char* step;
};

}  // namespace

void FileSink::write(const void* data, size_t n) {
  // Large buffers go in 8 MiB writes: each is one counted operation, so the
  // fault seam can fail a write in the middle of a big file.
  constexpr size_t kChunk = size_t(8) << 20;
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const size_t k = n < kChunk ? n : kChunk;
    if (const int e = sys_write_all(fd_, p, k)) throw WriteFailure{e, "writing"};
    checksum_ = io::fnv1a64(p, k, checksum_);
    written_ += k;
    p += k;
    n -= k;
  }
}

std::string describe_errno(int err) {
  switch (err) {
    case ENOSPC: return "no space left on the device";
    case EDQUOT: return "disk quota exceeded";
    case EIO: return "input/output error (the device failed)";
    case EROFS: return "the file system is read-only";
    case EACCES:
    case EPERM: return "permission denied";
    case ENOENT: return "no such file or folder";
    case EFBIG: return "the file is too large for the file system";
    default: return std::strerror(err);
  }
}

WrittenFile write_atomically(const std::string& path, const std::function<void(FileSink&)>& produce) {
  NST_CHECK(!path.empty(), "output path is empty");
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  NST_CHECK(fs::is_directory(dir, ec), "cannot write '", path, "': folder '", dir.string(),
            "' does not exist");
  NST_CHECK(!fs::is_directory(target, ec), "cannot write '", path, "': it is a folder");
  static std::atomic<int> counter{0};
  std::string tmp_name = target.filename().string();
  tmp_name.insert(tmp_name.begin(), '.');
  tmp_name += ".tmp" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  const std::string tmp = (dir / tmp_name).string();

  int fd = -1;
  if (const int e = sys_open_excl(tmp, fd))
    throw WriteError(str("cannot write '", path, "': ", describe_errno(e), " (creating a temporary file in '",
                         dir.string(), "')"),
                     e, false);
  FileSink sink(fd, path);
  // Steps 2-4; on any failure the temporary goes and the old target stays.
  const auto give_up = [&](int e, const char* step) {
    if (fd >= 0) ::close(fd);
    const bool removed = ::unlink(tmp.c_str()) == 0 || errno == ENOENT;
    throw WriteError(str("cannot write '", path, "': ", describe_errno(e), " (while ", step, "; ",
                         fs::exists(target, ec) ? "the previous file is unchanged" : "no file was left behind",
                         removed ? "" : str("; could not remove the temporary '", tmp, "'"), ")"),
                     e, false);
  };
  try {
    produce(sink);
  } catch (const WriteFailure& f) {
    give_up(f.err, f.step);
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (const int e = sys_fsync(fd, Op::fsync)) give_up(e, "flushing it to the disk");
  const int closed = sys_close(fd);
  fd = -1;
  if (closed) give_up(closed, "closing it");
  if (const int e = sys_rename(tmp, path)) give_up(e, "moving it into place");
  if (const int e = sys_sync_folder(dir.string()))
    throw WriteError(str("cannot write '", path, "': ", describe_errno(e), " (while syncing the folder '",
                         dir.string(), "'; the new file is in place, but may not survive a power cut)"),
                     e, true, {sink.bytes_written(), sink.checksum()});
  return {sink.bytes_written(), sink.checksum()};
}

WrittenFile write_file_atomically(const std::string& path, std::string_view bytes) {
  return write_atomically(path, [&](FileSink& out) { out.write(bytes); });
}

void set_io_fault(const IoFault& fault) {
  FaultState& s = fault_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.fault = fault;
  s.any = 0;
  for (int64_t& n : s.per_op) n = 0;
}

int64_t io_operation_count() {
  FaultState& s = fault_state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.any;
}

IoFault parse_io_fault(const std::string& spec) {
  const auto bad = [&] {
    fail("NST_TEST_FAIL_IO='", spec, "': expected [KIND:]N:ERRNO, e.g. write:3:ENOSPC (KIND any, open, ",
         "write, fsync, close, rename or syncdir; ERRNO ENOSPC, EIO, EDQUOT, EROFS or EACCES)");
  };
  IoFault f;
  std::string rest = spec;
  if (const size_t colon = rest.find(':'); colon != std::string::npos && !std::isdigit(uint8_t(rest[0]))) {
    f.kind = rest.substr(0, colon);
    rest.erase(0, colon + 1);
    bool known = f.kind == "any";
    for (const char* name : kOpNames) known = known || f.kind == name;
    if (!known) bad();
  }
  const size_t colon = rest.find(':');
  if (colon == std::string::npos || colon == 0) bad();
  for (size_t i = 0; i < colon; ++i)
    if (!std::isdigit(uint8_t(rest[i]))) bad();
  if (colon > 12) bad();
  f.nth = std::stoll(rest.substr(0, colon));
  const std::string name = rest.substr(colon + 1);
  for (const auto& e : kErrnos)
    if (name == e.name) f.err = e.value;
  if (f.err == 0 || f.nth < 1) bad();
  return f;
}

}  // namespace nst
