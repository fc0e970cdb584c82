// Store::import_from: the events of one store copied into another.
// Invariants proved here: every selected event up to the source's visible watermark is counted
// exactly once (imported, already present, shredded or filtered); an event is never copied
// twice; a copy into an empty store reproduces the source exactly; a refused call writes
// nothing (so does a resume where the source no longer is); the batches committed before an
// error stay, and a rerun completes the copy.
#include "store_fixtures.hpp"

namespace batpak::store_test {
namespace {

class ImportFromTest : public StoreTest {
 protected:
  std::unique_ptr<Store> open_at(const std::string& name, StoreOptions options = {}) {
    auto store = Store::open(tmp_.sub(name), std::move(options));
    EXPECT_TRUE(store.has_value()) << store.error().to_string();
    return store ? std::move(*store) : nullptr;
  }

  static std::vector<Event> all_events(const Store& store) {
    auto all = store.query(Region::all());
    EXPECT_TRUE(all.has_value());
    return all ? *all : std::vector<Event>{};
  }

  // Appends `count` events to `entity`, payloads "<entity>-<n>".
  static void fill(Store& store, std::string_view entity, int count, EventKind kind = kKindA) {
    for (int n = 0; n < count; ++n) {
      ASSERT_TRUE(store.append(coord(entity), kind, bytes(std::string(entity) + "-" + std::to_string(n))));
    }
  }
};

TEST_F(ImportFromTest, ACopyIntoAnEmptyStoreReproducesTheSourceExactly) {
  auto source = open_at("a");
  ASSERT_NE(source, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(root, source->append(coord("order:1", "shop"), kKindA, bytes("placed")));
  AppendOptions child;
  child.causation_id = root.event_id;
  child.flags = 7;
  child.payload_version = 2;
  ASSERT_TRUE(source->append(coord("payment:1", "bank"), kKindB, bytes("charged"), child));
  AppendOptions keyed;
  keyed.idempotency_key = "ship-1";
  ASSERT_TRUE(source->append(coord("order:1", "shop"), kKindA, bytes("shipped"), keyed));
  std::vector<BatchItem> batch{{coord("order:2", "shop"), kKindA, bytes("b1"), {}},
                               {coord("order:1", "shop"), kKindB, {}, {}}};
  ASSERT_TRUE(source->append_batch(batch));

  auto copy = open_at("b");
  ASSERT_NE(copy, nullptr);
  ImportOptions two_per_batch;
  two_per_batch.chunk_events = 2;
  BATPAK_ASSERT_OK_AND_ASSIGN(report, copy->import_from(*source, {}, two_per_batch));
  EXPECT_EQ(report.imported, 5u);
  EXPECT_EQ(report.already_present + report.skipped_shredded + report.skipped_filtered, 0u);
  EXPECT_EQ(report.source_visible_sequence, 5u);

  const std::vector<Event> original = all_events(*source);
  const std::vector<Event> copied = all_events(*copy);
  ASSERT_EQ(copied.size(), original.size());
  for (size_t i = 0; i < copied.size(); ++i) expect_same_event(copied[i], original[i]);
  BATPAK_ASSERT_OK_AND_ASSIGN(receipt, copy->receipt_for_key("ship-1"));
  ASSERT_TRUE(receipt.has_value());
  EXPECT_EQ(receipt->global_sequence, 3u);
  BATPAK_ASSERT_OK_AND_ASSIGN(verified, copy->verify());
  EXPECT_TRUE(verified.ok());
}

TEST_F(ImportFromTest, ARerunCopiesNothingTwiceAndTheWatermarkResumes) {
  auto source = open_at("a");
  auto copy = open_at("b");
  ASSERT_TRUE(source && copy);
  fill(*source, "x", 5);
  BATPAK_ASSERT_OK_AND_ASSIGN(first, copy->import_from(*source));
  EXPECT_EQ(first.imported, 5u);

  BATPAK_ASSERT_OK_AND_ASSIGN(again, copy->import_from(*source));
  EXPECT_EQ(again.imported, 0u);
  EXPECT_EQ(again.already_present, 5u);
  EXPECT_EQ(copy->stats().event_count, 5u);

  fill(*source, "y", 3);
  ImportSelection later;
  later.after_global_sequence = first.source_visible_sequence;
  BATPAK_ASSERT_OK_AND_ASSIGN(resumed, copy->import_from(*source, later));
  EXPECT_EQ(resumed.imported, 3u);
  EXPECT_EQ(resumed.already_present, 0u);
  EXPECT_EQ(resumed.source_visible_sequence, 8u);

  // The copy takes its own appends too; a later import interleaves after them.
  ASSERT_TRUE(copy->append(coord("local"), kKindB, bytes("mine")));
  fill(*source, "z", 1);
  later.after_global_sequence = resumed.source_visible_sequence;
  BATPAK_ASSERT_OK_AND_ASSIGN(last, copy->import_from(*source, later));
  EXPECT_EQ(last.imported, 1u);
  const std::vector<Event> copied = all_events(*copy);
  ASSERT_EQ(copied.size(), 10u);
  EXPECT_EQ(copied[8].coordinate.entity(), "local");
  EXPECT_EQ(copied[9].payload, bytes("z-0"));
  EXPECT_EQ(copied[9].header.global_sequence, 10u);  // The copy's own order, not the source's 9.
}

TEST_F(ImportFromTest, EventsAppendedToTheSourceDuringTheCallAreLeftForTheNextOne) {
  auto source = open_at("a");
  auto copy = open_at("b");
  ASSERT_TRUE(source && copy);
  fill(*source, "x", 3);
  ImportOptions options;
  options.chunk_events = 2;  // The second page holds event 3 and the first late one.
  int late = 0;
  options.filter = [&](const Event&) {
    if (late++ < 3) {
      EXPECT_TRUE(source->append(coord("late"), kKindA, bytes("late")));
    }
    return true;
  };
  BATPAK_ASSERT_OK_AND_ASSIGN(report, copy->import_from(*source, {}, options));
  EXPECT_EQ(report.source_visible_sequence, 3u);
  EXPECT_EQ(report.imported, 3u);
  EXPECT_EQ(copy->stats().event_count, 3u);
  EXPECT_EQ(source->stats().event_count, 6u);
}

TEST_F(ImportFromTest, ABatchPartlyCommittedByAnotherImportMeanwhileGoesOneEventAtATime) {
  auto source = open_at("a");
  auto copy = open_at("b");
  ASSERT_TRUE(source && copy);
  fill(*source, "x", 4);
  const Event second = all_events(*source)[1];
  ImportOptions options;
  options.chunk_events = 4;
  // Runs after the second event passed the already-present check, before the batch commits.
  options.filter = [&](const Event& e) {
    if (e.header.global_sequence == 4) {
      EXPECT_TRUE(copy->import_event(second));
    }
    return true;
  };
  BATPAK_ASSERT_OK_AND_ASSIGN(report, copy->import_from(*source, {}, options));
  EXPECT_EQ(report.imported, 3u);
  EXPECT_EQ(report.already_present, 1u);
  const std::vector<Event> copied = all_events(*copy);
  ASSERT_EQ(copied.size(), 4u);
  EXPECT_EQ(copied[0].header.event_id, second.header.event_id);
  EXPECT_EQ(copied[3].payload, bytes("x-3"));
}

TEST_F(ImportFromTest, TheSelectionAndTheFilterChooseWhatIsCopied) {
  auto source = open_at("a");
  auto copy = open_at("b");
  ASSERT_TRUE(source && copy);
  fill(*source, "order:1", 3);
  fill(*source, "order7", 2);  // Not in namespace "order".
  fill(*source, "order:2", 2, kKindB);
  fill(*source, "order:3", 1);

  ImportSelection selection;
  selection.region = Region::entity("order");
  selection.after_global_sequence = 1;  // Skips order:1's first event.
  ImportOptions options;
  options.chunk_events = 3;
  std::vector<uint64_t> offered;
  options.filter = [&](const Event& e) {
    offered.push_back(e.header.global_sequence);
    return e.header.kind == kKindA;
  };
  BATPAK_ASSERT_OK_AND_ASSIGN(report, copy->import_from(*source, selection, options));
  EXPECT_EQ(offered, (std::vector<uint64_t>{2, 3, 6, 7, 8}));
  EXPECT_EQ(report.imported, 3u);          // order:1 #2, #3 and order:3.
  EXPECT_EQ(report.skipped_filtered, 2u);  // order:2's two kKindB events.
  const std::vector<Event> copied = all_events(*copy);
  ASSERT_EQ(copied.size(), 3u);
  EXPECT_EQ(copied[0].payload, bytes("order:1-1"));
  EXPECT_EQ(copied[1].payload, bytes("order:1-2"));
  EXPECT_EQ(copied[2].payload, bytes("order:3-0"));
}

TEST_F(ImportFromTest, ShreddedPayloadsAreCountedNotCopiedAndSealedOnesAreResealedHere) {
  StoreOptions encrypting;
  encrypting.encrypt_payloads = true;
  auto source = open_at("a", encrypting);
  ASSERT_NE(source, nullptr);
  fill(*source, "alice", 2);
  fill(*source, "bob", 3);
  BATPAK_ASSERT_OK(source->shred_entity("alice"));

  auto plain = open_at("plain");
  ASSERT_NE(plain, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, plain->import_from(*source));
  EXPECT_EQ(report.skipped_shredded, 2u);
  EXPECT_EQ(report.imported, 3u);
  const std::vector<Event> copied = all_events(*plain);
  ASSERT_EQ(copied.size(), 3u);
  EXPECT_EQ(copied[0].payload, bytes("bob-0"));
  EXPECT_FALSE(copied[0].header.payload_encrypted);

  auto sealed = open_at("sealed", encrypting);
  ASSERT_NE(sealed, nullptr);
  BATPAK_ASSERT_OK(sealed->import_from(*source));
  const std::vector<Event> resealed = all_events(*sealed);
  ASSERT_EQ(resealed.size(), 3u);
  EXPECT_TRUE(resealed[2].header.payload_encrypted);
  EXPECT_EQ(resealed[2].payload, bytes("bob-2"));
  BATPAK_ASSERT_OK(sealed->shred_entity("bob"));  // The copy's own key, not the source's.
  EXPECT_TRUE(all_events(*sealed)[0].payload_shredded);
  EXPECT_EQ(all_events(*source)[2].payload, bytes("bob-0"));

  // One shredded event offered on its own is refused, not imported empty.
  Event gone = all_events(*source)[0];
  ASSERT_TRUE(gone.payload_shredded);
  BATPAK_EXPECT_ERROR(plain->import_event(gone), ErrorCode::kInvalidArgument);
  EXPECT_EQ(plain->stats().event_count, 3u);
}

TEST_F(ImportFromTest, RefusedCallsWriteNothing) {
  auto source = open_at("a");
  ASSERT_NE(source, nullptr);
  fill(*source, "x", 2);
  BATPAK_EXPECT_ERROR(source->import_from(*source), ErrorCode::kInvalidArgument);
  auto copy = open_at("b");
  ASSERT_NE(copy, nullptr);
  ImportOptions options;
  options.chunk_events = 0;
  BATPAK_EXPECT_ERROR(copy->import_from(*source, {}, options), ErrorCode::kInvalidArgument);
  options.chunk_events = StoreOptions{}.batch_events_max + 1;
  BATPAK_EXPECT_ERROR(copy->import_from(*source, {}, options), ErrorCode::kInvalidArgument);
  EXPECT_EQ(copy->stats().event_count, 0u);
  BATPAK_ASSERT_OK(copy->close());

  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  auto reader = open_at("b", read_only);
  ASSERT_NE(reader, nullptr);
  BATPAK_EXPECT_ERROR(reader->import_from(*source), ErrorCode::kReadOnly);
}

// A source never takes back a visible event, so resuming past its end means it lost events
// the copy holds (an unsynced tail a power cut took) or is another store: a follower must stop.
TEST_F(ImportFromTest, AStartPastTheSourcesVisibleEndIsAConflictAndWritesNothing) {
  auto source = open_at("a");
  auto copy = open_at("b");
  ASSERT_NE(source, nullptr);
  ASSERT_NE(copy, nullptr);
  fill(*source, "x", 2);
  BATPAK_EXPECT_ERROR(copy->import_from(*source, ImportSelection{Region::all(), 3, {}}), ErrorCode::kConflict);
  EXPECT_EQ(copy->stats().event_count, 0u);
  auto at_end = copy->import_from(*source, ImportSelection{Region::all(), 2, {}});
  ASSERT_TRUE(at_end.has_value()) << at_end.error().to_string();
  EXPECT_EQ(at_end->imported, 0u);
  EXPECT_EQ(at_end->source_visible_sequence, 2u);
}

// The id at the watermark catches what the sequence alone cannot: a source that lost events
// and then grew past the watermark again (here: another store in their place), whose events
// up to it a resumed import would skip without a word.
TEST_F(ImportFromTest, AResumeWhoseStartEventChangedIsAConflictAndWritesNothing) {
  auto source = open_at("a");
  auto copy = open_at("b");
  auto other = open_at("c");
  ASSERT_NE(source, nullptr);
  ASSERT_NE(copy, nullptr);
  ASSERT_NE(other, nullptr);
  fill(*source, "x", 3);
  BATPAK_ASSERT_OK_AND_ASSIGN(first, copy->import_from(*source));
  auto third = source->query_after(Region::all(), 2, 1);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(first.source_visible_event_id, third->at(0).header.event_id);
  const ImportSelection resume{Region::all(), first.source_visible_sequence, first.source_visible_event_id};

  fill(*other, "y", 5);
  BATPAK_EXPECT_ERROR(copy->import_from(*other, resume), ErrorCode::kConflict);
  EXPECT_EQ(copy->stats().event_count, 3u);
  fill(*source, "x", 2);  // The real source, grown: the resume goes on.
  BATPAK_ASSERT_OK_AND_ASSIGN(later, copy->import_from(*source, resume));
  EXPECT_EQ(later.imported, 2u);
  EXPECT_EQ(later.source_visible_sequence, 5u);
  // Without the id the other store's first three events would go unseen.
  BATPAK_ASSERT_OK_AND_ASSIGN(unchecked, copy->import_from(*other, ImportSelection{Region::all(), 3, {}}));
  EXPECT_EQ(unchecked.imported, 2u);
}

// A source of 100 events in 4 KiB segments of which the first `copied` were imported into
// "b", then its sealed segments dropped: the event at the copy's watermark is gone, not lost.
TEST_F(ImportFromTest, AResumeAfterAStartEventTheSourceDroppedWithItsHistoryGoesOn) {
  constexpr uint64_t kCopied = 40;
  StoreOptions small_segments;
  small_segments.segment_bytes_max = 4096;
  auto source = open_at("a", small_segments);
  auto copy = open_at("b");
  ASSERT_NE(source, nullptr);
  ASSERT_NE(copy, nullptr);
  fill(*source, "x", static_cast<int>(kCopied));
  BATPAK_ASSERT_OK_AND_ASSIGN(first, copy->import_from(*source));
  ASSERT_EQ(first.source_visible_sequence, kCopied);
  fill(*source, "x", 60);
  ASSERT_TRUE(source->close());
  source.reset();
  BATPAK_ASSERT_OK(Store::drop_history(tmp_.sub("a"), 100));
  source = open_at("a", small_segments);
  ASSERT_NE(source, nullptr);
  const uint64_t horizon = source->stats().first_global_sequence;
  ASSERT_GT(horizon, kCopied + 1) << "the watermark's event must be among the dropped ones";

  BATPAK_ASSERT_OK_AND_ASSIGN(holds, source->holds_event_at(kCopied, first.source_visible_event_id));
  EXPECT_TRUE(holds);
  const ImportSelection resume{Region::all(), kCopied, first.source_visible_event_id};
  BATPAK_ASSERT_OK_AND_ASSIGN(later, copy->import_from(*source, resume));
  EXPECT_EQ(later.imported, 100 - horizon + 1) << "the events from the horizon on";
  EXPECT_EQ(later.source_visible_sequence, 100u);
}

TEST_F(ImportFromTest, HoldsEventAtIsFalseForAnotherEventOrAPositionPastTheEnd) {
  auto store = open_at("a");
  ASSERT_NE(store, nullptr);
  fill(*store, "x", 2);
  auto events = all_events(*store);
  ASSERT_EQ(events.size(), 2u);
  const EventId first = events[0].header.event_id;
  const EventId second = events[1].header.event_id;
  BATPAK_ASSERT_OK_AND_ASSIGN(same, store->holds_event_at(2, second));
  EXPECT_TRUE(same);
  BATPAK_ASSERT_OK_AND_ASSIGN(other, store->holds_event_at(2, first));
  EXPECT_FALSE(other);
  BATPAK_ASSERT_OK_AND_ASSIGN(past_end, store->holds_event_at(3, second));
  EXPECT_FALSE(past_end);
}

TEST_F(ImportFromTest, BatchesBeforeAnErrorStayAndARerunCompletesTheCopy) {
  auto source = open_at("a");
  ASSERT_NE(source, nullptr);
  fill(*source, "x", 4);
  ASSERT_TRUE(source->append(coord("x"), kKindA, std::vector<uint8_t>(100, 'p')));
  fill(*source, "y", 2);

  StoreOptions small;
  small.payload_bytes_max = 50;
  small.batch_bytes_max = 8;  // Three 3-byte payloads do not fit: batches split by bytes too.
  {
    auto copy = open_at("b", small);
    ASSERT_NE(copy, nullptr);
    ImportOptions options;
    options.chunk_events = 4;
    BATPAK_EXPECT_ERROR(copy->import_from(*source, {}, options), ErrorCode::kTooLarge);
    EXPECT_EQ(copy->stats().event_count, 4u);  // Two batches of two; the 100-byte event is refused.
    BATPAK_ASSERT_OK(copy->close());
  }
  auto copy = open_at("b");
  ASSERT_NE(copy, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(rerun, copy->import_from(*source));
  EXPECT_EQ(rerun.already_present, 4u);
  EXPECT_EQ(rerun.imported, 3u);
  const std::vector<Event> original = all_events(*source);
  const std::vector<Event> copied = all_events(*copy);
  ASSERT_EQ(copied.size(), original.size());
  for (size_t i = 0; i < copied.size(); ++i) expect_same_event(copied[i], original[i]);
}

TEST_F(ImportFromTest, ASnapshotOfAStoreAnotherHandleWritesCanBeTheSource) {
  auto writer = open_at("a");
  ASSERT_NE(writer, nullptr);
  fill(*writer, "x", 3);
  StoreOptions snapshot;
  snapshot.access = AccessMode::kReadSnapshot;
  auto source = open_at("a", snapshot);
  ASSERT_NE(source, nullptr);
  fill(*writer, "x", 2);  // After the snapshot: not seen.
  auto copy = open_at("b");
  ASSERT_NE(copy, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, copy->import_from(*source));
  EXPECT_EQ(report.imported, 3u);
  EXPECT_EQ(report.source_visible_sequence, 3u);
}

}  // namespace
}  // namespace batpak::store_test
