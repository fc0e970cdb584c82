#include "io/uring_reader.hpp"

#include <liburing.h>
#include <pthread.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

namespace batpak::io {

struct UringReader::Ring {
  io_uring ring{};
};

namespace {

// Bumped in a forked child. A ring's memory is shared with the process that made it, so a
// child must not use a ring it inherited: both would move the same queue indexes.
std::atomic<uint64_t> g_fork_generation{0};
void after_fork_in_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

// This thread's reader, and whether the kernel refused one (then it is not asked again).
struct ThreadReader {
  std::unique_ptr<UringReader> reader;
  uint64_t fork_generation = 0;  // When `reader` was made.
  bool refused = false;
};
thread_local ThreadReader t_reader;

// liburing maps and unmaps a ring with its own system calls, which ThreadSanitizer does not
// see, and the kernel may map a new ring where an ended thread's ring was. Each ring passes
// through this counter after it is mapped and before it is unmapped, with read-modify-write
// operations, so every use of an unmapped ring is ordered before every use of a later one,
// as munmap before mmap does order them. Without it ThreadSanitizer reports a race on the
// reused memory (tests/concurrency/uring_ring_reuse_test.cpp).
std::atomic<uint64_t> g_ring_handovers{0};

tl::unexpected<Error> ring_error(const char* what, int err) {
  return make_error(ErrorCode::kIo, std::string(what) + ": " + std::strerror(err));
}

bool retryable(int err) { return err == EINTR || err == EAGAIN || err == EBUSY; }

}  // namespace

UringReader::UringReader(std::unique_ptr<Ring> ring) : ring_(std::move(ring)) {
  g_ring_handovers.fetch_add(1, std::memory_order_acq_rel);
}

UringReader::~UringReader() {
  g_ring_handovers.fetch_add(1, std::memory_order_acq_rel);
  io_uring_queue_exit(&ring_->ring);
}

UringReader* UringReader::for_this_thread() {
  static std::once_flag watch_forks;
  std::call_once(watch_forks, [] { ::pthread_atfork(nullptr, nullptr, after_fork_in_child); });
  const uint64_t generation = g_fork_generation.load(std::memory_order_relaxed);
  if (t_reader.reader && t_reader.fork_generation != generation) {
    t_reader.reader.reset();  // Inherited: unmaps and closes this process's copy only.
  }
  if (!t_reader.reader && !t_reader.refused) {
    auto ring = std::make_unique<Ring>();
    if (io_uring_queue_init(kDepth, &ring->ring, 0) == 0) {
      t_reader.reader.reset(new UringReader(std::move(ring)));
      t_reader.fork_generation = generation;
    } else {
      t_reader.refused = true;
    }
  }
  return t_reader.reader.get();
}

Status UringReader::read_all(std::span<UringRead> reads) {
  io_uring& ring = ring_->ring;
  for (UringRead& r : reads) r.got = r.error = 0;
  std::vector<size_t> again;  // Short reads to continue, and reads to retry.
  size_t next = 0;
  uint64_t prepared = 0, submitted = 0, completed = 0;
  Status ring_ok;  // Becomes the error if the ring itself fails.
  while (ring_ok && (next < reads.size() || !again.empty() || completed < prepared)) {
    // INVARIANT: at most kDepth reads are prepared and not completed, so a queue entry is free.
    while (prepared - completed < kDepth && (!again.empty() || next < reads.size())) {
      size_t i = next;
      if (!again.empty()) {
        i = again.back();
        again.pop_back();
      } else {
        ++next;
      }
      UringRead& r = reads[i];
      io_uring_sqe* sqe = io_uring_get_sqe(&ring);
      io_uring_prep_read(sqe, r.fd, r.data.data() + r.got, static_cast<unsigned>(r.data.size() - r.got),
                         r.offset + r.got);
      io_uring_sqe_set_data64(sqe, i);
      ++prepared;
    }
    if (submitted < prepared) {
      const int n = io_uring_submit(&ring);
      if (n >= 0) {
        submitted += static_cast<uint64_t>(n);
      } else if (!retryable(-n)) {
        ring_ok = ring_error("io_uring_submit", -n);
        break;
      }
    }
    io_uring_cqe* cqe = nullptr;
    if (const int rc = io_uring_wait_cqe(&ring, &cqe); rc < 0) {
      if (retryable(-rc)) continue;
      ring_ok = ring_error("io_uring_wait_cqe", -rc);
      break;
    }
    unsigned head = 0, seen = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      ++seen;
      UringRead& r = reads[static_cast<size_t>(io_uring_cqe_get_data64(cqe))];
      const int res = cqe->res;
      if (res < 0 && retryable(-res)) {
        again.push_back(static_cast<size_t>(io_uring_cqe_get_data64(cqe)));
      } else if (res < 0) {
        r.error = -res;
      } else if (res > 0) {
        r.got += static_cast<size_t>(res);
        // Short but not at the end of the file: read on (the next read returns 0 at the end).
        if (r.got < r.data.size()) again.push_back(static_cast<size_t>(io_uring_cqe_get_data64(cqe)));
      }
    }
    io_uring_cq_advance(&ring, seen);
    completed += seen;
  }
  if (ring_ok) return ring_ok;
  // The ring failed: wait for what the kernel took (it writes into the callers' buffers),
  // then retire this thread's reader, so later batches read with pread.
  while (completed < submitted) {
    io_uring_cqe* cqe = nullptr;
    const int rc = io_uring_wait_cqe(&ring, &cqe);
    if (rc < 0 && retryable(-rc)) continue;
    if (rc < 0) break;  // Nothing more can be learned; the ring's teardown cancels the rest.
    io_uring_cqe_seen(&ring, cqe);
    ++completed;
  }
  t_reader.refused = true;
  Status error = ring_ok;
  t_reader.reader.reset();  // Destroys *this: touch no member after it.
  return error;
}

}  // namespace batpak::io
