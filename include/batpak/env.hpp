// The operating-system seam. The store reaches files and time only through these
// interfaces, so tests can inject faults, crashes and time. Production code uses
// posix_fs() and system_clock().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "batpak/status.hpp"

namespace batpak {

// An open file. Thread safety: pread/pwrite/sync may be called concurrently from several
// threads (they use explicit offsets); truncate must not race with writes.
class File {
 public:
  virtual ~File() = default;
  // Reads up to data.size() bytes at `offset`; returns the count read (short at EOF).
  virtual Result<size_t> pread(uint64_t offset, std::span<uint8_t> data) = 0;
  // Writes all of `data` at `offset`, or fails.
  virtual Status pwrite(uint64_t offset, std::span<const uint8_t> data) = 0;
  // Makes written data durable (fdatasync). A failure must be treated as permanent.
  virtual Status sync() = 0;
  // Makes data and metadata (size) durable (fsync).
  virtual Status sync_all() = 0;
  virtual Status truncate(uint64_t size) = 0;
  virtual Result<uint64_t> size() = 0;
  // Maps the first `bytes` bytes of the file shared and writable: a store into the span
  // reaches the operating system's page cache at once (it survives a process crash, not a
  // power cut, like a pwrite). The mapping lives as long as this File. REQUIRES: the file
  // is at least `bytes` long before the span is touched (it may grow after the call), and is
  // not shortened while mapped. The default returns kUnsupported; a kBuffered commit then
  // waits until the writer thread has written it.
  virtual Result<std::span<uint8_t>> map_shared(uint64_t bytes) {
    (void)bytes;
    return make_error(ErrorCode::kUnsupported, "this file system does not map files");
  }
};

// An exclusive advisory lock on a path; released when destroyed.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

// One read of Fs::read_batch: up to data.size() bytes of `file` at `offset`. read_batch sets
// `got` to the count read, short only at the end of the file.
struct ReadRequest {
  File* file = nullptr;
  uint64_t offset = 0;
  std::span<uint8_t> data;
  size_t got = 0;
};

// The file system. Thread safety: every method may be called concurrently.
class Fs {
 public:
  enum class OpenMode { kRead, kReadWrite, kCreateReadWrite };
  virtual ~Fs() = default;
  virtual Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  virtual Status create_dir(const std::string& path) = 0;   // OK if it already exists.
  virtual Result<std::vector<std::string>> list_dir(const std::string& path) = 0;  // Names only.
  virtual Result<bool> exists(const std::string& path) = 0;
  virtual Status remove(const std::string& path) = 0;
  virtual Status rename(const std::string& from, const std::string& to) = 0;
  virtual Status sync_dir(const std::string& path) = 0;
  // Takes a non-blocking exclusive lock on `path` (created if missing). Contention with any
  // other holder, in this process or another, is kStoreLocked.
  virtual Result<std::unique_ptr<FileLock>> lock(const std::string& path) = 0;
  // Performs every read of `requests`, in any order or at once, and sets each `got`.
  // REQUIRES: every file was opened by this Fs and outlives the call. On an error some
  // requests may be unread. The default reads them one by one with File::pread; posix_fs()
  // submits them together through io_uring where the kernel allows it.
  virtual Status read_batch(std::span<ReadRequest> requests) {
    for (ReadRequest& r : requests) {
      auto got = r.file->pread(r.offset, r.data);
      if (!got) return tl::unexpected(got.error());
      r.got = *got;
    }
    return {};
  }
};

// The process-wide POSIX file system (pread/pwrite/fdatasync/flock). Never null.
std::shared_ptr<Fs> posix_fs();

// A source of time. Thread safety: now_us may be called concurrently.
class Clock {
 public:
  virtual ~Clock() = default;
  // Microseconds since the Unix epoch. The store takes a reading before the epoch as the
  // epoch for wall times and event ids (Event::header.timestamp_us keeps the reading).
  virtual int64_t now_us() = 0;
};

// The system's real-time clock. Never null.
std::shared_ptr<Clock> system_clock();

}  // namespace batpak
