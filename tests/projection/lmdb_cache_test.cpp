// The LMDB cache: rows round-trip, persist across cache objects, delete by prefix, take long
// keys, fail puts (never projections) when the map is full, and serve a store's projections.
#include <gtest/gtest.h>

#include "projection/cache_contract.hpp"
#include "projection/projection_fixtures.hpp"

namespace batpak::testing {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::shared_ptr<ProjectionCache> open_lmdb(const std::string& dir, uint64_t map_bytes = 1ull << 24) {
  auto cache = make_lmdb_cache(dir, map_bytes);
  EXPECT_TRUE(cache) << cache.error().to_string();
  return cache ? *cache : nullptr;
}

TEST(LmdbCache, RowsReplaceAndPersistAcrossCacheObjects) {
  TempDir dir;
  {
    auto cache = open_lmdb(dir.sub("c"));
    expect_rows_replace_and_read_back(*cache);
    ASSERT_TRUE(cache->sync());
  }
  auto again = open_lmdb(dir.sub("c"));  // The first one is closed: one env per process.
  EXPECT_EQ(*again->get(bytes("k")).value(), bytes("two"));
}

TEST(LmdbCache, MeetsTheCacheContract) {
  TempDir dir;
  expect_long_keys_work(*open_lmdb(dir.sub("long-keys")));  // Past LMDB's 511-byte key limit.
  expect_delete_prefix_removes_only_matches(*open_lmdb(dir.sub("prefix")));
  expect_concurrent_rows_stay_whole(*open_lmdb(dir.sub("concurrent")), 200);
}

TEST(LmdbCache, AFullMapFailsPutsButNeverAProjection) {
  TempDir dir;
  auto cache = open_lmdb(dir.sub("c"), 256 * 1024);
  const std::vector<uint8_t> row(8000, 'r');
  Status put;
  for (int i = 0; i < 200 && put; ++i) put = cache->put(bytes("key-" + std::to_string(i)), row);
  ASSERT_FALSE(put) << "about 1.6 MB cannot fit a 256 KiB map";
  EXPECT_EQ(put.error().code, ErrorCode::kIo);
  put = {};
  for (int i = 0; i < 100000 && put; ++i) {  // Fill what small rows still fit.
    put = cache->put(bytes("small-" + std::to_string(i)), std::vector<uint8_t>(64, 's'));
  }
  ASSERT_FALSE(put);

  StoreOptions options;
  options.projection_cache = cache;
  auto store = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->append(*Coordinate::make("cart:1", "s"), ItemAdded{"sku", 4}));
  auto p = (*store)->project<TypedTotal>("cart:1");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->state->total, 4);
  EXPECT_EQ(p->observation.cache_status, CacheStatus::kUnavailable);
}

TEST(LmdbCache, ServesAStoreAcrossReopen) {
  TempDir dir;
  EXPECT_NE(expect_serves_a_store_across_reopen([&] { return open_lmdb(dir.sub("cache")); }, dir.sub("store")),
            nullptr);
}

}  // namespace
}  // namespace batpak::testing
