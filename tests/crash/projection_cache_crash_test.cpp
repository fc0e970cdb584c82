// Projection caches under power cuts. A cache row may reach the disk before the events it
// was folded from: the file and LMDB caches write rows without fsync, and in kBuffered and
// kAsync modes a projection sees events that are visible but not yet durable. A power cut
// can then leave a row computed from events the log lost. After reopen, new events may
// bring the entity back to the same global sequences and generation.
// Invariant proved here: a row computed from a history the log no longer holds is never
// served, neither as a fresh hit nor as the base of an incremental apply; every projection
// equals a full replay of the log as it is.
// The memory cache outlives the store here and stands for a persistent cache whose row
// survived the cut: the worst ordering a real disk may produce.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "projection/projection_fixtures.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

constexpr char kDir[] = "/sim/store";

class ProjectionCachePowerCut : public ::testing::TestWithParam<Durability> {
 protected:
  void open_on(std::shared_ptr<Fs> fs) {
    store_.reset();
    StoreOptions options;
    options.fs = std::move(fs);
    options.durability = GetParam();
    options.sync_every_events = 1'000'000;  // Nothing is synced but by sync().
    options.sync_every_ms = 1'000'000;
    options.projection_cache = cache_;
    auto opened = Store::open(kDir, options);
    ASSERT_TRUE(opened) << opened.error().to_string();
    store_ = std::move(*opened);
  }
  // Appends and waits until the event is visible (a kAsync append returns before that).
  void add(int64_t quantity) {
    auto receipt = store_->append(Coordinate::make("cart:1", "s").value(), ItemAdded{"sku", quantity});
    ASSERT_TRUE(receipt) << receipt.error().to_string();
    ASSERT_TRUE(store_->wait_for_visible(point_of(*receipt), 10'000));
  }
  // Cuts the power: the store is abandoned as it is, and reopened on what the disk kept
  // (only what a sync made durable).
  void cut_power_and_reopen() {
    std::shared_ptr<SimFs> disk = fs_->crashed_copy({}, false);
    fs_->crash_at(1);  // The abandoned store's close must not reach the disk either.
    store_.reset();
    fs_ = disk;
    open_on(fs_);
  }
  int64_t replayed_total() {
    auto plan = store_->replay_plan("cart:1", TypedTotal::relevant_kinds());
    EXPECT_TRUE(plan);
    auto events = store_->read_sequences(plan->global_sequences);
    EXPECT_TRUE(events);
    TypedTotal::State state;
    for (const Event& e : *events) {
      EXPECT_TRUE(TypedTotal::apply(state, e));
    }
    return state.total;
  }

  std::shared_ptr<SimFs> fs_ = std::make_shared<SimFs>();
  std::shared_ptr<ProjectionCache> cache_ = make_memory_cache(1 << 20);
  std::unique_ptr<Store> store_;
};

TEST_P(ProjectionCachePowerCut, RowOfLostEventsIsNotServedAsAFreshHit) {
  open_on(fs_);
  add(1);
  ASSERT_TRUE(store_->sync());
  add(2);
  add(3);
  auto before = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(before);
  ASSERT_EQ(before->state->total, 6);

  cut_power_and_reopen();
  ASSERT_EQ(store_->entity_generation("cart:1"), 1u) << "the unsynced events were lost";
  add(20);
  add(30);  // Back at global sequence 3 and generation 3, with other events.
  auto after = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->state->total, 51);
  EXPECT_EQ(after->state->total, replayed_total());
  EXPECT_EQ(after->generation, 3u);
  EXPECT_NE(after->observation.cache_status, CacheStatus::kHit);
  EXPECT_FALSE(after->observation.cache_reason.empty());

  auto again = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->observation.cache_status, CacheStatus::kHit) << "the replay rewrote the row";
  EXPECT_EQ(again->state->total, 51);
}

TEST_P(ProjectionCachePowerCut, RowOfLostEventsIsNotTheBaseOfAnIncrementalApply) {
  open_on(fs_);
  add(1);
  ASSERT_TRUE(store_->sync());
  add(2);
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));  // Row at generation 2, from a lost event.
  add(3);

  cut_power_and_reopen();
  add(20);
  add(30);
  add(40);
  auto after = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->observation.incremental) << "the row's base is not in the log";
  EXPECT_EQ(after->state->total, 91);
  EXPECT_EQ(after->state->total, replayed_total());
}

TEST_P(ProjectionCachePowerCut, RowOfDurableEventsStillServesAfterTheCut) {
  open_on(fs_);
  add(1);
  add(2);
  ASSERT_TRUE(store_->sync());
  ASSERT_TRUE(store_->project<TypedTotal>("cart:1"));  // Row at generation 2, all durable.
  add(3);

  cut_power_and_reopen();
  add(30);
  auto after = store_->project<TypedTotal>("cart:1");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->observation.cache_status, CacheStatus::kHit);
  EXPECT_TRUE(after->observation.incremental) << "the row's base survived, so it is advanced";
  EXPECT_EQ(after->state->total, 33);
  EXPECT_EQ(after->state->total, replayed_total());
}

INSTANTIATE_TEST_SUITE_P(Modes, ProjectionCachePowerCut,
                         ::testing::Values(Durability::kBuffered, Durability::kAsync),
                         [](const ::testing::TestParamInfo<Durability>& mode) {
                           return std::string(mode.param == Durability::kBuffered ? "Buffered" : "Async");
                         });

}  // namespace
}  // namespace batpak::testing
