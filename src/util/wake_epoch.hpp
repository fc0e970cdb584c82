// A counter that threads wait on until it moves, built on a Linux futex. Internal.
#pragma once

#include <atomic>
#include <cstdint>

namespace batpak::util {

// Threads wait for a change of state that another thread publishes by advancing the epoch.
// Unlike std::atomic<uint32_t>::wait in libstdc++ 12, a waiter makes no sched_yield calls
// before it sleeps (with eight appenders on two CPUs those were ~30 system calls per group
// commit), and advance() makes no system call when nobody waits.
//
// Protocol: a Waiter registers first, then reads epoch(), then checks the state it waits
// for, and only then calls wait(epoch). The publisher stores the state, then advance().
// Sequentially consistent operations guarantee that either the publisher sees the waiter
// registered and wakes it, or the waiter reads the new epoch and its wait returns at once.
//
// Thread-safe: any number of waiters and publishers.
class WakeEpoch {
 public:
  class Waiter {
   public:
    explicit Waiter(WakeEpoch& owner) : owner_(owner) { owner_.waiters_.fetch_add(1); }
    ~Waiter() { owner_.waiters_.fetch_sub(1); }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    uint32_t epoch() const { return owner_.epoch_.load(); }
    // Sleeps while the epoch equals `seen`; may return early (spuriously or on a signal),
    // so callers re-check their state in a loop.
    void wait(uint32_t seen);

   private:
    WakeEpoch& owner_;
  };

  // Advances the epoch and wakes every registered waiter.
  void advance();

 private:
  std::atomic<uint32_t> epoch_{0};
  std::atomic<uint32_t> waiters_{0};
};

}  // namespace batpak::util
