// Cursors (include/batpak/cursor.hpp): ordered at-least-once pull, durable checkpoints bound
// to their region.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "batpak/batpak.hpp"
#include "delivery/checkpoint.hpp"
#include "support/fault_fs.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);

class CursorTest : public StoreFixture<> {
 protected:
  void SetUp() override { reopen(); }
  void reopen(StoreOptions options = {}) { open(std::move(options)); }
  uint64_t append(const std::string& entity) { return append_event(entity); }
  static std::vector<uint64_t> sequences(const std::vector<Event>& events) {
    std::vector<uint64_t> out;
    for (const Event& e : events) out.push_back(e.header.global_sequence);
    return out;
  }
  std::vector<uint64_t> drain(Cursor& cursor) {
    std::vector<uint64_t> out;
    while (true) {
      auto batch = cursor.poll_batch(2);
      EXPECT_TRUE(batch) << batch.error().to_string();
      if (!batch || batch->empty()) return out;
      for (uint64_t s : sequences(*batch)) out.push_back(s);
    }
  }

};

TEST_F(CursorTest, DeliversEachMatchingEventOnceInCommitOrderAndSeesLaterAppends) {
  append("order:1");
  append("user:1");
  append("order:2");
  Cursor cursor(*store_, Region::entity("order"));
  EXPECT_EQ(drain(cursor), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(drain(cursor), std::vector<uint64_t>{}) << "nothing is delivered twice";
  append("order:1");
  append("user:1");
  auto next = cursor.poll();
  ASSERT_TRUE(next && *next);
  EXPECT_EQ((*next)->header.global_sequence, 4u);
  EXPECT_EQ(cursor.position(), 4u);
  auto none = cursor.poll();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_F(CursorTest, PollBatchReturnsAtMostMaxAndStartsAfterTheGivenSequence) {
  for (int i = 0; i < 5; ++i) append("e");
  Cursor cursor(*store_, Region::all(), 2);
  auto batch = cursor.poll_batch(2);
  ASSERT_TRUE(batch);
  EXPECT_EQ(sequences(*batch), (std::vector<uint64_t>{3, 4}));
  EXPECT_TRUE(cursor.poll_batch(0)->empty());
  EXPECT_EQ(sequences(*cursor.poll_batch(10)), (std::vector<uint64_t>{5}));
}

TEST_F(CursorTest, CommittedPositionSurvivesReopenAndUncommittedEventsAreDeliveredAgain) {
  for (int i = 0; i < 6; ++i) append("e:" + std::to_string(i % 2));
  const Region region = Region::entity("e");
  {
    auto cursor = Cursor::resume(*store_, region, "reader");
    ASSERT_TRUE(cursor) << cursor.error().to_string();
    EXPECT_EQ(cursor->position(), 0u) << "no checkpoint yet: from the first event";
    EXPECT_EQ(sequences(*cursor->poll_batch(3)), (std::vector<uint64_t>{1, 2, 3}));
    ASSERT_TRUE(cursor->commit());
    EXPECT_EQ(sequences(*cursor->poll_batch(2)), (std::vector<uint64_t>{4, 5}));  // Not committed.
  }
  reopen();
  auto cursor = Cursor::resume(*store_, region, "reader");
  ASSERT_TRUE(cursor) << cursor.error().to_string();
  EXPECT_EQ(cursor->committed_position(), 3u);
  EXPECT_EQ(drain(*cursor), (std::vector<uint64_t>{4, 5, 6})) << "at least once: 4 and 5 again";
}

TEST_F(CursorTest, RollbackRedeliversEverythingAfterTheLastCommit) {
  for (int i = 0; i < 4; ++i) append("e");
  auto cursor = Cursor::resume(*store_, Region::all(), "r");
  ASSERT_TRUE(cursor);
  cursor->poll_batch(1);
  ASSERT_TRUE(cursor->commit());
  EXPECT_EQ(sequences(*cursor->poll_batch(2)), (std::vector<uint64_t>{2, 3}));
  cursor->rollback();
  EXPECT_EQ(cursor->position(), 1u);
  EXPECT_EQ(drain(*cursor), (std::vector<uint64_t>{2, 3, 4}));
}

TEST_F(CursorTest, CheckpointOfAnotherRegionFailsClosed) {
  append("e");
  auto cursor = Cursor::resume(*store_, Region::entity("e"), "r");
  ASSERT_TRUE(cursor);
  cursor->poll_batch(1);
  ASSERT_TRUE(cursor->commit());
  for (const Region& other : {Region::all(), Region::entity("e:1"), Region::entity("e").with_scope("s"),
                              Region::entity("e").with_kinds(KindFilter::exact(kKind)),
                              Region::entity("e").with_kinds(KindFilter::category(1)),
                              Region::entity("e").with_clock_range(1, 9)}) {
    auto mismatched = Cursor::resume(*store_, other, "r");
    ASSERT_FALSE(mismatched) << other.identity();
    EXPECT_EQ(mismatched.error().code, ErrorCode::kCheckpointMismatch) << mismatched.error().to_string();
    EXPECT_EQ(mismatched.error().file, cursor->checkpoint_path());
  }
  EXPECT_TRUE(Cursor::resume(*store_, Region::entity("e"), "r")) << "the same region still resumes";
}

TEST_F(CursorTest, CheckpointIdsThatAreNotSafeFileNamesAreRefused) {
  for (const std::string& id : {std::string(), std::string("a/b"), std::string(".."), std::string("a\nb"),
                                std::string("\xff"), std::string(201, 'x')}) {
    auto cursor = Cursor::resume(*store_, Region::all(), id);
    ASSERT_FALSE(cursor) << id;
    EXPECT_EQ(cursor.error().code, ErrorCode::kInvalidArgument) << id;
  }
  EXPECT_TRUE(Cursor::resume(*store_, Region::all(), std::string(200, 'x')));
}

TEST_F(CursorTest, CommitWithoutACheckpointIsInMemoryAndADurableOneNeedsAWritableStore) {
  append("e");
  append("e");
  Cursor plain(*store_, Region::all());
  plain.poll();
  ASSERT_TRUE(plain.commit());
  plain.poll();
  plain.rollback();
  EXPECT_EQ(plain.position(), 1u) << "rollback returns to the in-memory commit";
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("store/cursors"))) << "nothing written";
  store_.reset();
  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  reopen(read_only);
  auto cursor = Cursor::resume(*store_, Region::all(), "r");
  ASSERT_TRUE(cursor);
  cursor->poll();
  EXPECT_EQ(cursor->commit().error().code, ErrorCode::kReadOnly);
}

TEST_F(CursorTest, FailedCheckpointWriteKeepsTheOldCheckpoint) {
  auto fault = std::make_shared<FaultFs>();
  StoreOptions options;
  options.fs = fault;
  reopen(options);
  for (int i = 0; i < 3; ++i) append("e");
  auto cursor = Cursor::resume(*store_, Region::all(), "r");
  ASSERT_TRUE(cursor);
  cursor->poll();
  ASSERT_TRUE(cursor->commit());
  cursor->poll();
  fault->fail_nth_sync(1);  // The new checkpoint's fsync.
  auto failed = cursor->commit();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kIo);
  EXPECT_EQ(cursor->committed_position(), 1u);
  auto again = Cursor::resume(*store_, Region::all(), "r");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(again->position(), 1u) << "the old checkpoint is intact";
}

// Invariant: a checkpoint never runs ahead of the durable journal. kBuffered and kAsync
// events are visible before they are durable, so commit() first makes them durable.
TEST_F(CursorTest, CommitMakesTheEventsUpToItsPositionDurableFirst) {
  for (Durability durability : {Durability::kBuffered, Durability::kAsync}) {
    SCOPED_TRACE(static_cast<int>(durability));
    StoreOptions options;
    options.durability = durability;
    options.sync_every_events = 1'000'000;  // No sync but the one commit() asks for.
    options.sync_every_ms = 3'600'000;
    reopen(options);
    append("e");
    const uint64_t last = append("e");
    ASSERT_TRUE(store_->wait_for_visible(last - 1, 10'000)) << "kAsync: readable once written";
    auto cursor = Cursor::resume(*store_, Region::all(), "durable-" + std::to_string(static_cast<int>(durability)));
    ASSERT_TRUE(cursor) << cursor.error().to_string();
    EXPECT_EQ(drain(*cursor).back(), last);
    ASSERT_LT(store_->frontier().durable.global_sequence, last) << "the appends are not durable yet";
    ASSERT_TRUE(cursor->commit());
    EXPECT_GE(store_->frontier().durable.global_sequence, last);
  }
}

// Invariant: a checkpoint whose position is beyond the journal's end (copied from another
// store, or left by a journal that lost events) fails closed instead of skipping the events
// that will take those sequences.
TEST_F(CursorTest, ACheckpointBeyondTheJournalFailsClosed) {
  append("e");
  const std::string store_dir = dir_.sub("store");
  ASSERT_TRUE(delivery::save_checkpoint(*posix_fs(), store_dir, "ahead", {9, Region::all().identity()}));
  auto cursor = Cursor::resume(*store_, Region::all(), "ahead");
  ASSERT_FALSE(cursor);
  EXPECT_EQ(cursor.error().code, ErrorCode::kCheckpointMismatch) << cursor.error().to_string();
  EXPECT_EQ(cursor.error().file, delivery::checkpoint_path(store_dir, "ahead"));
  EXPECT_NE(cursor.error().message.find("beyond"), std::string::npos) << cursor.error().message;
  ASSERT_TRUE(delivery::save_checkpoint(*posix_fs(), store_dir, "ahead", {1, Region::all().identity()}));
  EXPECT_TRUE(Cursor::resume(*store_, Region::all(), "ahead")) << "at the journal's end it resumes";
}

TEST_F(CursorTest, WaitBatchWakesForAnAppendTimesOutAndSeesTheStoreClose) {
  Cursor cursor(*store_, Region::entity("wanted"));
  append("other");
  auto timed_out = cursor.wait_batch(10, 20);
  ASSERT_FALSE(timed_out);
  EXPECT_EQ(timed_out.error().code, ErrorCode::kTimeout) << "a non-matching event does not end the wait";
  std::thread appender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    append("wanted");
  });
  auto batch = cursor.wait_batch(10, 10000);
  appender.join();
  ASSERT_TRUE(batch) << batch.error().to_string();
  EXPECT_EQ(sequences(*batch), (std::vector<uint64_t>{2}));
  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(store_->close());
  });
  auto closed = cursor.wait_batch(10, 10000);
  closer.join();
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error().code, ErrorCode::kClosed);
}

TEST(RegionIdentity, IsDistinctPerFieldAndCannotBeImitatedByAString) {
  EXPECT_EQ(Region::entity("a").identity(), Region::entity("a").identity());
  EXPECT_EQ(Region::all().identity(), "entity=* scope=* kinds=any clock=*");
  EXPECT_EQ(Region::entity("order").with_kinds(KindFilter::category(1)).identity(),
            "entity=5:order scope=* kinds=category:1 clock=*");
  EXPECT_NE(Region::entity("x scope=1:y").identity(), Region::entity("x").with_scope("y").identity());
  EXPECT_NE(Region::entity("").identity(), Region::all().identity());
  EXPECT_NE(Region::all().with_clock_range(1, 2).identity(), Region::all().with_clock_range(1, 3).identity());
}

}  // namespace
}  // namespace batpak::testing
