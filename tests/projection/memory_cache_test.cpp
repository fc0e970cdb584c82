// The in-memory LRU cache: byte budget, recency, and the contract every storing cache meets.
#include <gtest/gtest.h>

#include "batpak/projection_cache.hpp"
#include "projection/cache_contract.hpp"

namespace batpak {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

TEST(MemoryCache, NeverHoldsMoreThanItsByteBudget) {
  auto cache = make_memory_cache(20);  // Each entry below is 2 + 8 = 10 bytes.
  ASSERT_TRUE(cache->put(bytes("k1"), bytes("aaaaaaaa")));
  ASSERT_TRUE(cache->put(bytes("k2"), bytes("bbbbbbbb")));
  ASSERT_TRUE(cache->get(bytes("k1")));  // k1 is now the most recent.
  ASSERT_TRUE(cache->put(bytes("k3"), bytes("cccccccc")));
  EXPECT_TRUE(cache->get(bytes("k1")).value().has_value());
  EXPECT_FALSE(cache->get(bytes("k2")).value().has_value()) << "least recent is evicted";
  EXPECT_TRUE(cache->get(bytes("k3")).value().has_value());
}

TEST(MemoryCache, RowLargerThanTheBudgetIsNotStored) {
  auto cache = make_memory_cache(4);
  ASSERT_TRUE(cache->put(bytes("k"), bytes("too large")));
  EXPECT_FALSE(cache->get(bytes("k")).value().has_value());
}

TEST(MemoryCache, MeetsTheCacheContract) {
  testing::expect_rows_replace_and_read_back(*make_memory_cache(1 << 20));
  testing::expect_long_keys_work(*make_memory_cache(1 << 20));
  testing::expect_delete_prefix_removes_only_matches(*make_memory_cache(1 << 20));
  testing::expect_concurrent_rows_stay_whole(*make_memory_cache(1 << 20), 200);
}

TEST(NoCache, StoresNothingAndSaysSo) {
  auto cache = make_no_cache();
  EXPECT_TRUE(cache->capabilities().is_noop);
  ASSERT_TRUE(cache->put(bytes("k"), bytes("v")));
  EXPECT_FALSE(cache->get(bytes("k")).value().has_value());
}

}  // namespace
}  // namespace batpak
