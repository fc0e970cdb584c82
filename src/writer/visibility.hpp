// Wakes readers when the visible global sequence moves. Internal.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "batpak/status.hpp"

namespace batpak::writer {

// Thread safety: every method may be called concurrently. Lock order: the writer's mutex
// may be held when calling publish(); waiters hold only this object's mutex.
class VisibilityNotifier {
 public:
  explicit VisibilityNotifier(uint64_t visible) : visible_(visible) {}

  // Records that every event up to `visible` is readable and wakes all waiters.
  void publish(uint64_t visible) {
    {
      std::lock_guard lock(mu_);
      if (visible <= visible_) return;
      visible_ = visible;
    }
    cv_.notify_all();
  }

  // Wakes all waiters for good: they get kClosed.
  void close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
  }

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
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t visible_;
  bool closed_ = false;
};

}  // namespace batpak::writer
