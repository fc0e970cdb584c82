// Cursors and subscriptions following appenders: under ThreadSanitizer in CI. A cursor that
// follows the store while several threads append sees every matching event exactly once per
// cursor, in commit order, and a checkpointed cursor resumes without skipping. Subscribers
// that keep up see every event; one that never reads is pruned; subscribing and
// unsubscribing while events are published is safe.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "batpak/batpak.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr int kAppenders = 4;
constexpr int kEventsEach = 150;

TEST(CursorConcurrency, FollowerSeesEveryMatchingEventOnceInOrderWhileAppendersRun) {
  TempDir dir;
  StoreOptions options;
  options.durability = Durability::kAsync;
  options.segment_bytes_max = 32 * 1024;  // Rotations while the cursor reads.
  options.preallocate_bytes = 16 * 1024;
  auto store = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(store);
  std::vector<std::thread> appenders;
  for (int t = 0; t < kAppenders; ++t) {
    appenders.emplace_back([&, t] {
      const auto wanted = Coordinate::make("wanted:" + std::to_string(t), "s").value();
      const auto other = Coordinate::make("other:" + std::to_string(t), "s").value();
      for (int i = 0; i < kEventsEach; ++i) {
        ASSERT_TRUE((*store)->append(i % 3 == 0 ? other : wanted, EventKind(0x1001), {}));
      }
    });
  }
  const size_t expected = kAppenders * (kEventsEach - (kEventsEach + 2) / 3);
  auto cursor = Cursor::resume(**store, Region::entity("wanted"), "follower");
  ASSERT_TRUE(cursor);
  std::vector<Event> seen;
  while (seen.size() < expected) {
    auto batch = cursor->wait_batch(32, 10000);
    ASSERT_TRUE(batch) << batch.error().to_string() << " after " << seen.size();
    seen.insert(seen.end(), batch->begin(), batch->end());
    if (seen.size() % 64 < 32) {
      ASSERT_TRUE(cursor->commit());
    }
  }
  for (auto& t : appenders) t.join();
  ASSERT_EQ(seen.size(), expected);
  std::map<std::string, uint32_t> clocks;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (i > 0) {
      ASSERT_LT(seen[i - 1].header.global_sequence, seen[i].header.global_sequence);
    }
    ASSERT_TRUE(seen[i].coordinate.entity().starts_with("wanted:"));
    uint32_t& last = clocks[std::string(seen[i].coordinate.entity())];
    ASSERT_GT(seen[i].header.clock, last) << "per entity, clocks increase";
    last = seen[i].header.clock;
  }
  ASSERT_TRUE(cursor->commit());
  auto resumed = Cursor::resume(**store, Region::entity("wanted"), "follower");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->position(), seen.back().header.global_sequence);
}

TEST(SubscriptionConcurrency, SubscribersKeepUpGetPrunedAndComeAndGoWhileAppendersRun) {
  TempDir dir;
  auto store = Store::open(dir.sub("store"));
  ASSERT_TRUE(store);
  auto roomy = (*store)->subscribe(Region::all(), kAppenders * kEventsEach);
  auto never_read = (*store)->subscribe(Region::all(), 1);
  std::atomic<bool> done{false};
  std::thread churn([&] {
    while (!done.load()) (*store)->subscribe(Region::entity("wanted"), 4).reset();
  });
  std::vector<std::thread> appenders;
  for (int t = 0; t < kAppenders; ++t) {
    appenders.emplace_back([&, t] {
      const auto coordinate = Coordinate::make("wanted:" + std::to_string(t), "s").value();
      for (int i = 0; i < kEventsEach / 3; ++i) ASSERT_TRUE((*store)->append(coordinate, EventKind(0x1001), {}));
    });
  }
  uint64_t last = 0;
  for (int i = 0; i < kAppenders * (kEventsEach / 3); ++i) {
    auto n = roomy->recv(10000);
    ASSERT_TRUE(n) << n.error().to_string();
    ASSERT_GT(n->global_sequence, last);
    last = n->global_sequence;
  }
  for (auto& t : appenders) t.join();
  done.store(true);
  churn.join();
  EXPECT_EQ(last, static_cast<uint64_t>(kAppenders * (kEventsEach / 3)));
  EXPECT_TRUE(never_read->pruned());
}

}  // namespace
}  // namespace batpak::testing
