#include "util/wake_epoch.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace batpak::util {
namespace {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free,
              "the futex word is the atomic's own 32 bits");

uint32_t* futex_word(std::atomic<uint32_t>& word) { return reinterpret_cast<uint32_t*>(&word); }

// The bucket of the CPU the calling thread runs on (glibc reads the CPU from rseq, without
// a system call).
unsigned current_bucket() {
  const int cpu = sched_getcpu();
  return cpu < 0 ? 0 : static_cast<unsigned>(cpu) % WakeEpoch::kBuckets;
}

}  // namespace

WakeEpoch::Waiter::Waiter(WakeEpoch& owner) : Waiter(owner, current_bucket()) {}

WakeEpoch::Waiter::Waiter(WakeEpoch& owner, unsigned bucket) : bucket_(owner.buckets_[bucket % kBuckets]) {
  bucket_.waiters.fetch_add(1);
}

void WakeEpoch::Waiter::wait(uint32_t seen) {
  // EAGAIN (the epoch already moved) and EINTR both mean: re-check.
  (void)syscall(SYS_futex, futex_word(bucket_.epoch), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
}

void WakeEpoch::advance() {
  const unsigned own = current_bucket();
  for (unsigned i = 1; i <= kBuckets; ++i) {
    Bucket& bucket = buckets_[(own + i) % kBuckets];
    bucket.epoch.fetch_add(1);
    if (bucket.waiters.load() > 0) {
      (void)syscall(SYS_futex, futex_word(bucket.epoch), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
    }
  }
}

}  // namespace batpak::util
