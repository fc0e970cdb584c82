// Store::project_fused: several projections of one entity folded from one replay. Invariants
// proved here: each fused state, frontier and the generation are what project<P> gives for
// that P alone (also when one projection takes every kind, and after drop_history); a
// projection without a relevant event has no state; each projection applies each of its
// relevant events once, in order; every state reflects one instant; no cache is touched; the
// first apply() error fails the call. Not proved here: that the store reads each event
// once (the store has no read counter); the implementation makes one for_each_event call.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <thread>
#include <utility>

#include "projection/projection_fixtures.hpp"

namespace batpak::testing {
namespace {

inline constexpr EventKind kRemovedKind{0x1003};  // Relevant to ItemsAndRemovals only.
inline constexpr EventKind kOtherKind{0x1004};    // Relevant to no projection that lists kinds.

// Counts notes and keeps the last note's text.
struct NoteCount {
  struct State {
    int64_t notes = 0;
    std::string last;
    MSGPACK_DEFINE_MAP(notes, last)
    bool operator==(const State&) const = default;
  };
  static constexpr std::string_view kName = "note-count";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {kNoteKind}; }
  static Status apply(State& state, const Event& event) {
    auto value = payload_to_json(event.payload);
    if (!value) return tl::unexpected(value.error());
    state.notes += 1;
    state.last = (*value)["note"].get<std::string>();
    return {};
  }
};

// Overlaps TypedTotal (ItemAdded) and adds a kind of its own.
struct ItemsAndRemovals {
  struct State {
    int64_t added = 0;
    int64_t removed = 0;
    MSGPACK_DEFINE_MAP(added, removed)
    bool operator==(const State&) const = default;
  };
  static constexpr std::string_view kName = "items-and-removals";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {kRemovedKind, ItemAdded::kKind}; }
  static Status apply(State& state, const Event& event) {
    if (event.header.kind == kRemovedKind) {
      state.removed += 1;
    } else {
      state.added += 1;
    }
    return {};
  }
};

// Every kind (empty relevant_kinds): the global sequence and kind of each event, in order.
struct EventLog {
  struct State {
    std::vector<uint64_t> sequences;
    std::vector<uint16_t> kinds;
    MSGPACK_DEFINE_MAP(sequences, kinds)
    bool operator==(const State&) const = default;
  };
  static constexpr std::string_view kName = "event-log";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {}; }
  static Status apply(State& state, const Event& event) {
    state.sequences.push_back(event.header.global_sequence);
    state.kinds.push_back(event.header.kind.raw());
    return {};
  }
};

// The global sequences of the notes it applied, in order.
struct NoteLog {
  struct State {
    std::vector<uint64_t> sequences;
    MSGPACK_DEFINE_MAP(sequences)
    bool operator==(const State&) const = default;
  };
  static constexpr std::string_view kName = "note-log";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {kNoteKind}; }
  static Status apply(State& state, const Event& event) {
    state.sequences.push_back(event.header.global_sequence);
    return {};
  }
};

// Fails on a note whose text is "bad".
struct RefusesBadNotes {
  using State = NoteCount::State;
  static constexpr std::string_view kName = "refuses-bad-notes";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {kNoteKind}; }
  static Status apply(State& state, const Event& event) {
    if (auto s = NoteCount::apply(state, event); !s) return s;
    if (state.last == "bad") return make_error(ErrorCode::kInvalidArgument, "bad note");
    return {};
  }
};

// Fails on every item.
struct RefusesItems {
  using State = TypedTotal::State;
  static constexpr std::string_view kName = "refuses-items";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {ItemAdded::kKind}; }
  static Status apply(State&, const Event&) { return make_error(ErrorCode::kCorruption, "item refused"); }
};

class ProjectFused : public ProjectionStoreTest {
 protected:
  void open_with(std::shared_ptr<ProjectionCache> cache, uint64_t segment_bytes_max = 0) {
    StoreOptions options;
    options.projection_cache = std::move(cache);
    if (segment_bytes_max != 0) options.segment_bytes_max = segment_bytes_max;
    open_store(std::move(options));
  }
  // Appends an event of `kind` with a JSON payload; returns its global sequence.
  uint64_t raw(const std::string& entity, EventKind kind) {
    auto c = Coordinate::make(entity, "test");
    auto receipt = store_->append(*c, kind, json_to_payload({{"note", "r"}}));
    EXPECT_TRUE(receipt) << receipt.error().to_string();
    return receipt ? receipt->global_sequence : 0;
  }
  uint64_t last_sequence() { return store_->stats().last_global_sequence; }
  // An entity with every kind, interleaved with another entity's events of the same kinds.
  void mixed_history() {
    add("cart:1", 2);
    add("cart:2", 100);
    note("cart:1", "a");
    raw("cart:1", kRemovedKind);
    note("cart:2", "z");
    add("cart:1", 5);
    raw("cart:1", kOtherKind);
    raw("cart:2", kRemovedKind);
    note("cart:1", "b");
    add("cart:2", 7);
  }
};

// The fused state, frontier and generation of P equal project<P>'s for `entity`.
template <Projection P>
void expect_same_as_project(Store& store, std::string_view entity, const std::optional<typename P::State>& state,
                            uint64_t frontier, uint64_t generation) {
  auto alone = store.project<P>(entity);
  ASSERT_TRUE(alone) << alone.error().to_string();
  EXPECT_EQ(state, alone->state) << P::kName;
  EXPECT_EQ(frontier, alone->observation.input_frontier) << P::kName;
  EXPECT_EQ(generation, alone->generation) << P::kName;
}

// Runs project_fused<P...> and checks every state against project<P> for that P alone.
template <Projection... P>
void expect_each_as_project(Store& store, std::string_view entity) {
  auto fused = store.project_fused<P...>(entity);
  ASSERT_TRUE(fused) << fused.error().to_string();
  [&]<size_t... I>(std::index_sequence<I...>) {
    (expect_same_as_project<P>(store, entity, std::get<I>(fused->states), fused->input_frontiers[I],
                               fused->generation),
     ...);
  }(std::index_sequence_for<P...>{});
}

TEST_F(ProjectFused, EachStateEqualsItsOwnProjectionWhenTheUnionIsAListOfKinds) {
  open_with(nullptr);
  mixed_history();
  auto fused = store_->project_fused<TypedTotal, NoteCount, ItemsAndRemovals>("cart:1");
  ASSERT_TRUE(fused) << fused.error().to_string();
  ASSERT_TRUE(std::get<0>(fused->states) && std::get<1>(fused->states) && std::get<2>(fused->states));
  EXPECT_EQ(std::get<0>(fused->states)->total, 7);
  EXPECT_EQ(std::get<0>(fused->states)->items, 2);
  EXPECT_EQ(std::get<1>(fused->states)->notes, 2);
  EXPECT_EQ(std::get<1>(fused->states)->last, "b");
  EXPECT_EQ(std::get<2>(fused->states)->added, 2);
  EXPECT_EQ(std::get<2>(fused->states)->removed, 1);
  EXPECT_EQ(fused->generation, 6u);
  expect_each_as_project<TypedTotal, NoteCount, ItemsAndRemovals>(*store_, "cart:1");
  expect_each_as_project<ItemsAndRemovals, TypedTotal>(*store_, "cart:2");
}

TEST_F(ProjectFused, EachStateEqualsItsOwnProjectionWhenOneProjectionTakesEveryKind) {
  open_with(nullptr);
  mixed_history();
  auto fused = store_->project_fused<NoteCount, EventLog, TypedTotal>("cart:1");
  ASSERT_TRUE(fused) << fused.error().to_string();
  ASSERT_TRUE(std::get<1>(fused->states));
  const std::vector<uint16_t> kinds{ItemAdded::kKind.raw(), kNoteKind.raw(), kRemovedKind.raw(),
                                    ItemAdded::kKind.raw(), kOtherKind.raw(), kNoteKind.raw()};
  EXPECT_EQ(std::get<1>(fused->states)->kinds, kinds) << "every event of the entity, and only those";
  EXPECT_EQ(std::get<1>(fused->states)->sequences, (std::vector<uint64_t>{1, 3, 4, 6, 7, 9}));
  EXPECT_EQ(std::get<2>(fused->states)->total, 7);
  expect_each_as_project<NoteCount, EventLog, TypedTotal>(*store_, "cart:1");
  expect_each_as_project<EventLog, JsonTotal, ItemsAndRemovals, NoteCount>(*store_, "cart:2");
}

TEST_F(ProjectFused, AProjectionWithoutARelevantEventHasNoStateWhileAnotherHasOne) {
  open_with(nullptr);
  add("cart:1", 3);
  note("cart:2");
  add("cart:1", 4);
  raw("cart:1", kOtherKind);
  auto fused = store_->project_fused<TypedTotal, NoteCount>("cart:1");
  ASSERT_TRUE(fused) << fused.error().to_string();
  ASSERT_TRUE(std::get<0>(fused->states));
  EXPECT_EQ(std::get<0>(fused->states)->total, 7);
  EXPECT_FALSE(std::get<1>(fused->states)) << "no note of cart:1: no state, not a default one";
  EXPECT_EQ(fused->input_frontiers[1], 0u);
  EXPECT_EQ(fused->generation, store_->entity_generation("cart:1"));
  EXPECT_EQ(fused->generation, 3u);
  EXPECT_FALSE(fused->folded_from_horizon);

  auto unknown = store_->project_fused<TypedTotal, NoteCount>("cart:9");
  ASSERT_TRUE(unknown) << unknown.error().to_string();
  EXPECT_FALSE(std::get<0>(unknown->states));
  EXPECT_FALSE(std::get<1>(unknown->states));
  EXPECT_EQ(unknown->generation, 0u);
  EXPECT_EQ(unknown->input_frontiers, (std::array<uint64_t, 2>{0, 0}));
}

TEST_F(ProjectFused, InputFrontiersAreEachProjectionsLastRelevantGlobalSequence) {
  open_with(nullptr);
  add("cart:1", 1);
  const uint64_t last_item = last_sequence();
  note("cart:1", "a");
  const uint64_t last_note = raw("cart:1", kNoteKind);
  const uint64_t last_removed = raw("cart:1", kRemovedKind);
  const uint64_t last_any = raw("cart:1", kOtherKind);
  add("cart:2", 1);  // Another entity's later item is no frontier of cart:1.
  auto fused = store_->project_fused<TypedTotal, NoteCount, ItemsAndRemovals, EventLog>("cart:1");
  ASSERT_TRUE(fused) << fused.error().to_string();
  EXPECT_EQ(fused->input_frontiers[0], last_item);
  EXPECT_EQ(fused->input_frontiers[1], last_note);
  EXPECT_EQ(fused->input_frontiers[2], last_removed);
  EXPECT_EQ(fused->input_frontiers[3], last_any);
  EXPECT_EQ(last_any, 5u);
}

// Proves each projection's apply() sees each of its relevant events once, in the entity's
// order, even when the events are also relevant to the others.
TEST_F(ProjectFused, EachProjectionAppliesEachOfItsRelevantEventsOnceInOrder) {
  open_with(nullptr);
  mixed_history();
  auto fused = store_->project_fused<NoteLog, EventLog, RefusesBadNotes>("cart:1");
  ASSERT_TRUE(fused) << fused.error().to_string();
  ASSERT_TRUE(std::get<0>(fused->states) && std::get<1>(fused->states) && std::get<2>(fused->states));
  EXPECT_EQ(std::get<0>(fused->states)->sequences, (std::vector<uint64_t>{3, 9}));
  EXPECT_EQ(std::get<1>(fused->states)->sequences, (std::vector<uint64_t>{1, 3, 4, 6, 7, 9}));
  EXPECT_EQ(std::get<2>(fused->states)->notes, 2);
}

TEST_F(ProjectFused, NeitherReadsNorWritesTheProjectionCache) {
  auto cache = std::make_shared<FlakyCache>();
  cache->advertise_prefetch = true;
  open_with(cache);
  add("cart:1", 3);
  note("cart:1");
  auto fused = store_->project_fused<TypedTotal, NoteCount>("cart:1");
  ASSERT_TRUE(fused) << fused.error().to_string();
  ASSERT_TRUE(std::get<0>(fused->states));
  EXPECT_EQ(std::get<0>(fused->states)->total, 3);
  EXPECT_EQ(cache->gets.load(), 0);
  EXPECT_EQ(cache->puts.load(), 0);
  EXPECT_TRUE(cache->prefetched.empty());
  // A row put by project<P> is not read either, and the fused state is the log's.
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));
  ASSERT_EQ(cache->puts.load(), 1);
  add("cart:1", 4);
  auto again = store_->project_fused<TypedTotal, NoteCount>("cart:1");
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(std::get<0>(again->states)->total, 7);
  EXPECT_EQ(cache->gets.load(), 1) << "only project<P>'s get";
  EXPECT_EQ(cache->puts.load(), 1);
}

TEST_F(ProjectFused, AnApplyErrorInOneProjectionFailsTheWholeCallWithThatError) {
  open_with(nullptr);
  add("cart:1", 3);
  note("cart:1", "bad");
  auto fused = store_->project_fused<TypedTotal, RefusesBadNotes>("cart:1");
  ASSERT_FALSE(fused);
  EXPECT_EQ(fused.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(fused.error().message, "bad note");
  auto alone = store_->project<RefusesBadNotes>("cart:1");
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().message, fused.error().message);
  auto without = store_->project_fused<TypedTotal, NoteCount>("cart:1");
  EXPECT_TRUE(without) << "the others alone succeed";
}

// The first error in the entity's order fails the call, whichever projection raised it.
TEST_F(ProjectFused, TheErrorOfTheFirstFailingEventIsTheCallsError) {
  open_with(nullptr);
  add("cart:1", 3);
  note("cart:1", "bad");
  note("cart:2", "bad");
  add("cart:2", 3);
  auto item_first = store_->project_fused<RefusesBadNotes, RefusesItems>("cart:1");
  ASSERT_FALSE(item_first);
  EXPECT_EQ(item_first.error().code, ErrorCode::kCorruption);
  EXPECT_EQ(item_first.error().message, "item refused");
  auto note_first = store_->project_fused<RefusesBadNotes, RefusesItems>("cart:2");
  ASSERT_FALSE(note_first);
  EXPECT_EQ(note_first.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(note_first.error().message, "bad note");
}

// Whether one fused run of cart:1 (items and notes only) reflects one instant: the log of
// every event is exactly the entity's generation, the item and note counts add up to it,
// and the frontiers agree with the log. Reports what differs.
::testing::AssertionResult a_fused_run_reflects_one_instant(const Store& store) {
  auto fused = store.project_fused<TypedTotal, NoteCount, EventLog>("cart:1");
  if (!fused) return ::testing::AssertionFailure() << fused.error().to_string();
  const uint64_t generation = fused->generation;
  const auto& log = std::get<2>(fused->states);
  const uint64_t logged = log ? log->sequences.size() : 0;
  const int64_t items = std::get<0>(fused->states) ? std::get<0>(fused->states)->items : 0;
  const int64_t notes = std::get<1>(fused->states) ? std::get<1>(fused->states)->notes : 0;
  const uint64_t last_logged = log ? log->sequences.back() : 0;
  const uint64_t last_of_two = std::max(fused->input_frontiers[0], fused->input_frontiers[1]);
  if (logged == generation && static_cast<uint64_t>(items + notes) == generation &&
      fused->input_frontiers[2] == last_logged && last_of_two == last_logged) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "generation " << generation << ", events logged " << logged << ", items "
                                       << items << ", notes " << notes << ", last logged " << last_logged
                                       << ", last item or note " << last_of_two;
}

// Under concurrent appends, separate project<P> calls may see different instants; the
// fused states all reflect the plan's.
TEST_F(ProjectFused, UnderConcurrentAppendsEveryStateReflectsTheSameInstant) {
  open_with(nullptr);
  std::atomic<bool> done{false};
  std::thread writer([this, &done] {
    for (int i = 0; i < 400; ++i) {
      add("cart:1", 1);
      note("cart:1");
    }
    done = true;
  });
  int runs = 0;
  ::testing::AssertionResult same = ::testing::AssertionSuccess();
  for (; same && !done.load(); ++runs) same = a_fused_run_reflects_one_instant(*store_);
  writer.join();
  EXPECT_TRUE(same) << "run " << runs;
  EXPECT_TRUE(a_fused_run_reflects_one_instant(*store_));
  EXPECT_EQ(store_->entity_generation("cart:1"), 800u);
  EXPECT_GT(runs, 1) << "the runs overlapped the appends";
}

class ProjectFusedAfterDrop : public ProjectFused {
 protected:
  // Appends irrelevant events to another entity, closes the store, drops every segment but
  // the newest, and reopens (as ProjectAfterDrop does).
  void fill_and_drop() {
    for (int i = 0; i < 60; ++i) note("filler", std::string(100, 'x'));
    const uint64_t last = last_sequence();
    ASSERT_TRUE(store_->close());
    store_.reset();
    auto report = Store::drop_history(dir_.path(), last);
    ASSERT_TRUE(report) << report.error().to_string();
    ASSERT_GT(report->segments_removed, 0u);
    open_with(nullptr, 4096);
  }
};

TEST_F(ProjectFusedAfterDrop, StatesFoldedWithoutDroppedEventsSayTheyWereFoldedFromTheHorizon) {
  open_with(nullptr, 4096);
  add("cart:1", 1);
  note("cart:1", "a");
  fill_and_drop();
  add("cart:1", 4);
  add("cart:2", 5);
  auto fused = store_->project_fused<TypedTotal, NoteCount>("cart:1");
  ASSERT_TRUE(fused) << fused.error().to_string();
  EXPECT_TRUE(fused->folded_from_horizon);
  ASSERT_TRUE(std::get<0>(fused->states));
  EXPECT_EQ(std::get<0>(fused->states)->total, 4) << "only the kept item is folded";
  EXPECT_FALSE(std::get<1>(fused->states)) << "the only note was dropped";
  EXPECT_EQ(fused->generation, 3u) << "the generation still counts the dropped events";
  expect_each_as_project<TypedTotal, NoteCount>(*store_, "cart:1");
  auto alone = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(alone);
  EXPECT_EQ(alone->observation.folded_from_horizon, fused->folded_from_horizon);

  auto untouched = store_->project_fused<TypedTotal, NoteCount>("cart:2");
  ASSERT_TRUE(untouched) << untouched.error().to_string();
  EXPECT_FALSE(untouched->folded_from_horizon) << "cart:2 lost no event";
  EXPECT_EQ(std::get<0>(untouched->states)->total, 5);
}

}  // namespace
}  // namespace batpak::testing
