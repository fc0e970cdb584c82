#include "util/wake_epoch.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

namespace batpak::util {
namespace {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t) && std::atomic<uint32_t>::is_always_lock_free,
              "the futex word is the atomic's own 32 bits");

uint32_t* futex_word(std::atomic<uint32_t>& word) { return reinterpret_cast<uint32_t*>(&word); }

}  // namespace

void WakeEpoch::Waiter::wait(uint32_t seen) {
  // EAGAIN (the epoch already moved) and EINTR both mean: re-check.
  (void)syscall(SYS_futex, futex_word(owner_.epoch_), FUTEX_WAIT_PRIVATE, seen, nullptr, nullptr, 0);
}

void WakeEpoch::advance() {
  epoch_.fetch_add(1);
  if (waiters_.load() > 0) {
    (void)syscall(SYS_futex, futex_word(epoch_), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
  }
}

}  // namespace batpak::util
