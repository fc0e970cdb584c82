// Projections while the entity grows. One thread appends to an entity, alternating a
// relevant event (quantity 1) and an irrelevant note; reader threads project it through one
// shared cache (consistent and maybe-stale, incremental and not) at the same time.
// Invariant proved here: every result is the fold of exactly the entity's first
// `generation` events (the honest-generation rule), whichever path served it (fresh hit,
// incremental apply over a plan listed after the summary, full replay), and a thread never
// sees its generation go back. Runs under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "projection/projection_fixtures.hpp"

namespace batpak::testing {
namespace {

constexpr int kAppends = 300;  // Events 1, 3, 5, ... are relevant; 2, 4, ... are notes.

template <Projection P>
std::string check(const Result<Projected<typename P::State>>& p, uint64_t& last_generation) {
  if (!p) return "project failed: " + p.error().to_string();
  if (!p->state) return "no state at generation " + std::to_string(p->generation);
  const int64_t relevant = static_cast<int64_t>((p->generation + 1) / 2);
  if (p->state->items != relevant || p->state->total != relevant) {
    return "generation " + std::to_string(p->generation) + " carries the fold of " +
           std::to_string(p->state->items) + " relevant events, not " + std::to_string(relevant);
  }
  if (p->observation.freshness == ObservedFreshness::kStaleAllowed) return {};  // An older row may be served.
  if (p->generation < last_generation) return "generation went back";
  last_generation = p->generation;
  return {};
}

TEST(ProjectionConcurrency, EveryResultIsTheFoldOfItsGenerationWhileTheEntityGrows) {
  TempDir dir;
  StoreOptions options;
  options.projection_cache = make_memory_cache(1 << 20);
  auto opened = Store::open(dir.path(), options);
  ASSERT_TRUE(opened) << opened.error().to_string();
  Store& store = **opened;
  const Coordinate cart = Coordinate::make("cart:1", "s").value();
  ASSERT_TRUE(store.append(cart, ItemAdded{"sku", 1}));  // The readers always find state.

  std::atomic<bool> done{false};
  std::mutex failures_mu;
  std::vector<std::string> failures;
  auto fail = [&](const std::string& what) {
    std::lock_guard lock(failures_mu);
    failures.push_back(what);
  };
  auto reader = [&](auto projection, Freshness freshness) {
    using P = decltype(projection);
    uint64_t last_generation = 0;
    while (!done.load()) {
      if (std::string why = check<P>(store.project<P>("cart:1", freshness), last_generation); !why.empty()) {
        return fail(std::string(P::kName) + ": " + why);
      }
    }
  };
  std::vector<std::thread> readers;
  readers.emplace_back(reader, TypedTotal{}, Freshness::consistent());
  readers.emplace_back(reader, FullOnlyTotal{}, Freshness::consistent());
  readers.emplace_back(reader, JsonTotal{}, Freshness::maybe_stale(1'000'000));
  for (int i = 2; i <= kAppends; ++i) {
    const bool relevant = i % 2 == 1;
    auto r = relevant ? store.append(cart, ItemAdded{"sku", 1})
                      : store.append(cart, kNoteKind, json_to_payload({{"note", i}}));
    if (!r) fail("append: " + r.error().to_string());
  }
  done = true;
  for (std::thread& t : readers) t.join();
  for (const std::string& f : failures) ADD_FAILURE() << f;

  uint64_t last = 0;
  EXPECT_EQ(check<TypedTotal>(store.project<TypedTotal>("cart:1"), last), "");
  EXPECT_EQ(last, static_cast<uint64_t>(kAppends));
}

}  // namespace
}  // namespace batpak::testing
