// Projections after Store::drop_history. Invariants proved here: a state folded without the
// entity's dropped events says so (observation, cache row, evidence finding); a cache row
// folded at the entity's last dropped event or later still serves, and advances, a
// whole-history state, also when every relevant event was dropped; a row folded before it
// is a miss (never an error, never advanced over the gap).
#include <gtest/gtest.h>

#include "projection/projection_fixtures.hpp"

namespace batpak::testing {
namespace {

constexpr int kFillers = 60;  // Enough 4 KiB segments that the carts' events are all dropped.

class ProjectAfterDrop : public ProjectionStoreTest {
 protected:
  void open() {
    StoreOptions options;
    options.projection_cache = cache_;
    options.segment_bytes_max = 4096;
    open_store(std::move(options));
  }
  // Appends irrelevant events to another entity, closes the store, drops every segment but
  // the newest (so every cart event written before), and reopens.
  void fill_and_drop() {
    for (int i = 0; i < kFillers; ++i) note("filler", std::string(100, 'x'));
    const uint64_t last = store_->stats().last_global_sequence;
    ASSERT_TRUE(store_->close());
    store_.reset();
    auto report = Store::drop_history(dir_.path(), last);
    ASSERT_TRUE(report) << report.error().to_string();
    ASSERT_GT(report->segments_removed, 0u);
    horizon_ = report->first_sequence;
    open();
  }
  uint64_t dropped_generation(const std::string& entity) {
    auto plan = store_->replay_plan(entity, TypedTotal::relevant_kinds());
    EXPECT_TRUE(plan) << plan.error().to_string();
    return plan ? plan->dropped_generation : 0;
  }

  std::shared_ptr<ProjectionCache> cache_ = make_memory_cache(1 << 20);
  uint64_t horizon_ = 0;  // The first global sequence kept.
};

TEST_F(ProjectAfterDrop, AReplayWithoutTheDroppedEventsSaysSoAndItsRowKeepsSaying) {
  open();
  add("cart:1", 1);
  add("cart:1", 2);
  fill_and_drop();
  EXPECT_EQ(dropped_generation("cart:1"), 2u);
  add("cart:1", 4);
  auto replayed = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(replayed) << replayed.error().to_string();
  EXPECT_EQ(replayed->observation.cache_status, CacheStatus::kMiss);
  EXPECT_TRUE(replayed->observation.folded_from_horizon);
  EXPECT_EQ(replayed->state->total, 4) << "only the kept event is folded";
  EXPECT_EQ(replayed->generation, 3u) << "the generation still counts the dropped events";
  auto hit = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->observation.cache_status, CacheStatus::kHit);
  EXPECT_TRUE(hit->observation.folded_from_horizon) << "the row records how it was folded";
  add("cart:1", 8);
  auto advanced = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(advanced);
  EXPECT_TRUE(advanced->observation.incremental);
  EXPECT_TRUE(advanced->observation.folded_from_horizon);
  EXPECT_EQ(advanced->state->total, 12);
  auto run = project_run_evidence<TypedTotal>(*store_, "cart:1");
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run.report.findings.size(), 1u);
  EXPECT_EQ(run.report.findings[0].type, RunFinding::Type::kFoldedFromHorizon);
  EXPECT_EQ(run_finding_name(run.report.findings[0].type), "folded_from_horizon");
}

TEST_F(ProjectAfterDrop, NothingIsFlaggedForAnEntityThatLostNoEvent) {
  open();
  fill_and_drop();
  add("cart:2", 5);
  EXPECT_EQ(dropped_generation("cart:2"), 0u);
  auto p = store_->project<TypedTotal>("cart:2");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->observation.folded_from_horizon);
  auto run = project_run_evidence<TypedTotal>(*store_, "cart:2");
  EXPECT_TRUE(run.report.findings.empty());
}

// The row names the entity's last dropped event: entity_hash_at answers it from the horizon,
// so the row is checked, then advanced over the kept events.
TEST_F(ProjectAfterDrop, ARowAtTheLastDroppedEventIsAdvancedToTheWholeHistoryState) {
  open();
  add("cart:1", 1);
  add("cart:1", 2);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  fill_and_drop();
  ASSERT_EQ(dropped_generation("cart:1"), 2u);
  auto at_horizon = store_->entity_hash_at("cart:1", 2);
  ASSERT_TRUE(at_horizon) << at_horizon.error().to_string();
  add("cart:1", 4);
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kHit) << p->observation.cache_reason;
  EXPECT_TRUE(p->observation.incremental);
  EXPECT_FALSE(p->observation.folded_from_horizon);
  EXPECT_EQ(p->state->total, 7);
  EXPECT_EQ(p->state->items, 3);
  EXPECT_EQ(p->generation, 3u);
  auto first = store_->entity_hash_at("cart:1", 1);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().code, ErrorCode::kNotFound);
  EXPECT_NE(first.error().message.find("dropped before the history horizon"), std::string::npos);
}

// Every relevant event of the entity was dropped: a row folded before the drop still serves
// its state, with each freshness rule and without incremental support.
TEST_F(ProjectAfterDrop, ARowServesAnEntityWhoseEveryRelevantEventWasDropped) {
  open();
  add("cart:1", 3);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  ASSERT_TRUE(store_->project<FullOnlyTotal>("cart:1"));
  fill_and_drop();
  auto consistent = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(consistent) << consistent.error().to_string();
  EXPECT_EQ(consistent->observation.cache_status, CacheStatus::kHit) << consistent->observation.cache_reason;
  EXPECT_EQ(consistent->observation.freshness, ObservedFreshness::kFresh);
  EXPECT_FALSE(consistent->observation.folded_from_horizon);
  ASSERT_TRUE(consistent->state);
  EXPECT_EQ(consistent->state->total, 3);
  auto full_only = store_->project<FullOnlyTotal>("cart:1");
  ASSERT_TRUE(full_only);
  ASSERT_TRUE(full_only->state);
  EXPECT_EQ(full_only->state->total, 3);
  clock_->advance_ms(50);  // Older than the bound below: the row is brought up to date.
  auto aged = store_->project<TypedTotal>("cart:1", Freshness::maybe_stale(10));
  ASSERT_TRUE(aged);
  EXPECT_TRUE(aged->observation.incremental);
  ASSERT_TRUE(aged->state);
  EXPECT_EQ(aged->state->total, 3);
  EXPECT_LT(aged->observation.input_frontier, horizon_) << "the row's own frontier, not 0";
  EXPECT_GT(aged->observation.input_frontier, 0u);
  auto again = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->observation.cache_status, CacheStatus::kHit);
  EXPECT_FALSE(again->observation.incremental) << "the rewritten row is current";
  EXPECT_EQ(again->state->total, 3);
  // The state's frontier event was dropped, so its commit time is unknown: the report says
  // so rather than guessing one.
  auto run = project_run_evidence<TypedTotal>(*store_, "cart:1");
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run.report.input_frontier);
  ASSERT_EQ(run.report.findings.size(), 1u);
  EXPECT_EQ(run.report.findings[0].type, RunFinding::Type::kInputFrontierUnknown);
}

TEST_F(ProjectAfterDrop, WithoutARowAnEntityWhoseEveryEventWasDroppedHasNoStateAndSaysWhy) {
  open();
  add("cart:1", 3);
  fill_and_drop();
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_FALSE(p->state);
  EXPECT_TRUE(p->observation.folded_from_horizon);
  EXPECT_EQ(p->observation.freshness, ObservedFreshness::kNotApplicable);
  EXPECT_EQ(p->generation, 1u);
  auto run = project_run_evidence<TypedTotal>(*store_, "cart:1");
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run.report.findings.size(), 1u) << "no frontier finding for a run without state";
  EXPECT_EQ(run.report.findings[0].type, RunFinding::Type::kFoldedFromHorizon);
}

// The row names an event before the entity's last dropped one: the events between them are
// gone, so it can be neither checked nor advanced.
TEST_F(ProjectAfterDrop, ARowBeforeTheLastDroppedEventIsAMissNeverAnError) {
  open();
  add("cart:1", 1);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  add("cart:1", 2);
  fill_and_drop();
  ASSERT_EQ(dropped_generation("cart:1"), 2u);
  add("cart:1", 4);
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kMiss);
  EXPECT_NE(p->observation.cache_reason.find("history horizon dropped"), std::string::npos)
      << p->observation.cache_reason;
  EXPECT_FALSE(p->observation.incremental);
  EXPECT_TRUE(p->observation.folded_from_horizon);
  EXPECT_EQ(p->state->total, 4);
}

}  // namespace
}  // namespace batpak::testing
