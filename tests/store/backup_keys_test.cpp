// Store::backup with BackupOptions::rewrap_keys (docs/encryption.md, "Backups"). Invariants
// proved here: a copy whose keys were rewrapped opens only with the key it names (or only
// without one), reads every payload the store reads and none the store shredded, and
// verifies; its keys file has a new file id even under the same key; the store itself is
// unchanged; a refused call writes nothing.
#include <filesystem>

#include "crypto/keys_file.hpp"
#include "store/store_fixtures.hpp"
#include "support/file_bytes.hpp"

namespace batpak::store_test {
namespace {

const MasterKey kStoreKey{0x51};
const MasterKey kCopyKey{0x52};

StoreOptions with_key(const std::optional<MasterKey>& master_key) {
  StoreOptions o;
  o.encrypt_payloads = true;
  o.master_key = master_key;
  return o;
}

BackupOptions rewrapped_under(const std::optional<MasterKey>& master_key) {
  BackupOptions o;
  o.rewrap_keys = true;
  o.master_key = master_key;
  return o;
}

std::vector<uint8_t> secret_of(std::string_view entity) { return bytes("the secret of " + std::string(entity)); }

class BackupKeys : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.sub("store"); }
  std::string copy_dir() const { return tmp_.sub("copy"); }

  // An encrypting store wrapped under kStoreKey with events of user:1 and user:2, user:2
  // shredded.
  std::unique_ptr<Store> open_with_history() {
    auto store = Store::open(dir(), with_key(kStoreKey));
    EXPECT_TRUE(store) << store.error().to_string();
    if (!store) return nullptr;
    for (const char* entity : {"user:1", "user:2"}) {
      auto r = (*store)->append(coord(entity), kKindA, secret_of(entity));
      EXPECT_TRUE(r) << r.error().to_string();
      if (r) ids_.push_back(r->event_id);
    }
    EXPECT_TRUE((*store)->shred_entity("user:2"));
    return std::move(*store);
  }

  // The copy opens with `master_key` alone, reads user:1's payload, keeps user:2's shredded
  // and verifies.
  void expect_copy_opens_only_with(const std::optional<MasterKey>& master_key) {
    for (const std::optional<MasterKey>& other : {std::optional<MasterKey>(), std::optional(kStoreKey), std::optional(kCopyKey)}) {
      if (other == master_key) continue;
      BATPAK_EXPECT_ERROR(Store::open(copy_dir(), with_key(other)), ErrorCode::kInvalidArgument);
    }
    StoreOptions options = with_key(master_key);
    options.access = AccessMode::kReadOnly;
    BATPAK_ASSERT_OK_AND_ASSIGN(copy, Store::open(copy_dir(), options));
    EXPECT_EQ(copy->stats().payload_keys_wrapped, master_key.has_value());
    BATPAK_ASSERT_OK_AND_ASSIGN(kept, copy->get(ids_[0]));
    EXPECT_EQ(kept.payload, secret_of("user:1"));
    BATPAK_ASSERT_OK_AND_ASSIGN(shredded, copy->get(ids_[1]));
    EXPECT_TRUE(shredded.payload_shredded);
    BATPAK_ASSERT_OK_AND_ASSIGN(report, copy->verify());
    EXPECT_TRUE(report.ok());
  }

  std::vector<EventId> ids_;
  testing::TempDir tmp_;
};

TEST_F(BackupKeys, ACopyRewrappedUnderAnotherMasterKeyOpensOnlyWithIt) {
  auto store = open_with_history();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK(store->backup(copy_dir(), rewrapped_under(kCopyKey)));
  expect_copy_opens_only_with(kCopyKey);
  store.reset();
  BATPAK_EXPECT_ERROR(Store::open(dir(), with_key(kCopyKey)), ErrorCode::kInvalidArgument);
  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, Store::open(dir(), with_key(kStoreKey)));  // The store is unchanged.
  BATPAK_ASSERT_OK_AND_ASSIGN(event, reopened->get(ids_[0]));
  EXPECT_EQ(event.payload, secret_of("user:1"));
}

TEST_F(BackupKeys, ACopyWithUnwrappedKeysOpensWithoutAMasterKey) {
  auto store = open_with_history();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK(store->backup(copy_dir(), rewrapped_under(std::nullopt)));
  expect_copy_opens_only_with(std::nullopt);
}

TEST_F(BackupKeys, AKeysFileRewrappedUnderTheSameKeyHasANewFileId) {
  auto store = open_with_history();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK(store->backup(copy_dir(), rewrapped_under(kStoreKey)));
  BATPAK_ASSERT_OK(store->backup(tmp_.sub("plain-copy")));
  const std::vector<uint8_t> source = testing::read_file_bytes(dir() + "/keys");
  EXPECT_EQ(testing::read_file_bytes(tmp_.sub("plain-copy/keys")), source) << "copied as it stands";
  const std::vector<uint8_t> rewrapped = testing::read_file_bytes(copy_dir() + "/keys");
  ASSERT_EQ(rewrapped.size(), source.size());
  const auto records_of = [](const std::vector<uint8_t>& file) {
    return std::vector<uint8_t>(file.begin() + crypto::kKeysHeaderBytes, file.end());
  };
  EXPECT_NE(records_of(rewrapped), records_of(source)) << "a new file id, so the live key is wrapped differently";
  expect_copy_opens_only_with(kStoreKey);
}

TEST_F(BackupKeys, ARefusedRewrapWritesNothing) {
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(plain, Store::open(tmp_.sub("plain"), StoreOptions{}));
    BATPAK_EXPECT_ERROR(plain->backup(copy_dir(), rewrapped_under(kCopyKey)), ErrorCode::kInvalidArgument);
  }
  auto store = open_with_history();
  ASSERT_NE(store, nullptr);
  BackupOptions key_alone;
  key_alone.master_key = kCopyKey;  // Without rewrap_keys: a mistake, not a silent copy under kStoreKey.
  BATPAK_EXPECT_ERROR(store->backup(copy_dir(), key_alone), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(copy_dir()));
  EXPECT_FALSE(std::filesystem::exists(copy_dir() + ".partial"));
}

}  // namespace
}  // namespace batpak::store_test
