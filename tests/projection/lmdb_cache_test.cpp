// The LMDB cache: rows round-trip, persist across cache objects, delete by prefix, take long
// keys, fail puts (never projections) when the map is full, and serve a store's projections.
#include <gtest/gtest.h>

#include <thread>

#include "projection/projection_fixtures.hpp"

namespace batpak::testing {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::shared_ptr<ProjectionCache> open_lmdb(const std::string& dir, uint64_t map_bytes = 1ull << 24) {
  auto cache = make_lmdb_cache(dir, map_bytes);
  EXPECT_TRUE(cache) << cache.error().to_string();
  return cache ? *cache : nullptr;
}

TEST(LmdbCache, RowsRoundTripAndPersistAcrossCacheObjects) {
  TempDir dir;
  {
    auto cache = open_lmdb(dir.sub("c"));
    EXPECT_FALSE(cache->get(bytes("k")).value().has_value());
    ASSERT_TRUE(cache->put(bytes("k"), bytes("one")));
    ASSERT_TRUE(cache->put(bytes("k"), bytes("two")));
    EXPECT_EQ(*cache->get(bytes("k")).value(), bytes("two"));
    ASSERT_TRUE(cache->sync());
  }
  auto again = open_lmdb(dir.sub("c"));  // The first one is closed: one env per process.
  EXPECT_EQ(*again->get(bytes("k")).value(), bytes("two"));
}

TEST(LmdbCache, KeysLongerThanLmdbAllowsWork) {
  TempDir dir;
  auto cache = open_lmdb(dir.sub("c"));
  const std::vector<uint8_t> key(1100, 'x');  // LMDB's own key limit is 511 bytes.
  ASSERT_TRUE(cache->put(key, bytes("row")));
  EXPECT_EQ(*cache->get(key).value(), bytes("row"));
}

TEST(LmdbCache, DeletePrefixRemovesOnlyMatchingKeysAndCountsThem) {
  TempDir dir;
  auto cache = open_lmdb(dir.sub("c"));
  for (const char* k : {"a1", "a2", "a3", "b1"}) ASSERT_TRUE(cache->put(bytes(k), bytes("v")));
  EXPECT_EQ(cache->delete_prefix(bytes("a")).value(), 3u);
  EXPECT_FALSE(cache->get(bytes("a2")).value().has_value());
  EXPECT_TRUE(cache->get(bytes("b1")).value().has_value());
  EXPECT_EQ(cache->delete_prefix({}).value(), 1u);
  EXPECT_EQ(cache->delete_prefix({}).value(), 0u);
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

TEST(LmdbCache, ConcurrentReadersAndWritersSeeWholeRows) {
  TempDir dir;
  auto cache = open_lmdb(dir.sub("c"));
  const auto key = bytes("shared");
  const auto a = encode_cache_row(key, CacheRow{1, 1, 1, std::vector<uint8_t>(3000, 'a')});
  const auto b = encode_cache_row(key, CacheRow{2, 2, 2, std::vector<uint8_t>(5000, 'b')});
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!cache->put(key, t % 2 ? a : b)) ++bad;
        auto row = cache->get(key);
        if (!row || (*row && !decode_cache_row(key, **row))) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(LmdbCache, ServesAStoreAcrossReopen) {
  TempDir dir;
  StoreOptions options;
  {
    options.projection_cache = open_lmdb(dir.sub("cache"));
    auto store = Store::open(dir.sub("store"), options);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->append(*Coordinate::make("cart:1", "s"), ItemAdded{"sku", 5}));
    auto first = (*store)->project<TypedTotal>("cart:1");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->observation.cache_status, CacheStatus::kMiss);
    ASSERT_TRUE((*store)->append(*Coordinate::make("cart:1", "s"), ItemAdded{"sku", 6}));
    auto advanced = (*store)->project<TypedTotal>("cart:1");
    ASSERT_TRUE(advanced);
    EXPECT_TRUE(advanced->observation.incremental);
    EXPECT_EQ(advanced->state->total, 11);
    options.projection_cache.reset();
  }
  options.projection_cache = open_lmdb(dir.sub("cache"));
  auto store = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(store);
  auto hit = (*store)->project<TypedTotal>("cart:1");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->observation.cache_status, CacheStatus::kHit);
  EXPECT_EQ(hit->state->total, 11);
}

}  // namespace
}  // namespace batpak::testing
