// Helpers for tests that reopen a store by different paths (index checkpoint, segment
// footers, full scan) and check that every path answers alike.
#pragma once

#include <set>
#include <span>
#include <string>
#include <vector>

#include "store/store_fixtures.hpp"

namespace batpak::store_test {

inline StoreOptions small_segments(bool checkpoint = true) {
  StoreOptions o;
  o.segment_bytes_max = 8192;
  o.preallocate_bytes = 4096;
  o.index_checkpoint = checkpoint;
  return o;
}

inline StoreOptions read_only(StoreOptions o) {
  o.access = AccessMode::kReadOnly;
  return o;
}

// Appends `count` events over five entities (every fourth commit a two-event batch).
inline void append_events(Store& store, int first, int count) {
  for (int i = first; i < first + count; ++i) {
    const std::string entity = "order:" + std::to_string(i % 5);
    const std::string payload = "p" + std::to_string(i) + std::string(static_cast<size_t>(i % 200), 'x');
    if (i % 4 == 3) {
      std::vector<BatchItem> batch{{coord(entity), kKindA, bytes(payload), {}},
                                   {coord("order:batch", "t"), kKindB, bytes("b" + payload), {}}};
      BATPAK_ASSERT_OK(store.append_batch(batch));
    } else {
      BATPAK_ASSERT_OK(store.append(coord(entity), i % 2 ? kKindA : kKindB, bytes(payload)));
    }
  }
}

// What a projection reads before it folds, for each entity of `events`: its replay plans
// (all kinds, and kind A only, also after a sequence) and its head hash, from `a` and from `b`.
inline void expect_same_projection_inputs(const Store& a, const Store& b, const std::vector<Event>& events) {
  std::set<std::string> entities;
  for (const Event& e : events) entities.insert(std::string(e.coordinate.entity()));
  const std::vector<EventKind> only_a{kKindA};
  for (const std::string& entity : entities) {
    SCOPED_TRACE(entity);
    for (std::span<const EventKind> kinds : {std::span<const EventKind>{}, std::span<const EventKind>(only_a)}) {
      for (uint64_t after : {uint64_t{0}, uint64_t{5}}) {
        BATPAK_ASSERT_OK_AND_ASSIGN(plan_a, a.replay_plan(entity, kinds, after));
        BATPAK_ASSERT_OK_AND_ASSIGN(plan_b, b.replay_plan(entity, kinds, after));
        EXPECT_EQ(plan_a.global_sequences, plan_b.global_sequences);
        EXPECT_EQ(plan_a.watermark, plan_b.watermark);
        EXPECT_EQ(plan_a.generation, plan_b.generation);
        EXPECT_EQ(plan_a.head_hash, plan_b.head_hash);
        EXPECT_EQ(plan_a.dropped_generation, plan_b.dropped_generation);
      }
    }
    const uint64_t generation = a.entity_generation(entity);
    BATPAK_ASSERT_OK_AND_ASSIGN(hash_a, a.entity_hash_at(entity, generation));
    BATPAK_ASSERT_OK_AND_ASSIGN(hash_b, b.entity_hash_at(entity, generation));
    EXPECT_EQ(hash_a, hash_b);
  }
}

// Every read a user can make, from `a` and from `b`, agrees.
inline void expect_same_answers(const Store& a, const Store& b) {
  BATPAK_ASSERT_OK_AND_ASSIGN(all_a, a.query(Region::all()));
  BATPAK_ASSERT_OK_AND_ASSIGN(all_b, b.query(Region::all()));
  ASSERT_EQ(all_a.size(), all_b.size());
  for (size_t i = 0; i < all_a.size(); ++i) expect_same_event(all_a[i], all_b[i]);
  EXPECT_EQ(a.stats().event_count, b.stats().event_count);
  EXPECT_EQ(a.stats().entity_count, b.stats().entity_count);
  EXPECT_EQ(a.stats().last_global_sequence, b.stats().last_global_sequence);
  for (const Event& e : all_a) {
    EXPECT_EQ(a.entity_generation(e.coordinate.entity()), b.entity_generation(e.coordinate.entity()));
    BATPAK_ASSERT_OK_AND_ASSIGN(got, b.get(e.header.event_id));
    expect_same_event(got, e);
  }
  if (!all_a.empty()) {
    BATPAK_ASSERT_OK_AND_ASSIGN(walk_a, a.walk_ancestors(all_a.back().header.event_id, 1000));
    BATPAK_ASSERT_OK_AND_ASSIGN(walk_b, b.walk_ancestors(all_a.back().header.event_id, 1000));
    ASSERT_EQ(walk_a.size(), walk_b.size());
    for (size_t i = 0; i < walk_a.size(); ++i) expect_same_event(walk_a[i], walk_b[i]);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(page_a, a.query_after(Region::entity("order:1"), 3, 7));
  BATPAK_ASSERT_OK_AND_ASSIGN(page_b, b.query_after(Region::entity("order:1"), 3, 7));
  ASSERT_EQ(page_a.size(), page_b.size());
  for (size_t i = 0; i < page_a.size(); ++i) expect_same_event(page_a[i], page_b[i]);
  expect_same_projection_inputs(a, b, all_a);
}

inline OpenReport open_report_of(const std::string& dir, const StoreOptions& o) {
  auto store = Store::open(dir, o);
  EXPECT_TRUE(store.has_value()) << store.error().to_string();
  return store ? (*store)->open_report() : OpenReport{};
}

inline StoreOptions without_footers(StoreOptions o) {
  o.segment_footers = false;
  return o;
}

}  // namespace batpak::store_test
