// The projection flow: plan, cache probe, fresh hit, incremental apply, full replay, and
// the honest-generation rule.
#include <gtest/gtest.h>

#include "projection/projection_fixtures.hpp"

namespace batpak::testing {
namespace {

class ProjectFlow : public ProjectionStoreTest {
 protected:
  void open_with(std::shared_ptr<ProjectionCache> cache) {
    StoreOptions options;
    options.projection_cache = std::move(cache);
    open_store(std::move(options));
  }
};

TEST_F(ProjectFlow, NoRelevantEventsMeansNoStateAndNoCacheTraffic) {
  auto cache = std::make_shared<FlakyCache>();
  open_with(cache);
  note("cart:1");
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->state.has_value());
  EXPECT_EQ(p->generation, 1u);
  EXPECT_EQ(p->observation.freshness, ObservedFreshness::kNotApplicable);
  EXPECT_EQ(cache->gets.load(), 0);
  EXPECT_EQ(cache->puts.load(), 0);
}

// Invariant: prefetch is a hint given only to a cache that advertises it, before its get,
// for an entity with events; a failing prefetch changes nothing.
TEST_F(ProjectFlow, PrefetchIsCalledBeforeTheGetOnlyWhenTheCacheAdvertisesIt) {
  auto cache = std::make_shared<FlakyCache>();
  open_with(cache);
  add("cart:1", 3);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  EXPECT_TRUE(cache->prefetched.empty()) << "not advertised: never called";
  cache->advertise_prefetch = true;
  ASSERT_TRUE(store_->project<TypedTotal>("cart:2"));
  EXPECT_TRUE(cache->prefetched.empty()) << "an entity without events: no hint";
  const int gets_before = cache->gets.load();
  auto hit = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->observation.cache_status, CacheStatus::kHit);
  ASSERT_EQ(cache->prefetched.size(), 1u);
  EXPECT_EQ(cache->gets_before_prefetch[0], gets_before) << "the hint comes before the get";
  EXPECT_EQ(cache->gets.load(), gets_before + 1);
  EXPECT_EQ(cache->prefetched[0], projection_cache_key(TypedTotal::kName, TypedTotal::kSchemaVersion,
                                                       TypedTotal::relevant_kinds(), "cart:1"));
  cache->fail_prefetch = true;
  auto still = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(still);
  EXPECT_EQ(still->observation.cache_status, CacheStatus::kHit);
  EXPECT_EQ(still->state->total, 3);
  EXPECT_EQ(cache->prefetched.size(), 2u);
}

TEST_F(ProjectFlow, TypedAndJsonLanesFoldToTheSameState) {
  open_with(nullptr);
  add("cart:1", 2);
  add("cart:1", 5);
  note("cart:1");
  auto typed = store_->project<TypedTotal>("cart:1");
  auto json = store_->project<JsonTotal>("cart:1");
  ASSERT_TRUE(typed && json);
  ASSERT_TRUE(typed->state && json->state);
  EXPECT_EQ(*typed->state, *json->state);
  EXPECT_EQ(typed->state->total, 7);
  EXPECT_EQ(typed->observation.cache_status, CacheStatus::kBypassed);
  EXPECT_EQ(typed->generation, 3u);
  EXPECT_EQ(typed->observation.input_frontier, 2u);
}

TEST_F(ProjectFlow, SecondRunIsAFreshHitWithTheSameState) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 3);
  auto first = store_->project<TypedTotal>("cart:1");
  auto second = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->observation.cache_status, CacheStatus::kMiss);
  EXPECT_EQ(second->observation.cache_status, CacheStatus::kHit);
  EXPECT_EQ(second->observation.freshness, ObservedFreshness::kFresh);
  EXPECT_EQ(*first->state, *second->state);
  EXPECT_EQ(first->generation, second->generation);
}

TEST_F(ProjectFlow, IncrementalApplyEqualsAFullReplay) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 1);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  add("cart:1", 10);
  add("cart:1", 100);
  auto advanced = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(advanced);
  EXPECT_TRUE(advanced->observation.incremental);
  EXPECT_EQ(advanced->observation.cache_status, CacheStatus::kHit);
  auto replayed = store_->project<JsonTotal>("cart:1");  // Never cached before: full replay.
  ASSERT_TRUE(replayed);
  EXPECT_FALSE(replayed->observation.incremental);
  EXPECT_EQ(*advanced->state, *replayed->state);
  EXPECT_EQ(advanced->state->total, 111);
  EXPECT_EQ(advanced->generation, 3u);
}

TEST_F(ProjectFlow, WithoutIncrementalAStaleRowMeansFullReplay) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 1);
  ASSERT_TRUE(store_->project<FullOnlyTotal>("cart:1"));
  add("cart:1", 2);
  auto p = store_->project<FullOnlyTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kMiss);
  EXPECT_FALSE(p->observation.incremental);
  EXPECT_EQ(p->state->total, 3);
}

TEST_F(ProjectFlow, ConsistentNeverServesARowOlderThanThePlan) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 1);
  ASSERT_TRUE(store_->project<FullOnlyTotal>("cart:1"));
  add("cart:1", 2);
  auto p = store_->project<FullOnlyTotal>("cart:1", Freshness::consistent());
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state->total, 3);
  EXPECT_EQ(p->observation.freshness, ObservedFreshness::kFresh);
}

TEST_F(ProjectFlow, MaybeStaleServesAYoungRowWithTheGenerationItReflects) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 1);
  ASSERT_TRUE(store_->project<FullOnlyTotal>("cart:1"));
  add("cart:1", 2);
  clock_->advance_ms(5);
  auto p = store_->project<FullOnlyTotal>("cart:1", Freshness::maybe_stale(10));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->observation.freshness, ObservedFreshness::kStaleAllowed);
  EXPECT_EQ(p->state->total, 1);
  EXPECT_EQ(p->generation, 1u) << "a stale state must not carry the newer generation";
  EXPECT_EQ(p->observation.input_frontier, 1u);
}

TEST_F(ProjectFlow, MaybeStaleAgeRuleIsStrict) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 1);
  ASSERT_TRUE(store_->project<FullOnlyTotal>("cart:1"));
  add("cart:1", 2);
  clock_->advance_ms(10);
  auto at_bound = store_->project<FullOnlyTotal>("cart:1", Freshness::maybe_stale(10));
  ASSERT_TRUE(at_bound);
  EXPECT_EQ(at_bound->state->total, 3) << "an age exactly at the bound must replay";
  auto zero = store_->project<FullOnlyTotal>("cart:1", Freshness::maybe_stale(0));
  ASSERT_TRUE(zero);
  EXPECT_EQ(zero->observation.cache_status, CacheStatus::kMiss)
      << "max_stale_ms = 0 never serves a row, not even a current one";
}

TEST_F(ProjectFlow, CorruptRowIsAMissAndIsRewritten) {
  auto cache = make_memory_cache(1 << 20);
  open_with(cache);
  add("cart:1", 4);
  const auto key = projection_cache_key(TypedTotal::kName, TypedTotal::kSchemaVersion,
                                        TypedTotal::relevant_kinds(), "cart:1");
  std::vector<uint8_t> garbage = {1, 2, 3, 4, 5};
  ASSERT_TRUE(cache->put(key, garbage));
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kMiss);
  EXPECT_FALSE(p->observation.cache_reason.empty());
  EXPECT_EQ(p->state->total, 4);
  auto row = cache->get(key);
  ASSERT_TRUE(row && *row);
  EXPECT_TRUE(decode_cache_row(key, **row)) << "the replay must have rewritten a valid row";
}

TEST_F(ProjectFlow, UndecodableStateBytesAreAMiss) {
  auto cache = make_memory_cache(1 << 20);
  open_with(cache);
  add("cart:1", 4);
  const auto key = projection_cache_key(TypedTotal::kName, TypedTotal::kSchemaVersion,
                                        TypedTotal::relevant_kinds(), "cart:1");
  // A row of this very history (its head hash is the entity's), whose state bytes are bad:
  // 0xc1 is never valid MessagePack.
  const Hash32 head = store_->entity_hash_at("cart:1", 1).value();
  CacheRow row{1, 1, clock_->now_us(), {0xc1}, head};
  ASSERT_TRUE(cache->put(key, encode_cache_row(key, row)));
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kMiss);
  EXPECT_TRUE(p->observation.cache_reason.empty()) << "refused for its state, not its history";
  EXPECT_EQ(p->state->total, 4);
}

// Two stores share one cache directory (or a store is deleted and made anew beside its
// cache): the same projection of the same entity reaches the same watermark and
// generation with other events. The first store's row must not answer for the second.
TEST_F(ProjectFlow, AnotherStoresRowIsNeverServed) {
  TempDir cache_dir;
  auto cache = make_file_cache(cache_dir.path() + "/rows");
  ASSERT_TRUE(cache);
  open_with(*cache);
  add("cart:1", 8);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  ASSERT_TRUE(store_->close());

  TempDir other;
  StoreOptions options;
  options.clock = clock_;
  options.projection_cache = *cache;
  auto opened = Store::open(other.path(), options);
  ASSERT_TRUE(opened);
  store_ = std::move(*opened);
  add("cart:1", 5);
  for (Freshness freshness : {Freshness::consistent(), Freshness::maybe_stale(60'000)}) {
    auto p = store_->project<TypedTotal>("cart:1", freshness);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->state->total, 5);
    EXPECT_EQ(p->generation, 1u);
  }
}

TEST_F(ProjectFlow, RowOfAnotherHistoryIsRefusedAndRewritten) {
  auto cache = make_memory_cache(1 << 20);
  open_with(cache);
  add("cart:1", 4);
  note("cart:1");  // The entity moves past the row's generation: its hash is read from the log.
  const auto key = projection_cache_key(TypedTotal::kName, TypedTotal::kSchemaVersion,
                                        TypedTotal::relevant_kinds(), "cart:1");
  Hash32 foreign = store_->entity_hash_at("cart:1", 1).value();
  foreign.bytes[0] ^= 1;
  CacheRow row{1, 1, clock_->now_us(), encode_payload(TypedTotal::State{1000, 9}), foreign};
  ASSERT_TRUE(cache->put(key, encode_cache_row(key, row)));
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kMiss);
  EXPECT_NE(p->observation.cache_reason.find("does not hold"), std::string::npos) << p->observation.cache_reason;
  EXPECT_EQ(p->state->total, 4);
  auto again = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->observation.cache_status, CacheStatus::kHit) << "the replay rewrote the row";
  EXPECT_EQ(again->state->total, 4);
}

TEST_F(ProjectFlow, EntityHashAtNamesEachEventOfTheChain) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 1);
  note("cart:1");
  auto events = store_->query(Region::entity("cart:1"));
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ(store_->entity_hash_at("cart:1", 1).value(), (*events)[0].header.event_hash);
  EXPECT_EQ(store_->entity_hash_at("cart:1", 2).value(), (*events)[1].header.event_hash);
  EXPECT_EQ(store_->replay_plan("cart:1", {}).value().head_hash, (*events)[1].header.event_hash);
  for (uint64_t generation : {0u, 3u}) {
    auto none = store_->entity_hash_at("cart:1", generation);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ErrorCode::kNotFound);
  }
  EXPECT_EQ(store_->entity_hash_at("cart:2", 1).error().code, ErrorCode::kNotFound);
}

TEST_F(ProjectFlow, RowNewerThanThePlanIsNeverUsed) {
  auto cache = make_memory_cache(1 << 20);
  open_with(cache);
  add("cart:1", 4);
  const auto key = projection_cache_key(TypedTotal::kName, TypedTotal::kSchemaVersion,
                                        TypedTotal::relevant_kinds(), "cart:1");
  CacheRow row{99, 99, clock_->now_us(), encode_payload(TypedTotal::State{1000, 9}), {}};
  ASSERT_TRUE(cache->put(key, encode_cache_row(key, row)));
  auto p = store_->project<TypedTotal>("cart:1", Freshness::maybe_stale(60'000));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state->total, 4);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kMiss);
}

TEST_F(ProjectFlow, CacheFailuresAreObservedNeverFatal) {
  auto cache = std::make_shared<FlakyCache>();
  open_with(cache);
  add("cart:1", 6);
  cache->fail_get = true;
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kUnavailable);
  EXPECT_NE(p->observation.cache_reason.find("get failed"), std::string::npos);
  EXPECT_EQ(p->state->total, 6);
  cache->fail_get = false;
  cache->fail_put = true;
  auto q = store_->project<JsonTotal>("cart:1");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->observation.cache_status, CacheStatus::kUnavailable);
  EXPECT_NE(q->observation.cache_reason.find("put failed"), std::string::npos);
  EXPECT_EQ(q->state->total, 6);
}

TEST_F(ProjectFlow, ProjectIfChangedReportsEachNewGenerationOnce) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 1);
  auto first = store_->project_if_changed<TypedTotal>("cart:1", 0);
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->generation, 1u);
  auto same = store_->project_if_changed<TypedTotal>("cart:1", 1);
  ASSERT_TRUE(same);
  EXPECT_FALSE(same->has_value());
  note("cart:1");  // Irrelevant event: new generation, same state.
  auto after_note = store_->project_if_changed<TypedTotal>("cart:1", 1);
  ASSERT_TRUE(after_note && *after_note);
  EXPECT_EQ((*after_note)->generation, 2u);
  EXPECT_EQ((*after_note)->state->total, 1);
}

TEST_F(ProjectFlow, StateSurvivesReopenThroughASharedCache) {
  auto cache = make_memory_cache(1 << 20);
  open_with(cache);
  add("cart:1", 8);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  ASSERT_TRUE(store_->close());
  open_with(cache);
  auto p = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kHit);
  EXPECT_EQ(p->state->total, 8);
}

// A row written before an append that the cache kept across a reopen is older than the
// reopened store's plan: Consistent refuses it (a miss and a replay), never serves it.
TEST_F(ProjectFlow, ARowOlderThanTheLogIsNotServedAfterReopen) {
  auto cache = make_memory_cache(1 << 20);
  open_with(cache);
  add("cart:1", 1);
  ASSERT_TRUE(store_->project<FullOnlyTotal>("cart:1"));
  add("cart:1", 2);
  ASSERT_TRUE(store_->close());
  open_with(cache);
  auto p = store_->project<FullOnlyTotal>("cart:1", Freshness::consistent());
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kMiss);
  EXPECT_EQ(p->observation.freshness, ObservedFreshness::kFresh);
  EXPECT_EQ(p->state->total, 3);
  EXPECT_EQ(p->generation, 2u);
}

}  // namespace
}  // namespace batpak::testing
