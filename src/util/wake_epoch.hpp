// A counter that threads wait on until it moves, built on Linux futexes. Internal.
#pragma once

#include <atomic>
#include <cstdint>

namespace batpak::util {

// Threads wait for a change of state that another thread publishes by advancing the epoch.
// Unlike std::atomic<uint32_t>::wait in libstdc++ 12, a waiter makes no sched_yield calls
// before it sleeps (with eight appenders on two CPUs those were ~30 system calls per group
// commit), and advance() makes no system call when nobody waits.
//
// Waiters are spread over kBuckets futex words by the CPU they register on, and advance()
// wakes the other CPUs' buckets before its own. This only steers where the scheduler puts
// the woken threads: the first ones go to an idle CPU, and once no CPU is idle a woken
// thread stays on the CPU it last ran on. Woken all at once, a whole group of kSync
// appenders went to the one idle CPU and ran there one after another (docs/performance.md).
// Which bucket a waiter uses never decides whether it is woken.
//
// Protocol: a Waiter registers first, then reads epoch(), then checks the state it waits
// for, and only then calls wait(epoch). The publisher stores the state, then advance().
// Sequentially consistent operations guarantee, per bucket, that either the publisher sees
// the waiter registered and wakes it, or the waiter reads the new epoch and its wait returns
// at once.
//
// Thread-safe: any number of waiters and publishers.
class WakeEpoch {
  struct alignas(64) Bucket {
    std::atomic<uint32_t> epoch{0};
    std::atomic<uint32_t> waiters{0};
  };

 public:
  static constexpr unsigned kBuckets = 4;

  class Waiter {
   public:
    // Registers in the bucket of the CPU the calling thread runs on.
    explicit Waiter(WakeEpoch& owner);
    // Registers in bucket `bucket % kBuckets`.
    Waiter(WakeEpoch& owner, unsigned bucket);
    ~Waiter() { bucket_.waiters.fetch_sub(1); }
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;

    uint32_t epoch() const { return bucket_.epoch.load(); }
    // Sleeps while the epoch equals `seen`; may return early (spuriously or on a signal),
    // so callers re-check their state in a loop.
    void wait(uint32_t seen);

   private:
    Bucket& bucket_;
  };

  // Advances every bucket's epoch and wakes its registered waiters; the calling CPU's
  // bucket comes last.
  void advance();

 private:
  Bucket buckets_[kBuckets];
};

}  // namespace batpak::util
