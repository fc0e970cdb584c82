// Store::drop_history through the public API. Invariants proved here: only whole sealed
// segments below the requested sequence go, never the newest; everything kept reads, queries
// and verifies as before, through every kind of reopen; each entity keeps its generation and
// its chain (the next append links to the last event before the horizon); dropped events and
// their idempotency keys are gone; a durable cursor that has not consumed the dropped events
// refuses the drop with nothing changed.
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <tuple>

#include "batpak/cursor.hpp"
#include "store/store_fixtures.hpp"

namespace batpak::store_test {
namespace {

constexpr int kEvents = 60;
constexpr int kEntities = 4;

std::string entity_of(int i) { return "e" + std::to_string(i % kEntities); }

std::string segment_name(uint64_t segment_id) {
  char name[32];
  std::snprintf(name, sizeof name, "%012llu.seg", static_cast<unsigned long long>(segment_id));
  return name;
}

class DropHistoryTest : public StoreTest {
 protected:
  // Writes kEvents events over several 4 KiB segments, each with idempotency key "k<i>" and
  // a wall_ms one second after the one before (from a 2023 clock), and closes the store.
  void write_history() {
    StoreOptions options = small_segments();
    auto clock = std::make_shared<ManualClock>(1'700'000'000'000'000);
    options.clock = clock;
    auto store = open(options);
    ASSERT_TRUE(store);
    for (int i = 0; i < kEvents; ++i) {
      clock->advance_ms(1000);
      AppendOptions o;
      o.idempotency_key = "k" + std::to_string(i);
      auto r = store->append(coord(entity_of(i)), kKindA, bytes(std::string(100, char('a' + i % 26))), o);
      ASSERT_TRUE(r) << r.error().to_string();
      receipts_.push_back(*r);
    }
    ASSERT_TRUE(store->close());
  }

  static StoreOptions small_segments() {
    StoreOptions options;
    options.segment_bytes_max = 4096;
    return options;
  }

  DropHistoryReport drop(uint64_t before, DropHistoryOptions options = {}) {
    auto report = Store::drop_history(dir(), before, std::move(options));
    EXPECT_TRUE(report) << report.error().to_string();
    return report ? *report : DropHistoryReport{};
  }

  // Every receipt below `first_sequence` is gone from `store` (not found, neither by get nor
  // by verify_receipt); every other one reads back and verifies.
  void expect_kept_from(const Store& store, uint64_t first_sequence) {
    for (const Receipt& r : receipts_) {
      auto got = store.get(r.event_id);
      auto verified = store.verify_receipt(r);
      if (r.global_sequence < first_sequence) {
        ASSERT_FALSE(got) << "event " << r.global_sequence << " was dropped";
        EXPECT_EQ(got.error().code, ErrorCode::kNotFound);
        ASSERT_FALSE(verified) << "event " << r.global_sequence << " was dropped";
        EXPECT_EQ(verified.error().code, ErrorCode::kNotFound) << verified.error().to_string();
      } else {
        ASSERT_TRUE(got) << "event " << r.global_sequence << ": " << got.error().to_string();
        EXPECT_EQ(got->header.event_hash, r.event_hash);
        EXPECT_TRUE(verified) << "event " << r.global_sequence << ": " << verified.error().to_string();
      }
    }
    if (first_sequence > 1) {  // A receipt of an unknown event above the horizon is false.
      Receipt forged = receipts_.back();
      forged.event_id.bytes[15] ^= 1;
      auto refused = store.verify_receipt(forged);
      ASSERT_FALSE(refused);
      EXPECT_EQ(refused.error().code, ErrorCode::kInvalidSignature);
    }
    auto all = store.query(Region::all());
    ASSERT_TRUE(all) << all.error().to_string();
    ASSERT_EQ(all->size(), kEvents - (first_sequence - 1));
    EXPECT_EQ(all->front().header.global_sequence, first_sequence);
    auto report = store.verify();
    ASSERT_TRUE(report) << report.error().to_string();
    EXPECT_TRUE(report->ok()) << report->damage->reason;
    EXPECT_EQ(report->events_checked, kEvents - (first_sequence - 1));
  }

  // Each entity's replay plan over all kinds, field by field.
  using PlanFields = std::tuple<std::vector<uint64_t>, uint64_t, uint64_t, Hash32, uint64_t>;
  static std::vector<PlanFields> plans_of(const Store& store) {
    std::vector<PlanFields> out;
    for (int i = 0; i < kEntities; ++i) {
      auto plan = store.replay_plan(entity_of(i), {});
      EXPECT_TRUE(plan) << plan.error().to_string();
      if (!plan) return out;
      EXPECT_GT(plan->dropped_generation, 0u) << entity_of(i) << " lost events to the drop";
      out.emplace_back(plan->global_sequences, plan->watermark, plan->generation, plan->head_hash,
                       plan->dropped_generation);
    }
    return out;
  }

  std::vector<Receipt> receipts_;
};

TEST_F(DropHistoryTest, OnlyWholeSealedSegmentsBelowTheSequenceGo) {
  write_history();
  const size_t segments_before = segment_files(dir()).size();
  ASSERT_GE(segments_before, 4u);
  const DropHistoryReport report = drop(30);
  EXPECT_GE(report.segments_removed, 1u);
  EXPECT_LE(report.first_sequence, 30u);  // The segment holding event 30 stays whole.
  EXPECT_GT(report.first_sequence, 1u);
  EXPECT_EQ(report.events_removed, report.first_sequence - 1);
  EXPECT_EQ(report.first_segment_id, report.segments_removed + 1);
  EXPECT_GT(report.bytes_removed, report.events_removed * 100);
  EXPECT_EQ(segment_files(dir()).size(), segments_before - report.segments_removed);
  EXPECT_EQ(segment_files(dir()).front(), segment_name(report.first_segment_id));

  auto store = open(small_segments());
  ASSERT_TRUE(store);
  expect_kept_from(*store, report.first_sequence);
  EXPECT_EQ(store->stats().event_count, kEvents - report.events_removed);
  EXPECT_EQ(store->stats().last_global_sequence, static_cast<uint64_t>(kEvents));
  EXPECT_EQ(store->stats().first_global_sequence, report.first_sequence);
}

TEST_F(DropHistoryTest, EveryReopenPathSeesTheSameJournalAfterTheHorizon) {
  write_history();
  const DropHistoryReport report = drop(40);
  EXPECT_FALSE(std::filesystem::exists(tmp_.sub("store/index.checkpoint")));  // Taken at the old horizon.
  struct Path {
    bool checkpoint;
    bool footers;
    IndexSource source;
  };
  // Loads the footers that the drop wrote (twice), then the checkpoint that close wrote, and
  // finally scans everything again with both off.
  const Path paths[] = {{false, true, IndexSource::kFullScan},
                        {false, true, IndexSource::kFullScan},
                        {true, true, IndexSource::kFullScan},
                        {true, true, IndexSource::kCheckpoint},
                        {false, false, IndexSource::kFullScan}};
  bool footers_loaded = false;
  std::optional<std::vector<PlanFields>> first_plans;  // What projections read, by the first path.
  for (const Path& path : paths) {
    StoreOptions options = small_segments();
    options.index_checkpoint = path.checkpoint;
    options.segment_footers = path.footers;
    auto store = open(options);
    ASSERT_TRUE(store);
    expect_kept_from(*store, report.first_sequence);
    const std::vector<PlanFields> plans = plans_of(*store);
    if (!first_plans) first_plans = plans;
    EXPECT_EQ(plans, *first_plans) << "replay plans differ by reopen path";
    EXPECT_EQ(store->open_report().index_source, path.source) << store->open_report().index_source_reason;
    footers_loaded = footers_loaded || store->open_report().segments_from_footers > 0;
    ASSERT_TRUE(store->close());
  }
  EXPECT_TRUE(footers_loaded);
}

// The drop removes the index checkpoint, which had replaced the footers of the segments it
// covered; it writes those footers again, so the next open scans only the newest segment.
TEST_F(DropHistoryTest, TheKeptSealedSegmentsGetTheirFootersBack) {
  write_history();
  const auto footers = [this] {
    size_t n = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir())) n += entry.path().extension() == ".footer";
    return n;
  };
  ASSERT_TRUE(std::filesystem::exists(tmp_.sub("store/index.checkpoint")));
  ASSERT_EQ(footers(), 0u) << "the checkpoint covers every sealed segment";
  drop(40);
  const size_t sealed = segment_files(dir()).size() - 1;
  ASSERT_GE(sealed, 1u);
  EXPECT_EQ(footers(), sealed);
  StoreOptions read_only = small_segments();
  read_only.access = AccessMode::kReadOnly;
  auto store = open(read_only);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->open_report().segments_from_footers, sealed);
  EXPECT_TRUE(store->open_report().segment_footer_fallbacks.empty()) << store->open_report().segment_footer_fallbacks[0];
  EXPECT_LT(store->open_report().frames_scanned, store->stats().event_count) << "only the newest is scanned";
}

// The time bound keeps the first event at or after it, with everything after; with both
// bounds, the earlier event found rules.
TEST_F(DropHistoryTest, ATimeBoundKeepsTheFirstEventAtOrAfterIt) {
  write_history();
  const auto wall_ms_of = [this](uint64_t sequence) { return receipts_.at(sequence - 1).wall_ms; };
  const auto drop_by_time = [this](uint64_t before_sequence, uint64_t before_wall_ms) {
    DropHistoryOptions options;
    options.before_wall_ms = before_wall_ms;
    return drop(before_sequence, options);
  };
  ASSERT_LT(wall_ms_of(1), wall_ms_of(2));
  EXPECT_EQ(drop_by_time(UINT64_MAX, wall_ms_of(1)).segments_removed, 0u) << "every event is at or after it";

  const DropHistoryReport both = drop_by_time(20, wall_ms_of(45));
  EXPECT_GT(both.segments_removed, 0u);
  EXPECT_LE(both.first_sequence, 20u) << "the sequence bound is the earlier one";
  EXPECT_EQ(drop(20).segments_removed, 0u) << "the same as the sequence bound alone";

  const DropHistoryReport by_time = drop_by_time(UINT64_MAX, wall_ms_of(30) - 1);
  EXPECT_LE(by_time.first_sequence, 30u);
  EXPECT_EQ(drop(30).segments_removed, 0u) << "the same as a sequence bound at that event";
  EXPECT_EQ(drop(30).first_sequence, by_time.first_sequence);

  const DropHistoryReport everything = drop_by_time(UINT64_MAX, UINT64_MAX - 1);
  EXPECT_EQ(segment_files(dir()).size(), 1u) << "a bound after every event keeps only the newest segment";
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  expect_kept_from(*store, everything.first_sequence);
}

TEST_F(DropHistoryTest, ACheckpointIsLoadedOnlyWithTheHorizonItWasTakenAt) {
  write_history();
  drop(30);
  { ASSERT_TRUE(open(small_segments())); }  // Its close writes a checkpoint at this horizon.
  const std::string checkpoint = tmp_.sub("store/index.checkpoint");
  const std::string kept = tmp_.sub("checkpoint-at-first-horizon");
  std::filesystem::copy_file(checkpoint, kept);
  const DropHistoryReport later = drop(50);
  EXPECT_GT(later.segments_removed, 0u);
  std::filesystem::copy_file(kept, checkpoint);  // As if the drop had not removed it.
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  EXPECT_EQ(store->open_report().index_source, IndexSource::kFullScan);
  EXPECT_NE(store->open_report().index_source_reason.find("another history horizon"), std::string::npos)
      << store->open_report().index_source_reason;
  expect_kept_from(*store, later.first_sequence);
}

TEST_F(DropHistoryTest, EntitiesKeepTheirGenerationAndTheirChainContinues) {
  write_history();
  std::map<std::string, Receipt> heads;
  for (const Receipt& r : receipts_) heads[r.entity] = r;
  const DropHistoryReport report = drop(UINT64_MAX);  // Everything but the newest segment.
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  for (const auto& [entity, head] : heads) {
    EXPECT_EQ(store->entity_generation(entity), head.clock) << entity;
    auto next = store->append(coord(entity), kKindB, bytes("after"));
    ASSERT_TRUE(next) << next.error().to_string();
    EXPECT_EQ(next->clock, head.clock + 1);
    EXPECT_EQ(next->prev_hash, head.event_hash) << entity;
    // The walk back stops at the horizon: no event before it is found.
    auto walked = store->walk_ancestors(next->event_id, 1000);
    ASSERT_TRUE(walked) << walked.error().to_string();
    for (const Event& e : *walked) EXPECT_GE(e.header.global_sequence, report.first_sequence);
  }
  auto verified = store->verify();
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok()) << verified->damage->reason;
  ASSERT_TRUE(store->close());
  auto reopened = open(small_segments());  // The new links verify after a reopen too.
  ASSERT_TRUE(reopened);
  auto again = reopened->verify();
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->ok()) << again->damage->reason;
}

TEST_F(DropHistoryTest, ADroppedEventsKeyIsForgottenAndAKeptOnesIsNot) {
  write_history();
  const DropHistoryReport report = drop(30);
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  auto dropped = store->receipt_for_key("k0");
  ASSERT_TRUE(dropped) << dropped.error().to_string();
  EXPECT_FALSE(dropped->has_value());
  auto kept = store->receipt_for_key("k" + std::to_string(kEvents - 1));
  ASSERT_TRUE(kept) << kept.error().to_string();
  ASSERT_TRUE(kept->has_value());
  EXPECT_EQ((*kept)->event_id, receipts_.back().event_id);
  EXPECT_GT(report.first_sequence, 1u);
}

TEST_F(DropHistoryTest, DroppingAgainAtTheSameSequenceRemovesNothing) {
  write_history();
  const DropHistoryReport first = drop(30);
  const DropHistoryReport second = drop(30);
  EXPECT_EQ(second.segments_removed, 0u);
  EXPECT_EQ(second.events_removed, 0u);
  EXPECT_EQ(second.first_sequence, first.first_sequence);
  EXPECT_EQ(second.first_segment_id, first.first_segment_id);
  const DropHistoryReport later = drop(50);  // A second drop continues from the first.
  EXPECT_GT(later.first_sequence, first.first_sequence);
  EXPECT_EQ(later.events_removed, later.first_sequence - first.first_sequence);
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  expect_kept_from(*store, later.first_sequence);
}

TEST_F(DropHistoryTest, ACursorBehindTheNewHorizonRefusesTheDropUnlessIgnored) {
  write_history();
  {
    auto store = open(small_segments());
    ASSERT_TRUE(store);
    auto cursor = Cursor::resume(*store, Region::all(), "slow");
    ASSERT_TRUE(cursor) << cursor.error().to_string();
    auto batch = cursor->poll_batch(3);
    ASSERT_TRUE(batch);
    ASSERT_TRUE(cursor->commit());
  }
  const auto files_before = segment_files(dir());
  auto refused = Store::drop_history(dir(), 30);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kCursorBehind);
  EXPECT_NE(refused.error().message.find("slow.ckpt"), std::string::npos) << refused.error().message;
  EXPECT_EQ(segment_files(dir()), files_before);
  EXPECT_FALSE(std::filesystem::exists(tmp_.sub("store/horizon")));

  DropHistoryOptions options;
  options.ignore_cursors = true;
  const DropHistoryReport report = drop(30, options);
  EXPECT_GE(report.segments_removed, 1u);
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  auto cursor = Cursor::resume(*store, Region::all(), "slow");  // It resumes at the horizon.
  ASSERT_TRUE(cursor) << cursor.error().to_string();
  auto next = cursor->poll();
  ASSERT_TRUE(next && next->has_value());
  EXPECT_EQ((*next)->header.global_sequence, report.first_sequence);
}

TEST_F(DropHistoryTest, ACursorCheckpointRemovedOrMovedPastTheHorizonNoLongerHoldsTheDropBack) {
  write_history();
  {
    auto store = open(small_segments());
    ASSERT_TRUE(store);
    for (const char* id : {"retired", "slow"}) {
      auto cursor = Cursor::resume(*store, Region::all(), id);
      ASSERT_TRUE(cursor && cursor->poll_batch(3));
      ASSERT_TRUE(cursor->commit());
    }
    ASSERT_TRUE(Cursor::remove_checkpoint(*store, "retired"));
  }
  auto refused = Store::drop_history(dir(), 30);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("slow.ckpt"), std::string::npos) << refused.error().message;
  {
    auto store = open(small_segments());
    ASSERT_TRUE(store);
    ASSERT_TRUE(Cursor::move_checkpoint(*store, "slow", 29));
  }
  const DropHistoryReport report = drop(30);
  EXPECT_GE(report.segments_removed, 1u);
}

TEST_F(DropHistoryTest, BadCallsChangeNothing) {
  write_history();
  const auto files_before = segment_files(dir());
  auto zero = Store::drop_history(dir(), 0);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().code, ErrorCode::kInvalidArgument);
  {
    auto store = open(small_segments());
    ASSERT_TRUE(store);
    auto locked = Store::drop_history(dir(), 30);
    ASSERT_FALSE(locked);
    EXPECT_EQ(locked.error().code, ErrorCode::kStoreLocked);
  }
  auto missing = Store::drop_history(tmp_.sub("nothing-here"), 30);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  const DropHistoryReport none = drop(1);
  EXPECT_EQ(none.segments_removed, 0u);
  EXPECT_EQ(none.first_sequence, 1u);
  EXPECT_EQ(segment_files(dir()), files_before);
}

TEST_F(DropHistoryTest, ABackupOfADroppedStoreStartsAtItsHorizon) {
  write_history();
  const DropHistoryReport report = drop(30);
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  auto backup = store->backup(tmp_.sub("copy"));
  ASSERT_TRUE(backup) << backup.error().to_string();
  StoreOptions options;
  options.access = AccessMode::kReadOnly;
  auto copy = Store::open(tmp_.sub("copy"), options);
  ASSERT_TRUE(copy) << copy.error().to_string();
  expect_kept_from(**copy, report.first_sequence);
}

}  // namespace
}  // namespace batpak::store_test
