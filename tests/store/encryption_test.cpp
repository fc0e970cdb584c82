// Payload encryption and crypto-shredding through the public API (docs/encryption.md).
// Invariants proved here: no plaintext payload of an encrypting store reaches its files;
// every reader gets the plaintext back; after shred_entity no read of that entity's events
// yields its payload (also after reopen, in a snapshot and in a backup made afterwards),
// while headers, hashes, receipts and verify() are unaffected; encryption cannot be turned
// off; a sealed payload without its keys file is corruption, never returned as plaintext;
// a store whose keys are wrapped under a master key opens (in every mode, and as a backup)
// only with that master key, and after change_master_key only with the new one (or none),
// every payload still readable.
#include <filesystem>
#include <map>

#include "store/store_fixtures.hpp"
#include "support/fault_fs.hpp"
#include "support/file_bytes.hpp"

namespace batpak::store_test {
namespace {

struct Secret {
  static constexpr EventKind kKind{0x1001};
  std::string name;
  MSGPACK_DEFINE_MAP(name)
};

StoreOptions encrypting() {
  StoreOptions o;
  o.encrypt_payloads = true;
  return o;
}

// True when any file under `dir` holds `needle`.
bool any_file_holds(const std::string& dir, std::span<const uint8_t> needle) {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::vector<uint8_t> bytes = testing::read_file_bytes(entry.path().string());
    if (std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end()) return true;
  }
  return false;
}

std::vector<uint8_t> secret_of(std::string_view entity) { return bytes("the secret of " + std::string(entity)); }

class Encryption : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.sub("store"); }
  std::unique_ptr<Store> open(StoreOptions o = encrypting()) {
    auto store = Store::open(dir(), o);
    EXPECT_TRUE(store) << store.error().to_string();
    return store ? std::move(*store) : nullptr;
  }
  // An encrypting store over `fault_`.
  std::unique_ptr<Store> open_over_fault_fs() {
    StoreOptions o = encrypting();
    o.fs = fault_;
    return open(o);
  }
  const std::shared_ptr<testing::FaultFs> fault_ = std::make_shared<testing::FaultFs>();
  testing::TempDir tmp_;
};

TEST_F(Encryption, NoPlaintextReachesTheFilesAndEveryReaderGetsItBack) {
  const std::vector<uint8_t> secret = bytes("alice@example.org, born 1990-01-01");
  {
    auto store = open();
    BATPAK_ASSERT_OK_AND_ASSIGN(receipt, store->append(coord("user:alice"), kKindA, secret));
    EXPECT_TRUE(receipt.payload_encrypted);
    EXPECT_EQ(receipt_event_hash(receipt), receipt.event_hash);
    Receipt unflagged = receipt;
    unflagged.payload_encrypted = false;
    EXPECT_NE(receipt_event_hash(unflagged), receipt.event_hash);  // The flag is in the hash.
    BATPAK_EXPECT_ERROR(store->verify_receipt(unflagged), ErrorCode::kInvalidSignature);
    BATPAK_ASSERT_OK_AND_ASSIGN(event, store->get(receipt.event_id));
    EXPECT_EQ(event.payload, secret);
    EXPECT_TRUE(event.header.payload_encrypted);
    EXPECT_FALSE(event.payload_shredded);
    std::vector<BatchItem> batch = {{coord("user:bob"), kKindB, bytes("bob's secret"), {}},
                                    {coord("user:alice"), kKindB, bytes("alice again"), {}}};
    BATPAK_ASSERT_OK(store->append_batch(batch));
    BATPAK_ASSERT_OK(store->append(coord("user:carol"), Secret{"carol-the-secret"}));
    BATPAK_ASSERT_OK(store->close());
  }
  EXPECT_FALSE(any_file_holds(dir(), secret));
  EXPECT_FALSE(any_file_holds(dir(), bytes("bob's secret")));
  EXPECT_FALSE(any_file_holds(dir(), bytes("carol-the-secret")));

  auto store = open(StoreOptions{});
  BATPAK_ASSERT_OK_AND_ASSIGN(events, store->query(Region::all()));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].payload, secret);
  EXPECT_EQ(events[1].payload, bytes("bob's secret"));
  EXPECT_EQ(events[2].payload, bytes("alice again"));
  BATPAK_ASSERT_OK_AND_ASSIGN(carol, decode_event<Secret>(events[3]));
  EXPECT_EQ(carol.name, "carol-the-secret");
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(store->stats().encrypts_payloads);
  EXPECT_EQ(store->stats().payload_keys, 3u);
}

TEST_F(Encryption, APlainStoreDoesWriteThePlaintextSoTheSearchAboveCanFindIt) {
  const std::vector<uint8_t> secret = bytes("plainly-visible-payload");
  auto store = open(StoreOptions{});
  BATPAK_ASSERT_OK_AND_ASSIGN(receipt, store->append(coord("e"), kKindA, secret));
  EXPECT_FALSE(receipt.payload_encrypted);
  BATPAK_ASSERT_OK(store->close());
  EXPECT_TRUE(any_file_holds(dir(), secret));
  EXPECT_FALSE(std::filesystem::exists(tmp_.sub("store/keys")));
}

TEST_F(Encryption, AShreddedEntityReadsAsShreddedEverywhereAndStaysVerifiable) {
  auto store = open();
  std::vector<Receipt> receipts;
  for (int i = 0; i < 3; ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("user:alice"), Secret{"alice-" + std::to_string(i)}));
    receipts.push_back(r);
  }
  BATPAK_ASSERT_OK(store->append(coord("user:bob"), kKindA, bytes("bob stays")));
  BATPAK_ASSERT_OK_AND_ASSIGN(destroyed, store->shred_entity("user:alice"));
  EXPECT_EQ(destroyed, 1u);

  auto expect_shredded = [&](Store& s) {
    BATPAK_ASSERT_OK_AND_ASSIGN(alice, s.query(Region::entity("user:alice")));
    ASSERT_EQ(alice.size(), 3u);
    for (const Event& e : alice) {
      EXPECT_TRUE(e.payload_shredded);
      EXPECT_TRUE(e.payload.empty());
      BATPAK_EXPECT_ERROR(decode_event<Secret>(e), ErrorCode::kPayloadShredded);
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(one, s.get(receipts[1].event_id));
    EXPECT_TRUE(one.payload_shredded);
    BATPAK_ASSERT_OK_AND_ASSIGN(bob, s.query(Region::entity("user:bob")));
    ASSERT_EQ(bob.size(), 1u);
    EXPECT_EQ(bob[0].payload, bytes("bob stays"));
    for (const Receipt& r : receipts) BATPAK_ASSERT_OK(s.verify_receipt(r));
    BATPAK_ASSERT_OK_AND_ASSIGN(report, s.verify());
    EXPECT_TRUE(report.ok());
    BATPAK_ASSERT_OK_AND_ASSIGN(walked, s.walk_ancestors(receipts[2].event_id, 10));
    EXPECT_EQ(walked.size(), 3u);
  };
  expect_shredded(*store);
  StoreOptions snapshot;
  snapshot.access = AccessMode::kReadSnapshot;
  BATPAK_ASSERT_OK_AND_ASSIGN(snap, Store::open(dir(), snapshot));
  expect_shredded(*snap);
  BATPAK_ASSERT_OK(store->backup(tmp_.sub("copy")));
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(copy, Store::open(tmp_.sub("copy"), StoreOptions{}));
    expect_shredded(*copy);
  }
  EXPECT_FALSE(any_file_holds(tmp_.sub("copy"), bytes("alice-1")));

  // New events of the entity get a new key; the old ones stay shredded.
  BATPAK_ASSERT_OK_AND_ASSIGN(later, store->append(coord("user:alice"), Secret{"alice-new"}));
  BATPAK_ASSERT_OK_AND_ASSIGN(fresh, store->get(later.event_id));
  EXPECT_FALSE(fresh.payload_shredded);
  EXPECT_EQ(fresh.header.clock, 4u);
  BATPAK_ASSERT_OK(store->close());
  store = open(StoreOptions{});
  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, store->query(Region::entity("user:alice")));
  ASSERT_EQ(reopened.size(), 4u);
  EXPECT_TRUE(reopened[0].payload_shredded);
  EXPECT_FALSE(reopened[3].payload_shredded);
  EXPECT_EQ(store->stats().payload_keys_shredded, 1u);
  BATPAK_ASSERT_OK_AND_ASSIGN(again, store->shred_entity("user:nobody"));
  EXPECT_EQ(again, 0u);
}

TEST_F(Encryption, AShredOfANamespaceDestroysTheKeysOfEveryEntityInItAndOfNoOther) {
  auto store = open();
  std::map<std::string, EventId> ids;
  for (const char* entity : {"user:42", "user:42:address", "user:42:orders:7", "user:420", "user:4", "shop"}) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord(entity), kKindA, secret_of(entity)));
    ids[entity] = r.event_id;
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(shred, store->shred_namespace("user:42"));
  EXPECT_EQ(shred.entities, 3u);
  EXPECT_EQ(shred.keys_shredded, 3u);
  auto expect_shredded = [&](Store& s) {
    for (const auto& [entity, id] : ids) {
      BATPAK_ASSERT_OK_AND_ASSIGN(event, s.get(id));
      const bool in_namespace = entity == "user:42" || entity.starts_with("user:42:");
      EXPECT_EQ(event.payload_shredded, in_namespace) << entity;
      if (!in_namespace) {
        EXPECT_EQ(event.payload, secret_of(entity)) << entity;
      }
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(report, s.verify());
    EXPECT_TRUE(report.ok());
  };
  expect_shredded(*store);
  BATPAK_ASSERT_OK_AND_ASSIGN(again, store->shred_namespace("user:42"));
  EXPECT_EQ(again.entities, 3u);
  EXPECT_EQ(again.keys_shredded, 0u);
  BATPAK_EXPECT_ERROR(store->shred_namespace(""), ErrorCode::kInvalidArgument);
  store.reset();
  store = open();
  expect_shredded(*store);
  EXPECT_EQ(store->stats().payload_keys_shredded, 3u);
  auto plain = Store::open(tmp_.sub("plain"));
  ASSERT_TRUE(plain);
  BATPAK_EXPECT_ERROR((*plain)->shred_namespace("user"), ErrorCode::kInvalidArgument);
}

TEST_F(Encryption, CannotBeTurnedOffAndCanBeTurnedOnForNewEvents) {
  {
    auto plain = open(StoreOptions{});
    BATPAK_ASSERT_OK(plain->append(coord("e"), kKindA, bytes("before")));
    BATPAK_EXPECT_ERROR(plain->shred_entity("e"), ErrorCode::kInvalidArgument);
  }
  {
    auto store = open();
    BATPAK_ASSERT_OK(store->append(coord("e"), kKindA, bytes("after")));
  }
  auto store = open(StoreOptions{});  // The keys file now exists: still sealed.
  BATPAK_ASSERT_OK(store->append(coord("e"), kKindA, bytes("later")));
  BATPAK_ASSERT_OK_AND_ASSIGN(events, store->query(Region::entity("e")));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_FALSE(events[0].header.payload_encrypted);
  EXPECT_TRUE(events[1].header.payload_encrypted);
  EXPECT_TRUE(events[2].header.payload_encrypted);
  EXPECT_EQ(events[2].payload, bytes("later"));
  BATPAK_ASSERT_OK(store->shred_entity("e"));
  BATPAK_ASSERT_OK_AND_ASSIGN(after, store->query(Region::entity("e")));
  EXPECT_EQ(after[0].payload, bytes("before"));  // Never sealed, so never shredded.
  EXPECT_TRUE(after[1].payload_shredded);
  BATPAK_EXPECT_ERROR(store->shred_entity("bad\x01" "entity"), ErrorCode::kInvalidArgument);
}

TEST_F(Encryption, ASealedPayloadWithoutItsKeysFileIsCorruptionNotPlaintext) {
  EventId id;
  {
    auto store = open();
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("e"), kKindA, bytes("sealed")));
    id = r.event_id;
  }
  std::filesystem::remove(tmp_.sub("store/keys"));
  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), read_only));
  auto got = store->get(id);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().code, ErrorCode::kCorruption);
  EXPECT_NE(got.error().message.find("no keys file"), std::string::npos) << got.error().message;
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  ASSERT_FALSE(report.ok()) << "verify passed a sealed payload whose key is gone";
  EXPECT_NE(report.damage->reason.find("no keys file"), std::string::npos) << report.damage->reason;
  EXPECT_EQ(report.damage->event_id, id);
}

TEST_F(Encryption, ADamagedKeyRecordIsReportedReadsAsShreddedAndIsRepairedByAReadWriteOpen) {
  {
    auto store = open();
    BATPAK_ASSERT_OK(store->append(coord("a"), kKindA, bytes("a")));
    BATPAK_ASSERT_OK(store->append(coord("b"), kKindA, bytes("b")));
  }
  const std::string keys = tmp_.sub("store/keys");
  std::vector<uint8_t> file = testing::read_file_bytes(keys);
  ASSERT_EQ(file.size(), 64u * 3);
  file[64 + 40] ^= 0x01;  // Inside the first key.
  testing::write_file_bytes(keys, file);
  auto store = open(StoreOptions{});
  EXPECT_EQ(store->open_report().damaged_keys, 1u);
  BATPAK_ASSERT_OK_AND_ASSIGN(a, store->query(Region::entity("a")));
  EXPECT_TRUE(a.at(0).payload_shredded);
  BATPAK_ASSERT_OK_AND_ASSIGN(b, store->query(Region::entity("b")));
  EXPECT_EQ(b.at(0).payload, bytes("b"));
  BATPAK_ASSERT_OK(store->close());
  store = open(StoreOptions{});
  EXPECT_EQ(store->open_report().damaged_keys, 0u);
}

// Invariant: a batch's new keys cost one sync together, not one each.
TEST_F(Encryption, ABatchOfNewEntitiesSyncsTheirKeysOnce) {
  auto store = open_over_fault_fs();
  std::vector<BatchItem> batch;
  for (int i = 0; i < 40; ++i) batch.push_back({coord("user:" + std::to_string(i)), kKindA, bytes("x"), {}});
  const uint64_t before = fault_->syncs();
  BATPAK_ASSERT_OK(store->append_batch(batch));
  const uint64_t first = fault_->syncs() - before;
  BATPAK_ASSERT_OK(store->append_batch(batch));  // The same entities: no new key.
  const uint64_t second = fault_->syncs() - before - first;
  EXPECT_EQ(first, second + 1) << "the 40 new keys took " << first - second << " syncs";
  EXPECT_EQ(store->stats().payload_keys, 40u);
}

// Invariant: when a new key cannot be made durable, the append fails and writes nothing.
TEST_F(Encryption, AKeyThatCannotBeSyncedFailsTheAppendAndWritesNothing) {
  auto store = open_over_fault_fs();
  BATPAK_ASSERT_OK(store->append(coord("old"), kKindA, bytes("kept")));
  fault_->fail_nth_sync(1);  // The new entity's key sync.
  BATPAK_EXPECT_ERROR(store->append(coord("new"), kKindA, bytes("lost")), ErrorCode::kIo);
  EXPECT_EQ(store->stats().event_count, 1u);
  EXPECT_EQ(store->entity_generation("new"), 0u);
  BATPAK_ASSERT_OK_AND_ASSIGN(retried, store->append(coord("new"), kKindA, bytes("again")));
  BATPAK_ASSERT_OK_AND_ASSIGN(event, store->get(retried.event_id));
  EXPECT_EQ(event.payload, bytes("again"));
  BATPAK_ASSERT_OK(store->close());
  store = open(StoreOptions{});
  BATPAK_ASSERT_OK_AND_ASSIGN(events, store->query(Region::all()));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].payload, bytes("again"));
}

TEST_F(Encryption, AStoreWithAMasterKeyOpensOnlyWithItInEveryModeAndAsABackup) {
  const std::vector<uint8_t> secret = bytes("the master key guards this");
  StoreOptions with_master;
  with_master.master_key = std::array<uint8_t, 32>{0x11, 0x22};  // Turns encryption on by itself.
  EventId id;
  {
    auto store = open(with_master);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->stats().encrypts_payloads);
    BATPAK_ASSERT_OK_AND_ASSIGN(receipt, store->append(coord("user:m"), kKindA, secret));
    id = receipt.event_id;
    BATPAK_ASSERT_OK(store->backup(tmp_.sub("copy")));
  }
  EXPECT_FALSE(any_file_holds(dir(), secret));
  StoreOptions wrong = with_master;
  wrong.master_key->back() = 0x01;
  for (AccessMode access : {AccessMode::kReadWrite, AccessMode::kReadOnly, AccessMode::kReadSnapshot}) {
    StoreOptions none = encrypting();
    none.access = wrong.access = access;
    BATPAK_EXPECT_ERROR(Store::open(dir(), none), ErrorCode::kInvalidArgument);
    BATPAK_EXPECT_ERROR(Store::open(dir(), wrong), ErrorCode::kInvalidArgument);
  }
  for (const std::string& where : {dir(), tmp_.sub("copy")}) {
    BATPAK_EXPECT_ERROR(Store::open(where, encrypting()), ErrorCode::kInvalidArgument);
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(where, with_master));
    BATPAK_ASSERT_OK_AND_ASSIGN(event, store->get(id));
    EXPECT_EQ(event.payload, secret) << where;
  }
}

TEST_F(Encryption, AMasterKeyIsRefusedByAStoreWhoseKeysWereMadeWithoutOne) {
  {
    auto store = open();
    BATPAK_ASSERT_OK(store->append(coord("user:p"), kKindA, bytes("plain keys")));
  }
  StoreOptions with_master = encrypting();
  with_master.master_key = std::array<uint8_t, 32>{0x33};
  BATPAK_EXPECT_ERROR(Store::open(dir(), with_master), ErrorCode::kInvalidArgument);
  EXPECT_NE(open(), nullptr);  // Refused without any change: it still opens as it was made.
}

TEST_F(Encryption, AChangedMasterKeyOpensTheStoreAndTheOldOneNoLonger) {
  StoreOptions first;
  first.master_key = std::array<uint8_t, 32>{0x01};
  StoreOptions second;
  second.master_key = std::array<uint8_t, 32>{0x02};
  std::vector<EventId> ids;
  {
    auto store = open(first);
    ASSERT_NE(store, nullptr);
    for (const char* entity : {"user:1", "user:2"}) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord(entity), kKindA, secret_of(entity)));
      ids.push_back(r.event_id);
    }
    BATPAK_ASSERT_OK(store->change_master_key(second.master_key));
    BATPAK_ASSERT_OK_AND_ASSIGN(event, store->get(ids[0]));  // Reads go on as before.
    EXPECT_EQ(event.payload, secret_of("user:1"));
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("user:3"), kKindA, secret_of("user:3")));  // A new key.
    ids.push_back(r.event_id);
    BATPAK_ASSERT_OK(store->shred_entity("user:2"));
    BATPAK_ASSERT_OK(store->backup(tmp_.sub("copy")));
  }
  for (const std::string& where : {dir(), tmp_.sub("copy")}) {
    BATPAK_EXPECT_ERROR(Store::open(where, first), ErrorCode::kInvalidArgument);
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(where, second));
    EXPECT_TRUE(store->stats().payload_keys_wrapped);
    BATPAK_ASSERT_OK_AND_ASSIGN(read, store->get(ids[0]));
    EXPECT_EQ(read.payload, secret_of("user:1")) << where;
    BATPAK_ASSERT_OK_AND_ASSIGN(shredded, store->get(ids[1]));
    EXPECT_TRUE(shredded.payload_shredded) << where;
    BATPAK_ASSERT_OK_AND_ASSIGN(later, store->get(ids[2]));
    EXPECT_EQ(later.payload, secret_of("user:3")) << where;
    BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
    EXPECT_TRUE(report.ok()) << where;
  }
  {
    auto store = open(second);
    BATPAK_ASSERT_OK(store->change_master_key(std::nullopt));  // Removed: plain keys again.
  }
  BATPAK_EXPECT_ERROR(Store::open(dir(), second), ErrorCode::kInvalidArgument);
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->stats().payload_keys_wrapped);
  BATPAK_ASSERT_OK_AND_ASSIGN(event, store->get(ids[2]));
  EXPECT_EQ(event.payload, secret_of("user:3"));
  EXPECT_FALSE(any_file_holds(dir(), secret_of("user:3")));  // The payloads stay sealed.
}

TEST_F(Encryption, AMasterKeyChangeIsRefusedByAPlainStoreAReadOnlyOneAndAClosedOne) {
  const MasterKey master{0x05};
  {
    auto plain = open(StoreOptions{});
    BATPAK_EXPECT_ERROR(plain->change_master_key(master), ErrorCode::kInvalidArgument);
  }
  std::filesystem::remove_all(dir());
  { EXPECT_NE(open(), nullptr); }
  StoreOptions read_only = encrypting();
  read_only.access = AccessMode::kReadOnly;
  auto store = open(read_only);
  BATPAK_EXPECT_ERROR(store->change_master_key(master), ErrorCode::kReadOnly);
  store.reset();
  store = open();
  BATPAK_ASSERT_OK(store->close());
  BATPAK_EXPECT_ERROR(store->change_master_key(master), ErrorCode::kClosed);
  EXPECT_FALSE(open()->stats().payload_keys_wrapped);  // None of them changed anything.
}

}  // namespace
}  // namespace batpak::store_test
