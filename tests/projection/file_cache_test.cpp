// The file-per-key cache: rows round-trip, survive a new cache object, refuse symlinks,
// heal damaged files, surface real I/O errors, and serve a store's projections.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "projection/projection_fixtures.hpp"

namespace batpak::testing {
namespace {

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

std::shared_ptr<ProjectionCache> open_cache(const std::string& root) {
  auto cache = make_file_cache(root);
  EXPECT_TRUE(cache) << cache.error().to_string();
  return cache ? *cache : nullptr;
}

// The single row file under `root`.
std::filesystem::path only_row_file(const std::string& root) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (e.path().extension() == ".row") return e.path();
  }
  return {};
}

TEST(FileCache, RowsRoundTripAndSurviveANewCacheObject) {
  TempDir dir;
  auto cache = open_cache(dir.sub("c"));
  EXPECT_FALSE(cache->get(bytes("k")).value().has_value());
  ASSERT_TRUE(cache->put(bytes("k"), bytes("one")));
  ASSERT_TRUE(cache->put(bytes("k"), bytes("two")));
  EXPECT_EQ(*cache->get(bytes("k")).value(), bytes("two"));
  auto again = open_cache(dir.sub("c"));
  EXPECT_EQ(*again->get(bytes("k")).value(), bytes("two"));
}

TEST(FileCache, KeysLongerThanAFileNameWork) {
  TempDir dir;
  auto cache = open_cache(dir.sub("c"));
  const std::vector<uint8_t> key(1100, 'x');
  ASSERT_TRUE(cache->put(key, bytes("row")));
  EXPECT_EQ(*cache->get(key).value(), bytes("row"));
}

TEST(FileCache, DeletePrefixRemovesOnlyMatchingKeysAndCountsThem) {
  TempDir dir;
  auto cache = open_cache(dir.sub("c"));
  for (const char* k : {"a1", "a2", "b1"}) ASSERT_TRUE(cache->put(bytes(k), bytes("v")));
  EXPECT_EQ(cache->delete_prefix(bytes("a")).value(), 2u);
  EXPECT_FALSE(cache->get(bytes("a1")).value().has_value());
  EXPECT_TRUE(cache->get(bytes("b1")).value().has_value());
  EXPECT_EQ(cache->delete_prefix({}).value(), 1u);
  EXPECT_EQ(cache->delete_prefix({}).value(), 0u) << "idempotent";
}

TEST(FileCache, DamagedRowFileIsAMissAndIsDeleted) {
  TempDir dir;
  auto cache = open_cache(dir.sub("c"));
  ASSERT_TRUE(cache->put(bytes("k"), bytes("row")));
  const auto file = only_row_file(dir.sub("c"));
  std::filesystem::resize_file(file, 2);  // Too short to hold its key.
  EXPECT_FALSE(cache->get(bytes("k")).value().has_value());
  EXPECT_FALSE(std::filesystem::exists(file)) << "self-heal removes the damaged file";
}

TEST(FileCache, SymbolicLinksAreRefused) {
  TempDir dir;
  std::filesystem::create_directory(dir.sub("real"));
  std::filesystem::create_directory_symlink(dir.sub("real"), dir.sub("link"));
  auto root_link = make_file_cache(dir.sub("link"));
  ASSERT_FALSE(root_link);
  EXPECT_EQ(root_link.error().code, ErrorCode::kIo);

  auto cache = open_cache(dir.sub("c"));
  ASSERT_TRUE(cache->put(bytes("k"), bytes("row")));
  const auto file = only_row_file(dir.sub("c"));
  std::filesystem::remove(file);
  std::filesystem::create_symlink(dir.sub("real"), file);
  EXPECT_FALSE(cache->get(bytes("k"))) << "a row that is a symlink is an error, not a row";
  EXPECT_FALSE(cache->put(bytes("k"), bytes("row")));
}

TEST(FileCache, ConcurrentWritersNeverExposeATornRow) {
  TempDir dir;
  auto cache = open_cache(dir.sub("c"));
  const auto key = bytes("shared");
  const auto a = encode_cache_row(key, CacheRow{1, 1, 1, std::vector<uint8_t>(5000, 'a')});
  const auto b = encode_cache_row(key, CacheRow{2, 2, 2, std::vector<uint8_t>(7000, 'b')});
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        (void)cache->put(key, t % 2 ? a : b);
        auto row = cache->get(key);
        if (!row || (*row && !decode_cache_row(key, **row))) ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(FileCache, ServesAStoreAcrossReopenAndReportsRealFailures) {
  TempDir dir;
  StoreOptions options;
  options.projection_cache = open_cache(dir.sub("cache"));
  {
    auto store = Store::open(dir.sub("store"), options);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->append(*Coordinate::make("cart:1", "s"), ItemAdded{"sku", 5}));
    auto first = (*store)->project<TypedTotal>("cart:1");
    ASSERT_TRUE(first);
    EXPECT_EQ(first->observation.cache_status, CacheStatus::kMiss);
  }
  options.projection_cache = open_cache(dir.sub("cache"));
  auto store = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(store);
  auto hit = (*store)->project<TypedTotal>("cart:1");
  ASSERT_TRUE(hit);
  EXPECT_EQ(hit->observation.cache_status, CacheStatus::kHit);
  EXPECT_EQ(hit->state->total, 5);

  // A shard path that is a regular file is a real failure: observed, never fatal.
  const auto shard = only_row_file(dir.sub("cache")).parent_path();
  std::filesystem::remove_all(shard);
  std::ofstream(shard.string()) << "not a directory";
  auto failed = (*store)->project<TypedTotal>("cart:1");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->observation.cache_status, CacheStatus::kUnavailable);
  EXPECT_EQ(failed->state->total, 5);
}

}  // namespace
}  // namespace batpak::testing
