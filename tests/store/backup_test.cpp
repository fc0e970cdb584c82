// Store::backup through the public API. Invariants proved here: the copy opens as a store
// of its own that verifies and holds every event that returned before the call, byte for
// byte (in every durability mode, across segments and batches); fences keep their meaning
// in it (cancelled ranges stay hidden, an open fence's events are hidden for good); a
// destination that exists is refused with nothing written.
#include <filesystem>

#include "store/store_fixtures.hpp"
#include "support/durability_names.hpp"

namespace batpak::store_test {
namespace {

// Every event of `receipts` read from `copy` equals the one read from `source`.
void expect_copy_holds(const Store& source, const Store& copy, const std::vector<Receipt>& receipts) {
  for (const Receipt& r : receipts) {
    auto want = source.get(r.event_id);
    auto got = copy.get(r.event_id);
    ASSERT_TRUE(want) << want.error().to_string();
    ASSERT_TRUE(got) << "event " << r.global_sequence << ": " << got.error().to_string();
    expect_same_event(*want, *got);
  }
}

std::unique_ptr<Store> open_copy(const std::string& dir) {
  StoreOptions options;
  options.access = AccessMode::kReadOnly;
  auto copy = Store::open(dir, options);
  EXPECT_TRUE(copy) << copy.error().to_string();
  return copy ? std::move(*copy) : nullptr;
}

void expect_verifies(const Store& store) {
  auto report = store.verify();
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_TRUE(report->ok()) << report->damage->reason;
}

class BackupModes : public StoreTest, public ::testing::WithParamInterface<Durability> {};

TEST_P(BackupModes, TheCopyHoldsEveryReturnedAppendAcrossSegmentsAndBatches) {
  StoreOptions options;
  options.durability = GetParam();
  options.segment_bytes_max = 4096;  // Several segments.
  auto store = open(options);
  ASSERT_TRUE(store);
  std::vector<Receipt> receipts;
  for (int i = 0; i < 60; ++i) {
    auto r = store->append(coord("e" + std::to_string(i % 4)), kKindA, bytes(std::string(100, char('a' + i % 26))));
    ASSERT_TRUE(r) << r.error().to_string();
    receipts.push_back(*r);
  }
  std::vector<BatchItem> batch{{coord("e0"), kKindB, bytes("one"), {}}, {coord("e9"), kKindB, bytes("two"), {}}};
  auto batched = store->append_batch(batch);
  ASSERT_TRUE(batched) << batched.error().to_string();
  receipts.insert(receipts.end(), batched->begin(), batched->end());

  auto report = store->backup(tmp_.sub("copy"));  // No sync(): the backup makes them durable itself.
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->last_sequence, 62u);
  EXPECT_EQ(report->segments, store->stats().segment_count);
  EXPECT_GT(report->segments, 2u);
  EXPECT_FALSE(std::filesystem::exists(tmp_.sub("copy.partial")));

  auto copy = open_copy(tmp_.sub("copy"));
  ASSERT_TRUE(copy);
  expect_copy_holds(*store, *copy, receipts);
  expect_verifies(*copy);
  EXPECT_EQ(copy->stats().last_global_sequence, 62u);
  EXPECT_EQ(copy->entity_generation("e0"), store->entity_generation("e0"));
  EXPECT_FALSE(copy->open_report().torn_tail);
  for (const Receipt& r : receipts) EXPECT_TRUE(copy->verify_receipt(r)) << r.global_sequence;
}

INSTANTIATE_TEST_SUITE_P(Durability, BackupModes,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         testing::durability_name);

TEST_F(StoreTest, BackupOfAnEmptyStoreOpensEmpty) {
  auto store = open();
  ASSERT_TRUE(store);
  auto report = store->backup(tmp_.sub("copy"));
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->last_sequence, 0u);
  auto copy = open_copy(tmp_.sub("copy"));
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->stats().event_count, 0u);
}

TEST_F(StoreTest, BackupRefusesADestinationThatExists) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->append(coord("a"), kKindA, bytes("x")));
  std::filesystem::create_directory(tmp_.sub("taken"));
  std::filesystem::create_directory(tmp_.sub("half.partial"));
  for (const std::string& destination : {tmp_.sub("taken"), tmp_.sub("half"), dir(), dir() + "/", std::string()}) {
    auto report = store->backup(destination);
    ASSERT_FALSE(report) << destination;
    EXPECT_EQ(report.error().code, ErrorCode::kInvalidArgument) << destination;
  }
  EXPECT_TRUE(std::filesystem::is_empty(tmp_.sub("taken")));
  EXPECT_TRUE(std::filesystem::is_empty(tmp_.sub("half.partial")));
  EXPECT_FALSE(std::filesystem::exists(tmp_.sub("half")));
}

TEST_F(StoreTest, BackupKeepsCancelledFencesHiddenAndHidesAnOpenFenceForGood) {
  auto store = open();
  ASSERT_TRUE(store);
  auto before = store->append(coord("a"), kKindA, bytes("before"));
  ASSERT_TRUE(before);
  {
    auto cancelled = store->begin_fence();
    ASSERT_TRUE(cancelled) << cancelled.error().to_string();
    ASSERT_TRUE(cancelled->append(coord("a"), kKindA, bytes("cancelled")));
    ASSERT_TRUE(cancelled->cancel());
  }
  auto after = store->append(coord("a"), kKindA, bytes("after"));
  ASSERT_TRUE(after);
  auto open_fence = store->begin_fence();
  ASSERT_TRUE(open_fence) << open_fence.error().to_string();
  auto held = open_fence->append(coord("a"), kKindA, bytes("held"));
  ASSERT_TRUE(held);

  auto report = store->backup(tmp_.sub("copy"));
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->last_sequence, 4u);
  ASSERT_TRUE(open_fence->commit());  // Committed in the source after the cut: not in the copy.

  StoreOptions options;  // Read-write: the open fence is ended as after a crash.
  auto copy = Store::open(tmp_.sub("copy"), options);
  ASSERT_TRUE(copy) << copy.error().to_string();
  expect_copy_holds(*store, **copy, {*before, *after});
  auto hidden = (*copy)->get(held->event_id);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code, ErrorCode::kNotFound);
  EXPECT_EQ((*copy)->entity_generation("a"), 2u);
  const std::vector<SequenceRange> want{{2, 3}, {4, 5}};
  EXPECT_EQ((*copy)->cancelled_ranges(), want);
  expect_verifies(**copy);
}

TEST_F(StoreTest, BackupOfAReadOnlyStoreCopiesWhatItOpened) {
  std::vector<Receipt> receipts;
  {
    StoreOptions options;
    options.segment_bytes_max = 4096;
    auto store = open(options);
    ASSERT_TRUE(store);
    for (int i = 0; i < 40; ++i) {
      auto r = store->append(coord("e"), kKindA, bytes(std::string(200, 'r')));
      ASSERT_TRUE(r);
      receipts.push_back(*r);
    }
  }
  StoreOptions options;
  options.access = AccessMode::kReadOnly;
  auto store = open(options);
  ASSERT_TRUE(store);
  auto report = store->backup(tmp_.sub("copy"));
  ASSERT_TRUE(report) << report.error().to_string();
  EXPECT_EQ(report->last_sequence, 40u);
  auto copy = open_copy(tmp_.sub("copy"));
  ASSERT_TRUE(copy);
  expect_copy_holds(*store, *copy, receipts);
  expect_verifies(*copy);
}

TEST_F(StoreTest, BackupOfASalvageModeStoreIsRefused) {
  { ASSERT_TRUE(open()); }
  StoreOptions options;
  options.access = AccessMode::kSalvage;
  auto store = open(options);
  ASSERT_TRUE(store);
  auto report = store->backup(tmp_.sub("copy"));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kUnsupported);
  EXPECT_FALSE(std::filesystem::exists(tmp_.sub("copy.partial")));
}

TEST_F(StoreTest, BackupOfAClosedStoreFailsWithClosed) {
  auto store = open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->close());
  auto report = store->backup(tmp_.sub("copy"));
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().code, ErrorCode::kClosed);
}

}  // namespace
}  // namespace batpak::store_test
