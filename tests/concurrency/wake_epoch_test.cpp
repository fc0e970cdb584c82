// util::WakeEpoch: the futex under kSync group commit. Each test names the property it proves;
// a lost wake-up shows as a hang, which the suite's timeout turns into a failure.
#include <gtest/gtest.h>

#include <atomic>
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

// Every registered waiter that sleeps on the current epoch wakes on one advance.
TEST(WakeEpoch, OneAdvanceWakesEverySleepingWaiter) {
  util::WakeEpoch signal;
  std::atomic<bool> published{false};
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      util::WakeEpoch::Waiter waiter(signal);
      for (uint32_t epoch = waiter.epoch(); !published.load(); epoch = waiter.epoch()) waiter.wait(epoch);
      woken.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Let them reach the futex.
  published.store(true);
  signal.advance();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(woken.load(), 8);
}

// One advance wakes the sleeping waiters of every bucket, wherever it is called from.
TEST(WakeEpoch, OneAdvanceWakesTheWaitersOfEveryBucket) {
  util::WakeEpoch signal;
  std::atomic<bool> published{false};
  std::atomic<int> woken{0};
  constexpr unsigned kWaiters = 2 * util::WakeEpoch::kBuckets;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&, i] {
      util::WakeEpoch::Waiter waiter(signal, i);
      for (uint32_t epoch = waiter.epoch(); !published.load(); epoch = waiter.epoch()) waiter.wait(epoch);
      woken.fetch_add(1);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // Let them reach their futexes.
  published.store(true);
  signal.advance();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(woken.load(), static_cast<int>(kWaiters));
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
