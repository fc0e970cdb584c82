// Fences and watermarks while other threads append, wait and follow: under ThreadSanitizer
// in CI. Plain appenders retry while a fence is open; a fencer commits or cancels fences
// in turn; a follower never sees a cancelled event and sees every committed one in order;
// an observer checks the watermark invariants at every sample.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "batpak/batpak.hpp"
#include "support/durability_names.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr int kAppenders = 3;
constexpr int kEventsEach = 60;
constexpr int kFences = 12;
const EventKind kPlain(0x1001);
const EventKind kCommitted(0x1002);
const EventKind kCancelled(0x1003);

class FenceConcurrency : public ::testing::TestWithParam<Durability> {};

TEST_P(FenceConcurrency, FencesAppendersWaitersAndAFollowerKeepEveryInvariant) {
  TempDir dir;
  StoreOptions options;
  options.durability = GetParam();
  options.segment_bytes_max = 16 * 1024;
  options.index_checkpoint_every_events = 20;  // Background checkpoints cut among the fences.
  auto opened = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(opened);
  Store& store = **opened;
  std::atomic<bool> done{false};
  std::atomic<int> plain_acked{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      const auto at = Coordinate::make("plain:" + std::to_string(t), "s").value();
      for (int i = 0; i < kEventsEach;) {
        auto r = store.append(at, kPlain, {});
        if (!r && r.error().code == ErrorCode::kFenceActive) {
          std::this_thread::yield();
          continue;
        }
        ASSERT_TRUE(r) << r.error().to_string();
        ASSERT_TRUE(store.wait_for_visible(point_of(*r), 30000)) << "an acknowledged plain event becomes visible";
        ++plain_acked;
        ++i;
      }
    });
  }
  threads.emplace_back([&] {
    const auto at = Coordinate::make("fenced", "s").value();
    for (int f = 0; f < kFences; ++f) {
      auto fence = store.begin_fence();
      ASSERT_TRUE(fence) << fence.error().to_string();
      const bool commit = f % 2 == 0;
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(fence->append(at, commit ? kCommitted : kCancelled, {}));
      ASSERT_TRUE(commit ? fence->commit() : fence->cancel());
    }
  });
  std::thread observer([&] {
    Frontier last;
    while (!done.load()) {
      const Frontier f = store.frontier();
      ASSERT_GE(f.accepted, f.written);
      ASSERT_GE(f.written, f.durable);
      ASSERT_GE(f.accepted, f.visible);
      ASSERT_GE(f.visible, f.applied);
      ASSERT_GE(f.visible, last.visible) << "visible never moves back";
      ASSERT_GE(f.durable, last.durable) << "durable never moves back";
      last = f;
    }
  });

  const size_t expected = kAppenders * kEventsEach + (kFences / 2) * 3;
  Cursor follower(store, Region::all());
  follower.observe_gaps(kFences);
  std::vector<Event> seen;
  while (seen.size() < expected) {
    auto batch = follower.wait_batch(64, 30000);
    ASSERT_TRUE(batch) << batch.error().to_string() << " after " << seen.size() << " events; position "
                       << follower.position() << ", visible events " << store.stats().event_count;
    seen.insert(seen.end(), batch->begin(), batch->end());
  }
  for (auto& t : threads) t.join();
  done = true;
  observer.join();

  EXPECT_EQ(plain_acked.load(), kAppenders * kEventsEach);
  uint64_t previous = 0;
  for (const Event& e : seen) {
    EXPECT_NE(e.header.kind, kCancelled) << "a cancelled event was delivered";
    EXPECT_GT(e.header.global_sequence, previous);
    previous = e.header.global_sequence;
  }
  EXPECT_EQ(seen.size(), expected);
  const std::vector<SequenceRange> cancelled = store.cancelled_ranges();
  uint64_t hidden = 0;
  for (const SequenceRange& r : cancelled) hidden += r.end - r.start;
  EXPECT_EQ(hidden, (kFences / 2) * 3u);
  EXPECT_FALSE(follower.take_gaps().empty()) << "the follower jumped over cancelled ranges";
  auto report = store.verify();
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->ok()) << report->damage->reason;
  // The last background checkpoint (no crash here, so close writes a final one) and the
  // fences file agree on what is hidden: a reopen loads it and hides the same events.
  EXPECT_GT(wait_for_background_checkpoints(store, 1), 0u);
  const StoreStats before = store.stats();
  ASSERT_TRUE(store.close());
  options.durability = Durability::kSync;
  auto reopened = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(reopened) << reopened.error().to_string();
  EXPECT_EQ((*reopened)->open_report().index_source, IndexSource::kCheckpoint)
      << (*reopened)->open_report().index_source_reason;
  EXPECT_EQ((*reopened)->stats().event_count, before.event_count);
  EXPECT_EQ((*reopened)->stats().last_global_sequence, before.last_global_sequence);
  EXPECT_EQ((*reopened)->cancelled_ranges(), cancelled);
}

INSTANTIATE_TEST_SUITE_P(Durabilities, FenceConcurrency,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         durability_name);

}  // namespace
}  // namespace batpak::testing
