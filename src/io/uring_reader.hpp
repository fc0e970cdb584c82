// Batched reads through io_uring for the POSIX Fs: one system call submits many preads (a
// replay of an entity whose events lie far apart, or a page of scattered ids), where one
// pread each would cost a system call each. Internal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "batpak/status.hpp"

namespace batpak::io {

// One read: up to data.size() bytes of the file `fd` at `offset`; `got` is set to the count
// read (short only at the end of the file); `error` to the errno of a failed read, else 0.
struct UringRead {
  int fd = -1;
  uint64_t offset = 0;
  std::span<uint8_t> data;
  size_t got = 0;
  int error = 0;
};

// Thread safety: none; use one per thread (for_this_thread()).
class UringReader {
 public:
  ~UringReader();
  UringReader(const UringReader&) = delete;
  UringReader& operator=(const UringReader&) = delete;

  // This thread's reader, created on first use; null when the kernel refuses io_uring (not
  // built in, disabled, or blocked by a seccomp filter): then read with pread.
  static UringReader* for_this_thread();

  // Reads every request, at most kDepth at a time in flight, finishing short reads with more
  // reads until the end of the file. Returns once no read is in flight. A request's failure
  // is reported in its `error`; the call itself fails only if the ring does (kIo).
  Status read_all(std::span<UringRead> reads);

  static constexpr unsigned kDepth = 64;

 private:
  struct Ring;
  explicit UringReader(std::unique_ptr<Ring> ring);
  std::unique_ptr<Ring> ring_;
};

}  // namespace batpak::io
