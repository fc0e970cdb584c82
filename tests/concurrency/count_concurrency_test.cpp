// Store::count_matching while appenders commit (run under ThreadSanitizer in CI).
// Invariant proved here: with and without an entity prefix, successive counts never go down
// and never pass the events committed by then; once the appenders are done, a count is exact.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "concurrency/entity_appenders.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr int kAppenders = 3;
constexpr int kEventsPerAppender = 200;

TEST(CountConcurrency, CountsGrowWithTheJournalAndEndExact) {
  TempDir tmp;
  auto store = Store::open(tmp.sub("store"));
  ASSERT_TRUE(store) << store.error().to_string();
  EntityAppenders appenders;
  appenders.start(**store, kAppenders, kEventsPerAppender);
  int failures = 0;
  const std::vector<Region> regions = {Region::all(), Region::entity("e"), Region::all().with_scope("s")};
  std::vector<uint64_t> last(regions.size(), 0);
  int rounds = 0;
  while (appenders.left.load() > 0 && failures == 0) {
    for (size_t r = 0; r < regions.size(); ++r) {
      auto count = (*store)->count_matching(regions[r]);
      if (!count || *count < last[r] || *count > appenders.committed.load() + kAppenders) ++failures;
      if (count) last[r] = *count;
    }
    ++rounds;
  }
  appenders.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(appenders.failures.load(), 0);
  for (const Region& region : regions) {
    auto count = (*store)->count_matching(region);
    ASSERT_TRUE(count);
    EXPECT_EQ(*count, static_cast<uint64_t>(kAppenders * kEventsPerAppender)) << region.identity();
  }
  RecordProperty("count_rounds_during_appends", rounds);
}

}  // namespace
}  // namespace batpak::testing
