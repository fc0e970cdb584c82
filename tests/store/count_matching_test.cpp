// Store::count_matching: the number of a region's events after a global sequence.
// Invariant proved here: for every region shape (with and without an entity prefix, scope,
// kinds and clock range) and every starting sequence, the count equals the number of events
// query_after returns, hidden events of a cancelled fence never counted.
#include "store_fixtures.hpp"

namespace batpak::store_test {
namespace {

using CountMatchingTest = StoreTest;

TEST_F(CountMatchingTest, EqualsTheEventsAQueryReturnsForEveryRegionAndStart) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 12; ++i) {
    const std::string entity = i % 3 == 0 ? "order:" + std::to_string(i % 4) : (i % 3 == 1 ? "order7" : "user:1");
    ASSERT_TRUE(store->append(coord(entity, i % 2 ? "a" : "b"), i % 4 ? kKindA : kKindB, bytes("p")));
  }
  auto fence = store->begin_fence();
  ASSERT_TRUE(fence);
  ASSERT_TRUE(fence->append(coord("order:1"), kKindA, bytes("hidden")));
  ASSERT_TRUE(fence->append(coord("user:1"), kKindA, bytes("hidden")));
  ASSERT_TRUE(fence->cancel());
  ASSERT_TRUE(store->append(coord("order:1", "a"), kKindA, bytes("after the fence")));

  const std::vector<Region> regions = {
      Region::all(),
      Region::entity("order"),
      Region::entity("order7"),
      Region::entity("user:1").with_scope("a"),
      Region::entity("order").with_kinds(KindFilter::exact(kKindB)),
      Region::all().with_kinds(KindFilter::category(kKindA.category())),
      Region::entity("order").with_clock_range(2, 3),
      Region::all().with_scope("b").with_clock_range(1, 1),
      Region::entity("nobody"),
  };
  uint64_t nonzero = 0;
  for (const Region& region : regions) {
    for (uint64_t after : {uint64_t{0}, uint64_t{1}, uint64_t{6}, uint64_t{12}, uint64_t{13}, uint64_t{15},
                           UINT64_MAX}) {
      BATPAK_ASSERT_OK_AND_ASSIGN(events, store->query_after(region, after, SIZE_MAX));
      BATPAK_ASSERT_OK_AND_ASSIGN(count, store->count_matching(region, after));
      EXPECT_EQ(count, events.size()) << region.identity() << " after " << after;
      nonzero += count != 0;
    }
  }
  EXPECT_GT(nonzero, 20u);
  BATPAK_ASSERT_OK_AND_ASSIGN(all, store->count_matching(Region::all()));
  EXPECT_EQ(all, 13u) << "the two cancelled events are not counted";
  BATPAK_ASSERT_OK(store->close());
  BATPAK_EXPECT_ERROR(store->count_matching(Region::all()), ErrorCode::kClosed);
}

}  // namespace
}  // namespace batpak::store_test
