// What every ProjectionCache that stores rows must do, as checks its own test file calls: rows replace
// and read back, long keys work, delete_prefix removes only matches and counts them, and
// concurrent writers and readers never see a torn row. The backend's own tests add what is
// particular to it (persistence, damage, limits).
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "batpak/projection_cache.hpp"
#include "projection/projection_fixtures.hpp"

namespace batpak::testing {

inline std::vector<uint8_t> cache_bytes(std::string_view s) { return {s.begin(), s.end()}; }

// A missing key reads as no row; a second put replaces the first.
inline void expect_rows_replace_and_read_back(ProjectionCache& cache) {
  EXPECT_FALSE(cache.get(cache_bytes("k")).value().has_value());
  ASSERT_TRUE(cache.put(cache_bytes("k"), cache_bytes("one")));
  ASSERT_TRUE(cache.put(cache_bytes("k"), cache_bytes("two")));
  EXPECT_EQ(*cache.get(cache_bytes("k")).value(), cache_bytes("two"));
}

// 1100-byte keys: longer than a file name and than LMDB's own key limit (511 bytes).
inline void expect_long_keys_work(ProjectionCache& cache) {
  const std::vector<uint8_t> key(1100, 'x');
  ASSERT_TRUE(cache.put(key, cache_bytes("row")));
  EXPECT_EQ(*cache.get(key).value(), cache_bytes("row"));
}

inline void expect_delete_prefix_removes_only_matches(ProjectionCache& cache) {
  for (const char* k : {"a1", "a2", "a3", "b1"}) ASSERT_TRUE(cache.put(cache_bytes(k), cache_bytes("v")));
  EXPECT_EQ(cache.delete_prefix(cache_bytes("a")).value(), 3u);
  EXPECT_FALSE(cache.get(cache_bytes("a2")).value().has_value());
  EXPECT_TRUE(cache.get(cache_bytes("b1")).value().has_value());
  EXPECT_EQ(cache.delete_prefix({}).value(), 1u);
  EXPECT_EQ(cache.delete_prefix({}).value(), 0u) << "idempotent";
}

// Four threads put two rows of different sizes under one key and read it back; every row
// read must decode whole, and no put may fail.
inline void expect_concurrent_rows_stay_whole(ProjectionCache& cache, int rounds_per_thread) {
  const auto key = cache_bytes("shared");
  const auto a = encode_cache_row(key, CacheRow{1, 1, 1, std::vector<uint8_t>(5000, 'a'), {}});
  const auto b = encode_cache_row(key, CacheRow{2, 2, 2, std::vector<uint8_t>(7000, 'b'), {}});
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < rounds_per_thread; ++i) {
        if (!cache.put(key, t % 2 ? a : b)) ++bad;
        auto row = cache.get(key);
        if (!row || (*row && !decode_cache_row(key, **row))) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

// A store projects through a cache from `open_cache` (a miss, then an incremental apply),
// closes, and a reopened store over a fresh cache object finds the row: a hit, total 11.
// Returns that reopened store (holding its cache) for further checks; null after a failure.
inline std::unique_ptr<Store> expect_serves_a_store_across_reopen(
    const std::function<std::shared_ptr<ProjectionCache>()>& open_cache, const std::string& store_dir) {
  const Coordinate cart = *Coordinate::make("cart:1", "s");
  StoreOptions options;
  {
    options.projection_cache = open_cache();
    auto store = Store::open(store_dir, options);
    EXPECT_TRUE(store);
    if (!store) return nullptr;
    EXPECT_TRUE((*store)->append(cart, ItemAdded{"sku", 5}));
    auto first = (*store)->project<TypedTotal>("cart:1");
    EXPECT_TRUE(first && first->observation.cache_status == CacheStatus::kMiss);
    EXPECT_TRUE((*store)->append(cart, ItemAdded{"sku", 6}));
    auto advanced = (*store)->project<TypedTotal>("cart:1");
    EXPECT_TRUE(advanced && advanced->observation.incremental && advanced->state->total == 11);
    options.projection_cache.reset();  // The store holds the only reference now.
  }
  options.projection_cache = open_cache();
  auto store = Store::open(store_dir, options);
  EXPECT_TRUE(store);
  if (!store) return nullptr;
  auto hit = (*store)->project<TypedTotal>("cart:1");
  EXPECT_TRUE(hit);
  if (!hit) return nullptr;
  EXPECT_EQ(hit->observation.cache_status, CacheStatus::kHit);
  EXPECT_EQ(hit->state->total, 11);
  return std::move(*store);
}

}  // namespace batpak::testing
