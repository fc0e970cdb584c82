// AccessMode::kReadSnapshot: reading a store that a writer holds. Invariants proved here: a
// snapshot takes no lock, holds every append that returned before it was opened and nothing
// committed after, and never shows the events of a fence that is still open, even when the
// fence begins while the snapshot reads the segments. (tests/crash/snapshot_live_test.cpp
// reads snapshots of a store that another process appends to.)
#include <functional>

#include "store/store_fixtures.hpp"

namespace batpak::store_test {
namespace {

StoreOptions snapshot_options() {
  StoreOptions o;
  o.access = AccessMode::kReadSnapshot;
  return o;
}

class Snapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.segment_bytes_max = 4096;  // Several segments.
    auto writer = Store::open(dir(), o);
    ASSERT_TRUE(writer) << writer.error().to_string();
    writer_ = std::move(*writer);
  }
  std::string dir() const { return tmp_.sub("store"); }
  void append(int n, std::string_view entity = "e") {
    for (int i = 0; i < n; ++i) {
      BATPAK_ASSERT_OK(writer_->append(coord(entity), kKindA, std::vector<uint8_t>(100, static_cast<uint8_t>(i))));
    }
  }

  testing::TempDir tmp_;
  std::unique_ptr<Store> writer_;
};

TEST_F(Snapshot, ReadsAStoreAWriterHoldsAsItStoodWhenOpened) {
  append(50);
  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  BATPAK_EXPECT_ERROR(Store::open(dir(), read_only), ErrorCode::kStoreLocked);
  BATPAK_ASSERT_OK_AND_ASSIGN(first, Store::open(dir(), snapshot_options()));
  EXPECT_EQ(first->stats().event_count, 50u);
  EXPECT_EQ(first->entity_generation("e"), 50u);
  append(10);
  EXPECT_EQ(first->stats().event_count, 50u);  // A snapshot does not move.
  BATPAK_ASSERT_OK_AND_ASSIGN(second, Store::open(dir(), snapshot_options()));
  EXPECT_EQ(second->stats().event_count, 60u);
  BATPAK_ASSERT_OK_AND_ASSIGN(events, second->query(Region::entity("e")));
  ASSERT_EQ(events.size(), 60u);
  EXPECT_EQ(events.back().header.clock, 60u);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, second->verify());
  EXPECT_TRUE(report.ok());
  BATPAK_EXPECT_ERROR(second->append(coord("e"), kKindA, bytes("x")), ErrorCode::kReadOnly);
}

// The files cannot prove the last commit group durable while its writer runs (its fdatasync
// is recorded only by the next group's frames, or by a clean close), so a snapshot's durable
// watermark stops before it. tests/crash/read_only_durable_power_cut_test.cpp proves the
// watermark against power cuts.
TEST_F(Snapshot, ItsDurableWatermarkStopsBeforeTheLastCommitGroupUntilTheWriterCloses) {
  append(3);
  std::vector<BatchItem> batch(2, BatchItem{coord("e"), kKindB, bytes("b"), {}});
  ASSERT_TRUE(writer_->append_batch(batch));
  BATPAK_ASSERT_OK_AND_ASSIGN(live, Store::open(dir(), snapshot_options()));
  EXPECT_EQ(live->frontier().visible.global_sequence, 5u);
  EXPECT_EQ(live->frontier().durable.global_sequence, 3u);  // The batch is the last group.
  BATPAK_ASSERT_OK_AND_ASSIGN(third, writer_->query_after(Region::all(), 2, 1));
  EXPECT_EQ(live->frontier().durable.wall_ms, third.at(0).header.wall_ms);
  BATPAK_ASSERT_OK(writer_->close());
  BATPAK_ASSERT_OK_AND_ASSIGN(closed, Store::open(dir(), snapshot_options()));
  EXPECT_EQ(closed->frontier().durable, closed->frontier().visible);
  EXPECT_EQ(closed->frontier().durable.global_sequence, 5u);
}

TEST_F(Snapshot, TakesNoLockSoTheWriterCanCloseAndReopenUnderIt) {
  append(5);
  BATPAK_ASSERT_OK_AND_ASSIGN(snapshot, Store::open(dir(), snapshot_options()));
  BATPAK_ASSERT_OK(writer_->close());
  writer_.reset();
  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, Store::open(dir()));  // Not kStoreLocked.
  BATPAK_ASSERT_OK(reopened->append(coord("e"), kKindA, bytes("after")));
  EXPECT_EQ(snapshot->stats().event_count, 5u);
  BATPAK_ASSERT_OK_AND_ASSIGN(events, snapshot->query(Region::entity("e")));
  EXPECT_EQ(events.size(), 5u);
}

TEST_F(Snapshot, HidesTheEventsOfAnOpenFenceUntilItCommits) {
  append(3);
  BATPAK_ASSERT_OK_AND_ASSIGN(fence, writer_->begin_fence());
  BATPAK_ASSERT_OK(fence.append(coord("f"), kKindA, bytes("fenced")));
  BATPAK_ASSERT_OK_AND_ASSIGN(during, Store::open(dir(), snapshot_options()));
  EXPECT_EQ(during->stats().event_count, 3u);
  EXPECT_EQ(during->entity_generation("f"), 0u);
  EXPECT_FALSE(during->open_report().open_fence_cancelled);  // Live, not left by a crash.
  BATPAK_ASSERT_OK(fence.commit());
  BATPAK_ASSERT_OK_AND_ASSIGN(after, Store::open(dir(), snapshot_options()));
  EXPECT_EQ(after->stats().event_count, 4u);
  EXPECT_EQ(after->entity_generation("f"), 1u);
}

// Passes everything to the real file system, and runs `on_list` at the first list_dir: after
// the open has read the fence file, before it reads the segments.
class ListHookFs final : public Fs {
 public:
  explicit ListHookFs(std::function<void()> on_list) : on_list_(std::move(on_list)) {}
  int lists() const { return lists_; }
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override { return base_->open(path, mode); }
  Status create_dir(const std::string& path) override { return base_->create_dir(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override {
    if (lists_++ == 0) on_list_();
    return base_->list_dir(path);
  }
  Result<bool> exists(const std::string& path) override { return base_->exists(path); }
  Status remove(const std::string& path) override { return base_->remove(path); }
  Status rename(const std::string& from, const std::string& to) override { return base_->rename(from, to); }
  Status sync_dir(const std::string& path) override { return base_->sync_dir(path); }
  Result<std::unique_ptr<FileLock>> lock(const std::string& path) override { return base_->lock(path); }

 private:
  std::shared_ptr<Fs> base_ = posix_fs();
  std::function<void()> on_list_;
  int lists_ = 0;
};

TEST_F(Snapshot, AFenceBegunWhileTheSnapshotReadsMakesItReadAgainAndStayHidden) {
  append(3);
  std::optional<Fence> fence;
  auto fs = std::make_shared<ListHookFs>([&] {
    auto begun = writer_->begin_fence();
    ASSERT_TRUE(begun) << begun.error().to_string();
    fence.emplace(std::move(*begun));
    BATPAK_ASSERT_OK(fence->append(coord("f"), kKindA, bytes("fenced")));
  });
  StoreOptions o = snapshot_options();
  o.fs = fs;
  BATPAK_ASSERT_OK_AND_ASSIGN(snapshot, Store::open(dir(), o));
  ASSERT_TRUE(fence.has_value());
  EXPECT_GE(fs->lists(), 2) << "the snapshot was not read again after its fence file changed";
  EXPECT_EQ(snapshot->stats().event_count, 3u);
  EXPECT_EQ(snapshot->entity_generation("f"), 0u);
  BATPAK_ASSERT_OK(fence->cancel());
}

}  // namespace
}  // namespace batpak::store_test
