// kSync group forming (Writer::wait_for_group): the writer thread waits for a group as large
// as the last one, spinning on a multi-CPU machine and turning the spin off for a while when
// a group does not fill. These tests run appenders whose number shrinks and grows, so groups
// fill, time out, and fill again, and check what every acknowledged append promises.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr EventKind kKind{0x1001};

// Runs `appenders` threads; thread n appends `events_of(n)` events to entity "<wave>:<n>".
// Each checks, right after its append returns, that the event is readable (kSync publishes a
// group before waking it). Returns the appends acknowledged; failures are test failures.
template <typename EventsOf>
uint64_t run_wave(Store& store, const std::string& wave, int appenders, EventsOf events_of) {
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<int> unreadable{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int n = 0; n < appenders; ++n) {
    threads.emplace_back([&, n] {
      const Coordinate coordinate = coord(wave + ":" + std::to_string(n));
      for (int i = 0; i < events_of(n); ++i) {
        auto receipt = store.append(coordinate, kKind, std::vector<uint8_t>{static_cast<uint8_t>(i)});
        if (!receipt) {
          failed.fetch_add(1);
          return;
        }
        acknowledged.fetch_add(1);
        if (!store.get(receipt->event_id)) unreadable.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0) << "appends failed in wave " << wave;
  EXPECT_EQ(unreadable.load(), 0) << "acknowledged events not readable at once in wave " << wave;
  return acknowledged.load();
}

// Invariant: however the number of appenders changes between groups (groups that no longer
// fill, then larger ones), every acknowledged kSync append is readable when it returns,
// the log holds exactly the acknowledged events in one gapless order, and after a reopen
// verify() finds every one of them intact.
TEST(GroupForming, ShrinkingAndGrowingGroupsLoseNoAcknowledgedEvent) {
  TempDir tmp;
  const std::string dir = tmp.sub("store");
  uint64_t expected = 0;
  {
    auto store = Store::open(dir, StoreOptions{});
    ASSERT_TRUE(store.has_value()) << store.error().to_string();
    // Eight appenders that finish one after another: each group is smaller than the last.
    expected += run_wave(**store, "shrink", 8, [](int n) { return 10 * (n + 1); });
    // One appender alone, then eight together: groups grow again.
    expected += run_wave(**store, "alone", 1, [](int) { return 20; });
    expected += run_wave(**store, "grow", 8, [](int) { return 40; });
    EXPECT_EQ(expected, 360u + 20u + 320u);
    EXPECT_EQ(expect_log_invariants(**store).size(), expected);
    ASSERT_TRUE((*store)->close());
  }
  auto reopened = Store::open(dir, StoreOptions{});
  ASSERT_TRUE(reopened.has_value()) << reopened.error().to_string();
  EXPECT_EQ(expect_log_invariants(**reopened).size(), expected);
  expect_verify_ok(**reopened, expected);
  for (int n = 0; n < 8; ++n) {
    EXPECT_EQ((*reopened)->entity_generation("shrink:" + std::to_string(n)), static_cast<uint64_t>(10 * (n + 1)));
  }
}

}  // namespace
}  // namespace batpak::testing
