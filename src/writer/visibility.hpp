// Wakes readers when the visible global sequence moves. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "batpak/status.hpp"

namespace batpak::writer {

// Told, in order and from one thread at a time, each time the visible sequence moves; called
// under the notifier's mutex, so it must not call back into the notifier.
class VisibilityObserver {
 public:
  virtual ~VisibilityObserver() = default;
  virtual void on_visible(uint64_t visible) = 0;
};

// Thread safety: every method may be called concurrently, but publish() is called by one
// thread at a time (the writer's, or an appender's under the writer mutex). Lock order: the
// writer's mutex, then this object's, then the observer's locks.
class VisibilityNotifier {
 public:
  // `observer` (may be null) must outlive the notifier.
  VisibilityNotifier(uint64_t visible, VisibilityObserver* observer) : visible_(visible), observer_(observer) {}
  ~VisibilityNotifier();

  // Records that every event up to `visible` is readable, wakes all waiters, signals the
  // event fd and tells the observer.
  void publish(uint64_t visible);

  // Wakes all waiters for good (they get kClosed) and signals the event fd.
  void close();

  // An eventfd that becomes readable whenever publish() or close() runs after it was
  // created; created on first use, closed by the destructor.
  Result<int> event_fd();

  // Blocks until the visible sequence exceeds `after` (returns it), the notifier closes
  // (kClosed), or `timeout` passes (kTimeout).
  Result<uint64_t> wait_beyond(uint64_t after, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return visible_ > after || closed_; });
    if (visible_ > after) return visible_;
    if (closed_) return make_error(ErrorCode::kClosed, "the store is closed");
    return make_error(ErrorCode::kTimeout, "no new event became visible in time");
  }

  uint64_t visible() const {
    std::lock_guard lock(mu_);
    return visible_;
  }

 private:
  void signal_fd();  // REQUIRES: mu_ held.

  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t visible_;
  bool closed_ = false;
  VisibilityObserver* const observer_;
  std::mutex fd_mu_;                 // Serialises the fd's creation.
  std::atomic<int> event_fd_{-1};    // Set once; read without a lock on every publish.
};

}  // namespace batpak::writer
