// util::WakeEpoch: the futex under kSync group commit. Each test names the property it proves;
// a lost wake-up shows as a hang, which the suite's timeout turns into a failure.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "util/wake_epoch.hpp"

namespace batpak {
namespace {

// A wait on an epoch that has already moved returns at once instead of sleeping.
TEST(WakeEpoch, WaitOnAStaleEpochReturnsAtOnce) {
  util::WakeEpoch signal;
  util::WakeEpoch::Waiter waiter(signal);
  const uint32_t seen = waiter.epoch();
  signal.advance();
  EXPECT_NE(waiter.epoch(), seen);
  waiter.wait(seen);  // Would sleep forever if it compared against anything but the live epoch.
}

// Starts `waiters` threads that sleep on one WakeEpoch until a flag is set (thread i in
// bucket i when `by_bucket`, else in its CPU's), sets it with one advance, and returns how
// many woke. A lost wake-up hangs here.
int woken_by_one_advance(unsigned waiters, bool by_bucket) {
  util::WakeEpoch signal;
  std::atomic<bool> published{false};
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < waiters; ++i) {
    threads.emplace_back([&, i] {
      std::optional<util::WakeEpoch::Waiter> waiter;
      if (by_bucket) {
        waiter.emplace(signal, i);
      } else {
        waiter.emplace(signal);
      }
      for (uint32_t epoch = waiter->epoch(); !published.load(); epoch = waiter->epoch()) waiter->wait(epoch);
      woken.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Let them reach their futexes.
  published.store(true);
  signal.advance();
  for (std::thread& t : threads) t.join();
  return woken.load();
}

// Every registered waiter that sleeps on the current epoch wakes on one advance.
TEST(WakeEpoch, OneAdvanceWakesEverySleepingWaiter) { EXPECT_EQ(woken_by_one_advance(8, false), 8); }

// One advance wakes the sleeping waiters of every bucket, wherever it is called from.
TEST(WakeEpoch, OneAdvanceWakesTheWaitersOfEveryBucket) {
  constexpr unsigned kWaiters = 2 * util::WakeEpoch::kBuckets;
  EXPECT_EQ(woken_by_one_advance(kWaiters, true), static_cast<int>(kWaiters));
}

// A waiter sees the epoch of its own bucket move on every advance.
TEST(WakeEpoch, EveryAdvanceMovesEveryBucketsEpoch) {
  util::WakeEpoch signal;
  for (unsigned bucket = 0; bucket < util::WakeEpoch::kBuckets; ++bucket) {
    util::WakeEpoch::Waiter waiter(signal, bucket);
    const uint32_t seen = waiter.epoch();
    signal.advance();
    EXPECT_EQ(waiter.epoch(), seen + 1) << "bucket " << bucket;
  }
}

// No wake-up is lost between a waiter's check and its sleep: two threads hand a token back
// and forth 20,000 times, each waiting for the other's advance.
TEST(WakeEpoch, PingPongLosesNoWakeUp) {
  constexpr uint64_t kRounds = 20'000;
  util::WakeEpoch to_odd, to_even;
  std::atomic<uint64_t> token{0};
  auto player = [&](uint64_t parity, util::WakeEpoch& mine, util::WakeEpoch& theirs) {
    util::WakeEpoch::Waiter waiter(mine);
    for (uint64_t turn = parity; turn < kRounds; turn += 2) {
      for (uint32_t epoch = waiter.epoch(); token.load() != turn; epoch = waiter.epoch()) waiter.wait(epoch);
      token.store(turn + 1);
      theirs.advance();
    }
  };
  std::thread even(player, 0, std::ref(to_even), std::ref(to_odd));
  std::thread odd(player, 1, std::ref(to_odd), std::ref(to_even));
  even.join();
  odd.join();
  EXPECT_EQ(token.load(), kRounds);
}

}  // namespace
}  // namespace batpak
