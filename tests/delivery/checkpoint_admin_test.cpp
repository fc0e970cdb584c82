// Managing durable cursor checkpoints (Cursor::list_checkpoints, remove_checkpoint,
// move_checkpoint). Invariants proved here: a listing shows every checkpoint file, damaged
// ones with their error, never skipping one; a removal is durable and leaves a later resume
// starting over (tests/crash/cursor_power_cut_test.cpp proves both survive a power cut);
// a move keeps the checkpoint's region, never runs ahead of the durable
// journal, and a failed one leaves the old position; nothing changes on a refused call.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "batpak/batpak.hpp"
#include "delivery/checkpoint.hpp"
#include "support/fault_fs.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

class CheckpointAdminTest : public StoreFixture<> {
 protected:
  void SetUp() override { open(); }

  uint64_t append(const std::string& entity) { return append_event(entity); }

  // Resumes checkpoint `id` over `region`, delivers up to `count` events and commits them.
  void commit_after(const std::string& id, const Region& region, size_t count) {
    auto cursor = Cursor::resume(*store_, region, id);
    ASSERT_TRUE(cursor) << cursor.error().to_string();
    ASSERT_TRUE(cursor->poll_batch(count));
    ASSERT_TRUE(cursor->commit());
  }

  // The position a fresh resume of `id` over `region` starts after.
  uint64_t resumed_position(const std::string& id, const Region& region) {
    auto cursor = Cursor::resume(*store_, region, id);
    EXPECT_TRUE(cursor) << cursor.error().to_string();
    return cursor ? cursor->position() : UINT64_MAX;
  }

  std::string store_dir() const { return dir_.sub("store"); }
  std::string path_of(const std::string& id) const { return delivery::checkpoint_path(store_dir(), id); }

  void reopen_read_only() {
    StoreOptions options;
    options.access = AccessMode::kReadOnly;
    open(options);
  }
};

TEST_F(CheckpointAdminTest, AStoreWithoutCheckpointsListsNone) {
  auto listed = Cursor::list_checkpoints(*store_);
  ASSERT_TRUE(listed) << listed.error().to_string();
  EXPECT_TRUE(listed->empty());
}

TEST_F(CheckpointAdminTest, ListShowsEveryCheckpointSortedWithItsPositionRegionAndDistanceFromTheEnd) {
  for (int i = 0; i < 3; ++i) append("order:" + std::to_string(i));
  append("user:1");
  append("order:9");
  commit_after("shipping", Region::entity("order"), 2);  // Delivers 1, 2.
  commit_after("audit", Region::all(), 4);               // Delivers 1 .. 4.
  std::ofstream(path_of("shipping") + ".tmp") << "a write cut short";  // No checkpoint.

  auto listed = Cursor::list_checkpoints(*store_);
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 2u);
  const CursorCheckpointInfo& audit = (*listed)[0];
  EXPECT_EQ(audit.checkpoint_id, "audit");
  EXPECT_EQ(audit.position, 4u);
  EXPECT_EQ(audit.region_identity, Region::all().identity());
  EXPECT_EQ(audit.sequences_behind, 1u);
  EXPECT_EQ(audit.pending_events, 1u);
  EXPECT_FALSE(audit.error);
  const CursorCheckpointInfo& shipping = (*listed)[1];
  EXPECT_EQ(shipping.checkpoint_id, "shipping");
  EXPECT_EQ(shipping.position, 2u);
  EXPECT_EQ(shipping.region_identity, Region::entity("order").identity());
  EXPECT_EQ(shipping.sequences_behind, 3u);
  EXPECT_EQ(shipping.pending_events, 2u) << "order:2 and order:9; user:1 is not in its region";
  EXPECT_FALSE(shipping.error);
}

TEST_F(CheckpointAdminTest, PendingEventsCountsTheRegionsBacklogAsACursorSeesIt) {
  for (int i = 0; i < 6; ++i) append(i % 2 == 0 ? "order:" + std::to_string(i) : "user:" + std::to_string(i));
  const Region orders = Region::entity("order");
  auto cursor = Cursor::resume(*store_, orders, "orders");
  ASSERT_TRUE(cursor);
  EXPECT_EQ(cursor->pending_events(), 3u);
  ASSERT_TRUE(cursor->poll());
  EXPECT_EQ(cursor->pending_events(), 2u);
  ASSERT_TRUE(cursor->commit());
  ASSERT_TRUE(delivery::save_checkpoint(*posix_fs(), store_dir(), "unreadable-region", {1, "not a region identity"}));
  auto listed = Cursor::list_checkpoints(*store_);
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].pending_events, 2u);
  EXPECT_EQ((*listed)[1].checkpoint_id, "unreadable-region");
  EXPECT_FALSE((*listed)[1].pending_events) << "no region to count in";
  EXPECT_FALSE((*listed)[1].error) << "the file itself is whole";
  EXPECT_EQ((*listed)[1].sequences_behind, 5u);
}

TEST_F(CheckpointAdminTest, ADamagedOrForeignCheckpointIsListedWithTheErrorResumeWouldGive) {
  append("e");
  commit_after("good", Region::all(), 1);
  std::ofstream(path_of("damaged"), std::ios::binary) << "not a checkpoint";
  ASSERT_TRUE(delivery::save_checkpoint(*posix_fs(), store_dir(), "foreign", {7, Region::all().identity()}));

  auto listed = Cursor::list_checkpoints(*store_);
  ASSERT_TRUE(listed) << listed.error().to_string();
  ASSERT_EQ(listed->size(), 3u);
  const CursorCheckpointInfo& damaged = (*listed)[0];
  EXPECT_EQ(damaged.checkpoint_id, "damaged");
  ASSERT_TRUE(damaged.error);
  EXPECT_EQ(damaged.error->code, ErrorCode::kCorruption) << damaged.error->to_string();
  EXPECT_EQ(damaged.error->file, path_of("damaged"));
  const CursorCheckpointInfo& foreign = (*listed)[1];
  ASSERT_TRUE(foreign.error);
  EXPECT_EQ(foreign.error->code, ErrorCode::kCheckpointMismatch) << foreign.error->to_string();
  EXPECT_EQ(foreign.position, 7u) << "the decoded position is shown";
  EXPECT_EQ(foreign.sequences_behind, 0u);
  EXPECT_FALSE(foreign.pending_events);
  EXPECT_FALSE(damaged.pending_events);
  EXPECT_EQ((*listed)[2].pending_events, 0u);
  EXPECT_EQ(Cursor::resume(*store_, Region::all(), "foreign").error().code, foreign.error->code);
  EXPECT_FALSE((*listed)[2].error);
}

TEST_F(CheckpointAdminTest, RemoveDeletesTheCheckpointSoAResumeStartsOver) {
  for (int i = 0; i < 3; ++i) append("e");
  commit_after("r", Region::all(), 2);
  commit_after("kept", Region::all(), 3);
  ASSERT_TRUE(Cursor::remove_checkpoint(*store_, "r"));
  EXPECT_FALSE(std::filesystem::exists(path_of("r")));
  auto listed = Cursor::list_checkpoints(*store_);
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().checkpoint_id, "kept");
  EXPECT_EQ(resumed_position("r", Region::entity("other")), 0u) << "a new cursor, with any region";
  EXPECT_EQ(resumed_position("kept", Region::all()), 3u);
}

TEST_F(CheckpointAdminTest, ADamagedCheckpointCanBeRemoved) {
  std::filesystem::create_directories(delivery::checkpoint_dir(store_dir()));
  std::ofstream(path_of("damaged"), std::ios::binary) << "not a checkpoint";
  ASSERT_TRUE(Cursor::remove_checkpoint(*store_, "damaged"));
  EXPECT_FALSE(std::filesystem::exists(path_of("damaged")));
}

TEST_F(CheckpointAdminTest, RefusedRemovesChangeNothing) {
  append("e");
  commit_after("r", Region::all(), 1);
  auto missing = Cursor::remove_checkpoint(*store_, "absent");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().file, path_of("absent"));
  for (const char* bad : {"", "../r", "a/b"}) {
    auto refused = Cursor::remove_checkpoint(*store_, bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument) << bad;
  }
  reopen_read_only();
  auto read_only = Cursor::remove_checkpoint(*store_, "r");
  ASSERT_FALSE(read_only);
  EXPECT_EQ(read_only.error().code, ErrorCode::kReadOnly);
  EXPECT_TRUE(std::filesystem::exists(path_of("r")));
  auto listed = Cursor::list_checkpoints(*store_);
  ASSERT_TRUE(listed) << "a read-only store lists its checkpoints";
  EXPECT_EQ(listed->size(), 1u);
}

TEST_F(CheckpointAdminTest, MoveSetsThePositionBackOrAheadAndKeepsTheRegion) {
  for (int i = 0; i < 6; ++i) append(i % 2 == 0 ? "order:1" : "user:1");
  commit_after("r", Region::entity("order"), 2);  // Delivers 1, 3.
  auto back = Cursor::move_checkpoint(*store_, "r", 0);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(*back, 3u) << "the move returns the position the checkpoint had";
  auto again = Cursor::resume(*store_, Region::entity("order"), "r");
  ASSERT_TRUE(again) << again.error().to_string();
  auto batch = again->poll_batch(10);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 3u) << "moved back: every order event again";
  EXPECT_EQ(batch->front().header.global_sequence, 1u);

  auto ahead = Cursor::move_checkpoint(*store_, "r", 5);
  ASSERT_TRUE(ahead) << ahead.error().to_string();
  EXPECT_EQ(*ahead, 0u);
  EXPECT_EQ(resumed_position("r", Region::entity("order")), 5u) << "moved ahead: 1, 3 and 5 skipped";
  auto other_region = Cursor::resume(*store_, Region::entity("user"), "r");
  ASSERT_FALSE(other_region);
  EXPECT_EQ(other_region.error().code, ErrorCode::kCheckpointMismatch) << "the region stays bound";
  ASSERT_TRUE(Cursor::move_checkpoint(*store_, "r", 6)) << "the journal's end is a position";
}

TEST_F(CheckpointAdminTest, RefusedMovesLeaveThePositionAsItWas) {
  for (int i = 0; i < 3; ++i) append("e");
  commit_after("r", Region::all(), 2);
  auto beyond = Cursor::move_checkpoint(*store_, "r", 4);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error().code, ErrorCode::kInvalidArgument) << beyond.error().to_string();
  auto missing = Cursor::move_checkpoint(*store_, "absent", 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path_of("absent"))) << "a move never makes a checkpoint";
  auto bad_id = Cursor::move_checkpoint(*store_, "a/b", 1);
  ASSERT_FALSE(bad_id);
  EXPECT_EQ(bad_id.error().code, ErrorCode::kInvalidArgument);
  std::ofstream(path_of("damaged"), std::ios::binary) << "not a checkpoint";
  auto damaged = Cursor::move_checkpoint(*store_, "damaged", 1);
  ASSERT_FALSE(damaged);
  EXPECT_EQ(damaged.error().code, ErrorCode::kCorruption);
  EXPECT_EQ(resumed_position("r", Region::all()), 2u);
  reopen_read_only();
  auto read_only = Cursor::move_checkpoint(*store_, "r", 1);
  ASSERT_FALSE(read_only);
  EXPECT_EQ(read_only.error().code, ErrorCode::kReadOnly);
  EXPECT_EQ(resumed_position("r", Region::all()), 2u);
}

// Invariant: a moved checkpoint never runs ahead of the durable journal (as for commit()).
TEST_F(CheckpointAdminTest, MoveMakesTheEventsUpToThePositionDurableFirst) {
  StoreOptions options;
  options.durability = Durability::kBuffered;
  options.sync_every_events = 1'000'000;  // No sync but the one the move asks for.
  options.sync_every_ms = 3'600'000;
  open(options);
  append("e");
  commit_after("r", Region::all(), 1);
  const uint64_t last = append("e");
  ASSERT_LT(store_->frontier().durable.global_sequence, last) << "the append is not durable yet";
  ASSERT_TRUE(Cursor::move_checkpoint(*store_, "r", last));
  EXPECT_GE(store_->frontier().durable.global_sequence, last);
}

// Invariant: a move that fails to write leaves the old position (the file is replaced
// atomically, as by commit()).
TEST_F(CheckpointAdminTest, AFailedMoveKeepsTheOldPosition) {
  auto fault = std::make_shared<FaultFs>();
  StoreOptions options;
  options.fs = fault;
  open(options);
  for (int i = 0; i < 3; ++i) append("e");
  commit_after("r", Region::all(), 2);
  fault->fail_nth_sync(1);  // The new checkpoint file's fsync.
  auto failed = Cursor::move_checkpoint(*store_, "r", 0);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kIo);
  EXPECT_EQ(resumed_position("r", Region::all()), 2u);
}

}  // namespace
}  // namespace batpak::testing
