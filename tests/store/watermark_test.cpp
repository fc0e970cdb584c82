// Watermarks (batpak/frontier.hpp): their order invariants after every operation, the
// waits, and the applied watermark's appliers.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "batpak/batpak.hpp"
#include "support/durability_names.hpp"
#include "support/fault_fs.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);

class WatermarkTest : public DurabilityStoreFixture {
 protected:
  Result<Receipt> append(const std::string& entity) {
    return store_->append(Coordinate::make(entity, "s").value(), kKind, {});
  }
  // accepted >= written >= durable; accepted >= visible >= applied; nothing went back.
  void expect_invariants(const char* after) {
    const Frontier f = store_->frontier();
    EXPECT_GE(f.accepted, f.written) << after;
    EXPECT_GE(f.written, f.durable) << after;
    EXPECT_GE(f.accepted, f.visible) << after;
    EXPECT_GE(f.visible, f.applied) << after;
    for (Watermark w : {Watermark::kAccepted, Watermark::kWritten, Watermark::kDurable, Watermark::kVisible,
                        Watermark::kApplied}) {
      EXPECT_GE(f.at(w), last_.at(w)) << after << ": watermark " << static_cast<int>(w) << " moved back";
    }
    last_ = f;
  }
  Frontier last_;
};

TEST_P(WatermarkTest, OrderInvariantsHoldAfterEveryOperation) {
  expect_invariants("open");
  auto applier = store_->register_applier("projector");
  ASSERT_TRUE(applier);
  for (int round = 0; round < 3; ++round) {
    auto r = append("a");
    ASSERT_TRUE(r);
    expect_invariants("append");
    std::vector<BatchItem> batch(3, BatchItem{Coordinate::make("b", "s").value(), kKind, {}, {}});
    ASSERT_TRUE(store_->append_batch(batch));
    expect_invariants("batch");
    ASSERT_TRUE(store_->wait_for_visible(point_of(*r), 10000));
    ASSERT_TRUE(applier->advance(point_of(*r)));
    expect_invariants("applier advance");
    auto fence = store_->begin_fence();
    ASSERT_TRUE(fence);
    expect_invariants("begin fence");
    ASSERT_TRUE(fence->append(Coordinate::make("c", "s").value(), kKind, {}));
    expect_invariants("fenced append");
    ASSERT_TRUE(round % 2 == 0 ? fence->commit() : fence->cancel());
    expect_invariants("fence end");
    ASSERT_TRUE(store_->sync());
    expect_invariants("sync");
  }
  const Frontier f = store_->frontier();
  EXPECT_EQ(f.accepted, f.durable) << "after sync() everything accepted is durable";
  EXPECT_EQ(f.visible.global_sequence, 15u);
}

TEST_P(WatermarkTest, AReceiptPointIsDurableAndVisibleOnceWaitedFor) {
  auto r = append("a");
  ASSERT_TRUE(r);
  if (GetParam() == Durability::kSync) {
    EXPECT_GE(store_->frontier().durable, point_of(*r)) << "kSync returns once durable";
  }
  EXPECT_TRUE(store_->wait_for_durable(point_of(*r), 10000));
  EXPECT_TRUE(store_->wait_for_visible(point_of(*r), 10000));
  EXPECT_GE(store_->frontier().written, point_of(*r));
}

TEST_P(WatermarkTest, AWaitForAPointNotReachedTimesOutWithBothPoints) {
  auto r = append("a");
  ASSERT_TRUE(r);
  ASSERT_TRUE(store_->wait_for_durable(point_of(*r), 10000));
  const HlcPoint future{r->wall_ms, r->global_sequence + 1};
  auto check = store_->wait_for_durable(future, 0);
  ASSERT_FALSE(check) << "a zero timeout just checks";
  EXPECT_EQ(check.error().code, ErrorCode::kTimeout);
  auto waited = store_->wait_for_visible(future, 20);
  ASSERT_FALSE(waited);
  EXPECT_EQ(waited.error().code, ErrorCode::kTimeout);
  EXPECT_NE(waited.error().message.find("visible"), std::string::npos) << waited.error().message;
  EXPECT_NE(waited.error().message.find("global sequence 2"), std::string::npos) << waited.error().message;
}

TEST_P(WatermarkTest, AWaitWakesWhenAnotherThreadAppends) {
  auto waiter = std::async(std::launch::async, [&] { return store_->wait_for_durable(HlcPoint{0, 1}, 30000); });
  ASSERT_TRUE(append("a"));
  EXPECT_TRUE(waiter.get());
}

TEST_P(WatermarkTest, CloseWakesWaitersWithClosed) {
  auto waiter = std::async(std::launch::async, [&] { return store_->wait_for_visible(HlcPoint{0, 99}, 30000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(store_->close());
  auto outcome = waiter.get();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kClosed);
}

TEST_P(WatermarkTest, ReopenStartsEveryWatermarkAtTheLastEvent) {
  ASSERT_TRUE(append("a"));
  auto r = append("b");
  ASSERT_TRUE(r);
  open(options());
  const Frontier f = store_->frontier();
  for (Watermark w : {Watermark::kAccepted, Watermark::kWritten, Watermark::kDurable, Watermark::kVisible,
                      Watermark::kApplied}) {
    EXPECT_EQ(f.at(w), (HlcPoint{r->wall_ms, 2})) << static_cast<int>(w);
  }
}

TEST_P(WatermarkTest, AppliedIsTheLowestApplierAndMovesOnlyThroughThem) {
  auto one = append("a");
  auto two = append("a");
  ASSERT_TRUE(one && two);
  ASSERT_TRUE(store_->wait_for_visible(point_of(*two), 10000));
  EXPECT_EQ(store_->frontier().applied.global_sequence, 0u) << "no applier: applied stays";
  auto fast = store_->register_applier("fast");
  auto slow = store_->register_applier("slow");
  ASSERT_TRUE(fast && slow);
  auto duplicate = store_->register_applier("fast");
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::kConflict);

  auto waiter = std::async(std::launch::async, [&] { return store_->wait_for_applied(point_of(*one), 30000); });
  ASSERT_TRUE(fast->advance(point_of(*two)));
  EXPECT_EQ(store_->frontier().applied.global_sequence, 0u) << "held back by the slow applier";
  ASSERT_TRUE(slow->advance(point_of(*one)));
  EXPECT_TRUE(waiter.get());
  EXPECT_EQ(store_->frontier().applied.global_sequence, 1u);
  ASSERT_TRUE(slow->advance(HlcPoint{0, 0})) << "a lower claim is ignored";
  EXPECT_EQ(store_->frontier().applied.global_sequence, 1u);

  auto beyond = fast->advance(HlcPoint{two->wall_ms, 3});
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code, ErrorCode::kInvalidArgument);
  { Applier gone = std::move(*slow); }  // Unregistered: only "fast" holds applied now.
  EXPECT_EQ(store_->frontier().applied.global_sequence, 2u);
  auto late = store_->register_applier("late");
  ASSERT_TRUE(late);
  EXPECT_EQ(store_->frontier().applied.global_sequence, 2u) << "a new applier starts at the applied point";
}

INSTANTIATE_TEST_SUITE_P(Durabilities, WatermarkTest,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         durability_name);

// A failed fsync poisons the writer: waiters on a point it cannot reach wake with kPoisoned
// at once instead of waiting out their timeout.
TEST(WatermarkFailureTest, AWriterFailureWakesWaitersWithTheError) {
  TempDir dir;
  auto fs = std::make_shared<FaultFs>();
  StoreOptions options;
  options.fs = fs;
  auto store = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(store);
  auto waiter = std::async(std::launch::async, [&] { return (*store)->wait_for_durable(HlcPoint{0, 1}, 60000); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  fs->fail_nth_sync(1);
  auto failed = (*store)->append(Coordinate::make("a", "s").value(), kKind, {});
  ASSERT_FALSE(failed);
  const auto started = std::chrono::steady_clock::now();
  auto outcome = waiter.get();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kPoisoned) << outcome.error().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30)) << "woken, not timed out";
  auto later = (*store)->wait_for_durable(HlcPoint{0, 1}, 0);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().code, ErrorCode::kPoisoned) << "and so is every later wait";
}

}  // namespace
}  // namespace batpak::testing
