// Keyset::change_master_key. Invariants proved here: after a change every key is in the new
// file wrapped under the new master key (or as it is, without one) and in no other form,
// the file opens only with the new master key, and keys made or shredded afterwards follow
// it; the old file's bytes are zeros once the new one is durable; and a change that fails at
// any call leaves a keyset that still works, a file that opens (with the old master key or
// the new one) holding every key, and no temporary copy of the keys.
#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <vector>

#include "batpak/batpak.hpp"
#include "crypto/keyset.hpp"
#include "util/durable_file.hpp"
#include "support/assertions.hpp"
#include "support/file_bytes.hpp"
#include "support/sim_fs.hpp"
#include "unit/keys_test_support.hpp"

namespace batpak::crypto {
namespace {

const MasterKey kOld{0x01, 0x0d};
const MasterKey kNew{0x0e, 0x3e};

class MasterKeyChange : public KeysDirTest {
 protected:
  std::string path() const { return dir + "/" + kKeysFileName; }
  // Opens the file read-only under `master_key` and returns its keys by id, or an error.
  Result<std::vector<KeyRecord>> keys_under(const std::optional<MasterKey>& master_key) {
    auto opened = Keyset::open(fs, dir, false, false, master_key, report);
    if (!opened) return tl::unexpected(opened.error());
    std::vector<KeyRecord> keys;
    for (uint32_t id = 1; id <= (*opened)->key_count(); ++id) keys.push_back(*(*opened)->lookup(id));
    return keys;
  }
};

TEST_F(MasterKeyChange, EveryKeyIsRewrappedAndOnlyTheNewMasterKeyOpensTheFile) {
  std::vector<Key> made;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, kOld, report));
    for (std::string_view entity : {"a", "b", "c"}) {
      BATPAK_ASSERT_OK_AND_ASSIGN(got, key_for(*keys, entity));
      made.push_back(got.second);
    }
    BATPAK_ASSERT_OK(keys->shred("b"));
    BATPAK_ASSERT_OK_AND_ASSIGN(old_header, decode_keys_file(testing::read_file_bytes(path())));
    BATPAK_ASSERT_OK(keys->change_master_key(*fs, dir, kNew));
    EXPECT_TRUE(keys->wraps_keys());
    EXPECT_EQ(keys->encode_file(), testing::read_file_bytes(path()));
    BATPAK_ASSERT_OK_AND_ASSIGN(d, key_for(*keys, "d"));  // Made after the change: wrapped under the new one.
    made.push_back(d.second);
    BATPAK_ASSERT_OK(keys->shred("c"));
    BATPAK_ASSERT_OK_AND_ASSIGN(decoded, decode_keys_file(testing::read_file_bytes(path())));
    ASSERT_TRUE(decoded.wrap.has_value());
    EXPECT_NE(decoded.wrap->file_id, old_header.wrap->file_id);  // A new file id: no keystream reused.
    EXPECT_EQ(decoded.wrap->check, KeyWrap(kNew, decoded.wrap->file_id).header().check);
    EXPECT_EQ(KeyWrap(kNew, decoded.wrap->file_id).apply(0, decoded.records[0].key), made[0]);
    EXPECT_EQ(KeyWrap(kNew, decoded.wrap->file_id).apply(3, decoded.records[3].key), made[3]);
  }
  const std::vector<uint8_t> file = testing::read_file_bytes(path());
  for (const Key& key : made) EXPECT_FALSE(contains(file, key));
  EXPECT_FALSE(std::filesystem::exists(util::temp_path_of(path())));

  BATPAK_EXPECT_ERROR(keys_under(kOld), ErrorCode::kInvalidArgument);
  BATPAK_EXPECT_ERROR(keys_under(std::nullopt), ErrorCode::kInvalidArgument);
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, keys_under(kNew));
  ASSERT_EQ(keys.size(), 4u);
  EXPECT_EQ(keys[0].state, KeyState::kLive);
  EXPECT_EQ(keys[0].key, made[0]);
  EXPECT_EQ(keys[1].state, KeyState::kShredded);
  EXPECT_EQ(keys[2].state, KeyState::kShredded);  // Shredded after the change, in the new file.
  EXPECT_EQ(keys[3].key, made[3]);
}

TEST_F(MasterKeyChange, AMasterKeyCanBeAddedToAFileAndRemovedFromIt) {
  Key a;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, std::nullopt, report));
    BATPAK_ASSERT_OK_AND_ASSIGN(got, key_for(*keys, "a"));
    a = got.second;
    ASSERT_TRUE(contains(testing::read_file_bytes(path()), a));  // Without a master key, as it is.
    BATPAK_ASSERT_OK(keys->change_master_key(*fs, dir, kNew));
    EXPECT_FALSE(contains(testing::read_file_bytes(path()), a));
  }
  BATPAK_EXPECT_ERROR(keys_under(std::nullopt), ErrorCode::kInvalidArgument);
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, false, kNew, report));
    EXPECT_EQ(keys->lookup(1)->key, a);
    BATPAK_ASSERT_OK(keys->change_master_key(*fs, dir, std::nullopt));
    EXPECT_FALSE(keys->wraps_keys());
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(decoded, decode_keys_file(testing::read_file_bytes(path())));
  EXPECT_FALSE(decoded.wrap.has_value());  // Version 1 again.
  BATPAK_EXPECT_ERROR(keys_under(kNew), ErrorCode::kInvalidArgument);
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, keys_under(std::nullopt));
  EXPECT_EQ(keys.at(0).key, a);
}

// A second name for the old file keeps its blocks reachable after the rename, so the test
// can read what the change left in them.
TEST_F(MasterKeyChange, TheOldFileIsOverwrittenWithZerosOnceTheNewOneIsDurable) {
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, kOld, report));
  BATPAK_ASSERT_OK(key_for(*keys, "a"));
  BATPAK_ASSERT_OK(key_for(*keys, "b"));
  const std::string old_name = dir + "/old";
  std::filesystem::create_hard_link(path(), old_name);
  const size_t old_bytes = testing::read_file_bytes(old_name).size();
  BATPAK_ASSERT_OK(keys->change_master_key(*fs, dir, kNew));
  EXPECT_EQ(testing::read_file_bytes(old_name), std::vector<uint8_t>(old_bytes, 0));
  EXPECT_EQ(old_bytes, testing::read_file_bytes(path()).size());
}

TEST_F(MasterKeyChange, AWritableOpenDestroysATemporaryCopyLeftBehind) {
  { BATPAK_ASSERT_OK(Keyset::open(fs, dir, true, true, kOld, report)); }
  const std::string temp = util::temp_path_of(path());
  testing::write_file_bytes(temp, std::vector<uint8_t>(192, 0xAB));
  const std::string second_name = dir + "/second";
  std::filesystem::create_hard_link(temp, second_name);
  { BATPAK_ASSERT_OK(Keyset::open(fs, dir, false, false, kOld, report)); }
  EXPECT_TRUE(std::filesystem::exists(temp));  // A read-only open writes nothing.
  { BATPAK_ASSERT_OK(Keyset::open(fs, dir, true, false, kOld, report)); }
  EXPECT_FALSE(std::filesystem::exists(temp));
  EXPECT_EQ(testing::read_file_bytes(second_name), std::vector<uint8_t>(192, 0));
}

// Every mutating call of a change, failed in turn (an I/O error, not a crash).
TEST(MasterKeyChangeFaults, AChangeThatFailsAtAnyCallLeavesWorkingKeysAndNoCopy) {
  const std::string dir = "/sim/keys";
  auto new_fs = [&]() {
    auto fs = std::make_shared<testing::SimFs>();
    EXPECT_TRUE(fs->create_dir("/sim"));
    EXPECT_TRUE(fs->create_dir(dir));
    return fs;
  };
  auto count_calls = [&]() {
    auto fs = new_fs();
    KeysOpenReport report;
    auto keys = Keyset::open(fs, dir, true, true, kOld, report);
    const uint64_t before = fs->operations();
    EXPECT_TRUE(keys && (*keys)->change_master_key(*fs, dir, kNew));
    return fs->operations() - before;
  };
  const uint64_t calls = count_calls();
  ASSERT_GE(calls, 6u);  // Temporary file: create, truncate, write, sync; rename; directory sync; zeros...
  size_t opened_new = 0;
  for (uint64_t fail = 1; fail <= calls; ++fail) {
    auto fs = new_fs();
    KeysOpenReport report;
    Key a;
    {
      BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, kOld, report));
      BATPAK_ASSERT_OK_AND_ASSIGN(got, key_for(*keys, "a"));
      a = got.second;
      fs->fail_at(fail, /*persistent=*/false);
      EXPECT_FALSE(keys->change_master_key(*fs, dir, kNew)) << fail;
      const std::string failed = fs->failed_call();
      BATPAK_ASSERT_OK(key_for(*keys, "b"));  // Still writes where the file's name points.
      EXPECT_FALSE(*fs->exists(util::temp_path_of(dir + "/" + kKeysFileName))) << failed;
    }
    auto reopened = Keyset::open(fs, dir, true, false, kOld, report);
    if (!reopened) {
      reopened = Keyset::open(fs, dir, true, false, kNew, report);
      ++opened_new;
    }
    ASSERT_TRUE(reopened) << fail << ": " << reopened.error().to_string();
    ASSERT_EQ((*reopened)->key_count(), 2u) << fail;
    EXPECT_EQ((*reopened)->lookup(1)->key, a) << fail;
  }
  EXPECT_GT(opened_new, 0u);     // Failures after the rename...
  EXPECT_LT(opened_new, calls);  // ...and before it both happened.
}

}  // namespace
}  // namespace batpak::crypto
