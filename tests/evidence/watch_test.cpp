// Projection watchers: each generation delivered at most once and in increasing order, with
// the honest state, no startup race, timeouts, and a clean kClosed when the store closes.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

#include "evidence/evidence_fixtures.hpp"

namespace batpak::testing {
namespace {

using namespace std::chrono_literals;

class Watch : public EvidenceStore {};

TEST_F(Watch, RecvDeliversEachNewGenerationOnce) {
  open_with(nullptr);
  add("cart:1", 1);  // Before the watcher: not delivered.
  auto watcher = watch<TypedTotal>(*store_, "cart:1");
  EXPECT_EQ(watcher.last_generation(), 1u);
  add("cart:1", 2);
  BATPAK_ASSERT_OK_AND_ASSIGN(first, watcher.recv(1000));
  EXPECT_EQ(first.generation, 2u);
  EXPECT_EQ(first.state->total, 3);
  BATPAK_EXPECT_ERROR(watcher.recv(20), ErrorCode::kTimeout);  // Not delivered again.
  add("cart:1", 4);
  BATPAK_ASSERT_OK_AND_ASSIGN(second, watcher.recv(1000));
  EXPECT_EQ(second.generation, 3u);
  EXPECT_EQ(second.state->total, 7);
}

TEST_F(Watch, IrrelevantAppendDeliversTheSameStateAtANewerGeneration) {
  open_with(make_memory_cache(1 << 20));
  add("cart:1", 5);
  auto watcher = watch_from<TypedTotal>(*store_, "cart:1", Freshness::consistent(), 0);
  BATPAK_ASSERT_OK_AND_ASSIGN(before, watcher.recv(1000));
  note("cart:1");
  BATPAK_ASSERT_OK_AND_ASSIGN(after, watcher.recv(1000));
  EXPECT_EQ(before.generation, 1u);
  EXPECT_EQ(after.generation, 2u);
  EXPECT_EQ(*after.state, *before.state);
}

TEST_F(Watch, AppendBetweenCreationAndFirstRecvIsNotMissed) {
  open_with(nullptr);
  auto watcher = watch<TypedTotal>(*store_, "cart:1");
  add("cart:1", 3);
  // A zero timeout cannot wait for a wakeup: only the check before blocking can see it.
  BATPAK_ASSERT_OK_AND_ASSIGN(update, watcher.recv(0));
  EXPECT_EQ(update.generation, 1u);
  EXPECT_EQ(update.state->total, 3);
}

TEST_F(Watch, TimesOutWhenTheEntityDoesNotChange) {
  open_with(nullptr);
  add("cart:1", 1);
  auto watcher = watch<TypedTotal>(*store_, "cart:1");
  add("other", 1);  // Another entity: wakes the wait, delivers nothing.
  const auto start = std::chrono::steady_clock::now();
  BATPAK_EXPECT_ERROR(watcher.recv(50), ErrorCode::kTimeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_EQ(watcher.last_generation(), 1u);
}

TEST_F(Watch, BlockedRecvWakesForAnAppendFromAnotherThread) {
  open_with(nullptr);
  auto watcher = watch<TypedTotal>(*store_, "cart:1");
  auto pending = std::async(std::launch::async, [&] { return watcher.recv(10'000); });
  std::this_thread::sleep_for(50ms);
  add("cart:1", 8);
  auto update = pending.get();
  ASSERT_TRUE(update) << update.error().to_string();
  EXPECT_EQ(update->generation, 1u);
  EXPECT_EQ(update->state->total, 8);
}

TEST_F(Watch, BlockedRecvReturnsClosedWhenTheStoreCloses) {
  open_with(nullptr);
  auto watcher = watch<TypedTotal>(*store_, "cart:1");
  const auto start = std::chrono::steady_clock::now();
  auto pending = std::async(std::launch::async, [&] { return watcher.recv(10'000); });
  std::this_thread::sleep_for(50ms);
  ASSERT_TRUE(store_->close());
  auto update = pending.get();
  ASSERT_FALSE(update);
  EXPECT_EQ(update.error().code, ErrorCode::kClosed);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);  // Woken, not timed out.
  BATPAK_EXPECT_ERROR(watcher.recv(0), ErrorCode::kClosed);
}

TEST_F(Watch, WatchFromResumesFromAPersistedGenerationAfterReopen) {
  open_with(nullptr);
  add("cart:1", 1);
  auto watcher = watch_from<TypedTotal>(*store_, "cart:1", Freshness::consistent(), 0);
  BATPAK_ASSERT_OK_AND_ASSIGN(seen, watcher.recv(1000));
  const uint64_t persisted = watcher.last_generation();
  EXPECT_EQ(persisted, seen.generation);
  add("cart:1", 2);  // Committed while nobody watches.
  add("cart:1", 3);
  open_with(nullptr);  // Restart.
  auto resumed = watch_from<TypedTotal>(*store_, "cart:1", Freshness::consistent(), persisted);
  BATPAK_ASSERT_OK_AND_ASSIGN(update, resumed.recv(0));
  EXPECT_EQ(update.generation, 3u);
  EXPECT_EQ(update.state->total, 6);
  BATPAK_EXPECT_ERROR(resumed.recv(10), ErrorCode::kTimeout);
}

// Under concurrent appends every delivery is a new, larger generation whose state reflects
// exactly that generation (every event is relevant, so items == generation).
TEST_F(Watch, ConcurrentAppendsDeliverIncreasingHonestGenerations) {
  open_with(make_memory_cache(1 << 20));
  constexpr uint64_t kEvents = 200;
  auto watcher = watch<TypedTotal>(*store_, "cart:1");
  std::thread writer([&] {
    auto c = Coordinate::make("cart:1", "test");
    for (uint64_t i = 0; i < kEvents; ++i) {
      if (!store_->append(*c, ItemAdded{"sku", 1})) return;
      auto o = Coordinate::make("other", "test");
      if (!store_->append(*o, ItemAdded{"sku", 1})) return;
    }
  });
  uint64_t last = 0;
  uint64_t deliveries = 0;
  while (last < kEvents) {
    auto update = watcher.recv(10'000);
    if (!update) break;
    EXPECT_GT(update->generation, last);
    EXPECT_EQ(static_cast<uint64_t>(update->state->items), update->generation);
    last = update->generation;
    ++deliveries;
  }
  writer.join();
  EXPECT_EQ(last, kEvents);
  EXPECT_GE(deliveries, 1u);
  EXPECT_LE(deliveries, kEvents);
}

}  // namespace
}  // namespace batpak::testing
