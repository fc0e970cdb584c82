// The in-memory LRU cache: byte budget, recency, prefix deletion.
#include <gtest/gtest.h>

#include "batpak/projection_cache.hpp"

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

TEST(MemoryCache, PutReplacesAndDeletePrefixCounts) {
  auto cache = make_memory_cache(1 << 10);
  ASSERT_TRUE(cache->put(bytes("a1"), bytes("x")));
  ASSERT_TRUE(cache->put(bytes("a1"), bytes("y")));
  ASSERT_TRUE(cache->put(bytes("a2"), bytes("z")));
  ASSERT_TRUE(cache->put(bytes("b1"), bytes("w")));
  EXPECT_EQ(*cache->get(bytes("a1")).value(), bytes("y"));
  EXPECT_EQ(cache->delete_prefix(bytes("a")).value(), 2u);
  EXPECT_FALSE(cache->get(bytes("a2")).value().has_value());
  EXPECT_EQ(cache->delete_prefix({}).value(), 1u);
}

TEST(NoCache, StoresNothingAndSaysSo) {
  auto cache = make_no_cache();
  EXPECT_TRUE(cache->capabilities().is_noop);
  ASSERT_TRUE(cache->put(bytes("k"), bytes("v")));
  EXPECT_FALSE(cache->get(bytes("k")).value().has_value());
}

}  // namespace
}  // namespace batpak
