// The data directory's own entry under power cuts (SimFs: a new directory is durable only
// once its parent is synced). Invariant proved here: an event acknowledged under kSync
// survives a power cut right after it, also in a store made by that very open, whatever
// way the directory is named; and the cursors/ directory made by a first checkpoint
// survives with it.
#include <gtest/gtest.h>

#include <string>

#include "batpak/batpak.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);

void expect_survives_a_power_cut_after_one_append(const std::string& dir, const std::string& reopen_as) {
  auto fs = std::make_shared<SimFs>();
  StoreOptions options;
  options.fs = fs;
  auto store = Store::open(dir, options);
  ASSERT_TRUE(store) << store.error().to_string();
  auto receipt = (*store)->append(Coordinate::make("a", "s").value(), kKind, std::vector<uint8_t>{1});
  ASSERT_TRUE(receipt) << receipt.error().to_string();

  options.fs = fs->crashed_copy({}, false);  // Only what was made durable, under durable names.
  auto reopened = Store::open(reopen_as, options);
  ASSERT_TRUE(reopened) << reopened.error().to_string();
  auto event = (*reopened)->get(receipt->event_id);
  EXPECT_TRUE(event) << "the acknowledged event was lost with its directory";
}

TEST(DirectoryDurability, ANewStoresDirectorySurvivesAPowerCutAfterItsFirstAck) {
  expect_survives_a_power_cut_after_one_append("/sim/store", "/sim/store");
}

TEST(DirectoryDurability, ATrailingSlashNamesTheSameDirectory) {
  expect_survives_a_power_cut_after_one_append("/sim/store/", "/sim/store");
}

TEST(DirectoryDurability, TheCursorsDirectorySurvivesWithItsFirstCheckpoint) {
  auto fs = std::make_shared<SimFs>();
  StoreOptions options;
  options.fs = fs;
  auto store = Store::open("/sim/store", options);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE((*store)->append(Coordinate::make("a", "s").value(), kKind, std::vector<uint8_t>{1}));
  {
    auto cursor = Cursor::resume(**store, Region::all(), "billing");
    ASSERT_TRUE(cursor) << cursor.error().to_string();
    auto batch = cursor->poll_batch(10);
    ASSERT_TRUE(batch && batch->size() == 1u);
    ASSERT_TRUE(cursor->commit());
  }
  options.fs = fs->crashed_copy({}, false);
  auto reopened = Store::open("/sim/store", options);
  ASSERT_TRUE(reopened) << reopened.error().to_string();
  ASSERT_EQ((*reopened)->entity_generation("a"), 1u) << "the acknowledged event was lost";
  auto cursor = Cursor::resume(**reopened, Region::all(), "billing");
  ASSERT_TRUE(cursor) << cursor.error().to_string();
  auto batch = cursor->poll_batch(10);
  ASSERT_TRUE(batch);
  EXPECT_TRUE(batch->empty()) << "the committed checkpoint was lost with cursors/";
}

}  // namespace
}  // namespace batpak::testing
