// The file-per-key cache: rows round-trip, survive a new cache object, refuse symlinks,
// heal damaged files, surface real I/O errors, and serve a store's projections.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "projection/cache_contract.hpp"
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

TEST(FileCache, RowsReplaceAndSurviveANewCacheObject) {
  TempDir dir;
  expect_rows_replace_and_read_back(*open_cache(dir.sub("c")));
  auto again = open_cache(dir.sub("c"));
  EXPECT_EQ(*again->get(bytes("k")).value(), bytes("two"));
}

TEST(FileCache, MeetsTheCacheContract) {
  TempDir dir;
  expect_long_keys_work(*open_cache(dir.sub("long-keys")));  // Longer than a file name.
  expect_delete_prefix_removes_only_matches(*open_cache(dir.sub("prefix")));
  expect_concurrent_rows_stay_whole(*open_cache(dir.sub("concurrent")), 100);
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

TEST(FileCache, ServesAStoreAcrossReopenAndReportsRealFailures) {
  TempDir dir;
  auto store = expect_serves_a_store_across_reopen([&] { return open_cache(dir.sub("cache")); }, dir.sub("store"));
  ASSERT_NE(store, nullptr);

  // A shard path that is a regular file is a real failure: observed, never fatal.
  const auto shard = only_row_file(dir.sub("cache")).parent_path();
  std::filesystem::remove_all(shard);
  std::ofstream(shard.string()) << "not a directory";
  auto failed = store->project<TypedTotal>("cart:1");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->observation.cache_status, CacheStatus::kUnavailable);
  EXPECT_EQ(failed->state->total, 11);
}

}  // namespace
}  // namespace batpak::testing
