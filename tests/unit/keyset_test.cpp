// The payload cipher and the keys file codec (crypto/). Invariants proved here: a sealed
// payload opens only under its key and its event's context; the keys file round-trips byte
// for byte; a record whose checksum fails reads as shredded, never as a key; a record that
// passes its checksum but breaks a rule is corruption; a shred leaves no byte of the key in
// the file; calls that need new keys while a sync runs share the next sync; under a master
// key no key is in the file as it is, and the file opens only with that master key.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "batpak/batpak.hpp"
#include "crypto/keyset.hpp"
#include "crypto/payload_cipher.hpp"
#include "store/signer.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "support/assertions.hpp"
#include "support/fault_fs.hpp"
#include "support/file_bytes.hpp"
#include "support/temp_dir.hpp"
#include "unit/keys_test_support.hpp"

namespace batpak::crypto {
namespace {

Key key_of(uint8_t fill) {
  Key key;
  key.fill(fill);
  return key;
}

SealContext context_of(std::string_view entity) {
  EventId id;
  id.bytes.fill(0x42);
  return SealContext{id, EventKind(0x1001), entity, "scope"};
}

// `file` with a live record for `entity` appended at `index`, its key wrapped by `wrap`.
std::vector<uint8_t> file_with_record(std::vector<uint8_t> file, uint32_t index, const KeyWrap& wrap, const Key& key,
                                      std::string_view entity) {
  EXPECT_EQ(file.size(), kKeysHeaderBytes + index * kKeyRecordBytes);
  const std::vector<uint8_t> record = encode_key_record({KeyState::kLive, entity_tag_of(entity), wrap.apply(index, key)});
  file.insert(file.end(), record.begin(), record.end());
  return file;
}

TEST(PayloadCipher, OpensOnlyUnderItsKeyAndContext) {
  ASSERT_TRUE(sodium_ready());
  const std::vector<uint8_t> plaintext = {'h', 'e', 'l', 'l', 'o', ' ', 's', 'e', 'c', 'r', 'e', 't'};
  std::vector<uint8_t> sealed;
  seal_payload(key_of(1), 7, context_of("user:1"), plaintext, sealed);
  ASSERT_EQ(sealed.size(), plaintext.size() + kSealOverheadBytes);
  EXPECT_EQ(sealed_key_id(sealed), 7u);
  EXPECT_FALSE(contains(sealed, plaintext));

  std::vector<uint8_t> opened;
  ASSERT_TRUE(open_payload(key_of(1), context_of("user:1"), sealed, opened));
  EXPECT_EQ(opened, plaintext);
  EXPECT_FALSE(open_payload(key_of(2), context_of("user:1"), sealed, opened));  // Another key.
  EXPECT_TRUE(opened.empty());
  EXPECT_FALSE(open_payload(key_of(1), context_of("user:2"), sealed, opened));  // Another entity.
  SealContext other_kind = context_of("user:1");
  other_kind.kind = EventKind(0x1002);
  EXPECT_FALSE(open_payload(key_of(1), other_kind, sealed, opened));
  for (size_t at : {size_t{0}, kKeyIdBytes, kKeyIdBytes + kNonceBytes, sealed.size() - 1}) {
    std::vector<uint8_t> flipped = sealed;
    flipped[at] ^= 0x01;
    EXPECT_FALSE(open_payload(key_of(1), context_of("user:1"), flipped, opened)) << "byte " << at;
  }
  EXPECT_FALSE(open_payload(key_of(1), context_of("user:1"), std::span(sealed).first(kSealOverheadBytes - 1), opened));
  EXPECT_EQ(sealed_key_id(std::span(sealed).first(kSealOverheadBytes - 1)), std::nullopt);
}

TEST(PayloadCipher, TwoSealsOfOnePayloadDiffer) {
  const std::vector<uint8_t> plaintext(64, 0xAB);
  std::vector<uint8_t> first, second;
  seal_payload(key_of(1), 1, context_of("e"), plaintext, first);
  seal_payload(key_of(1), 1, context_of("e"), plaintext, second);
  EXPECT_NE(first, second);  // A fresh nonce each time.
  std::vector<uint8_t> empty_sealed, opened;
  seal_payload(key_of(1), 1, context_of("e"), {}, empty_sealed);
  EXPECT_EQ(empty_sealed.size(), kSealOverheadBytes);
  EXPECT_TRUE(open_payload(key_of(1), context_of("e"), empty_sealed, opened));
  EXPECT_TRUE(opened.empty());
}

// The tag is the format's (docs/format.md): the first 16 bytes of BLAKE3 in derive-key mode.
TEST(KeysFile, AnEntityTagIsTheDerivedBlake3OfItsName) {
  const std::string_view entity = "user:1";
  const Hash32 digest = util::blake3_derive("batpak keys entity tag v1",
                                            {reinterpret_cast<const uint8_t*>(entity.data()), entity.size()});
  const EntityTag tag = entity_tag_of(entity);
  EXPECT_TRUE(std::equal(tag.begin(), tag.end(), digest.bytes.begin()));
  EXPECT_NE(entity_tag_of("user:2"), tag);
}

TEST(KeysFile, RoundTripsAndReadsADamagedRecordAsShredded) {
  const std::vector<KeyRecord> records = {{KeyState::kLive, entity_tag_of("a"), key_of(3)},
                                          {KeyState::kShredded, entity_tag_of("b"), {}},
                                          {KeyState::kLive, entity_tag_of("c"), key_of(4)}};
  std::vector<uint8_t> file = encode_keys_file(std::nullopt, records);
  ASSERT_EQ(file.size(), kKeysHeaderBytes + 3 * kKeyRecordBytes);
  BATPAK_ASSERT_OK_AND_ASSIGN(decoded, decode_keys_file(file));
  ASSERT_EQ(decoded.records.size(), 3u);
  EXPECT_TRUE(decoded.damaged.empty());
  EXPECT_EQ(decoded.records[0].key, key_of(3));
  EXPECT_EQ(decoded.records[1].state, KeyState::kShredded);
  EXPECT_EQ(encode_keys_file(std::nullopt, decoded.records), file);

  file[kKeysHeaderBytes + 2 * kKeyRecordBytes + 30] ^= 0x10;  // Inside record 2's key.
  file.push_back(0x55);                                      // A partial record.
  BATPAK_ASSERT_OK_AND_ASSIGN(damaged, decode_keys_file(file));
  EXPECT_EQ(damaged.damaged, std::vector<uint32_t>{2});
  EXPECT_EQ(damaged.records[2].state, KeyState::kShredded);
  EXPECT_EQ(damaged.records[2].key, Key{});
  EXPECT_EQ(damaged.partial_tail_bytes, 1u);
  EXPECT_EQ(damaged.records[0].key, key_of(3));  // The others are untouched.
}

TEST(KeysFile, ARecordThatPassesItsChecksumButBreaksARuleIsCorruption) {
  const KeyRecord shredded_with_key{KeyState::kShredded, entity_tag_of("a"), key_of(9)};
  BATPAK_EXPECT_ERROR(decode_key_record(encode_key_record(shredded_with_key)), ErrorCode::kCorruption);
  KeyRecord unknown{KeyState::kLive, entity_tag_of("a"), key_of(9)};
  unknown.state = static_cast<KeyState>(3);
  BATPAK_EXPECT_ERROR(decode_key_record(encode_key_record(unknown)), ErrorCode::kCorruption);
  std::vector<uint8_t> header = encode_keys_file(std::nullopt, {});
  header[0] ^= 0xFF;
  BATPAK_EXPECT_ERROR(decode_keys_file(header), ErrorCode::kCorruption);
  const std::vector<uint8_t> empty = encode_keys_file(std::nullopt, {});
  BATPAK_EXPECT_ERROR(decode_keys_file(std::span(empty).first(kKeysHeaderBytes - 1)), ErrorCode::kCorruption);
}

// A version 2 header carries the file id and the master key check; its records round-trip
// as stored; a version 1 header with bytes in those fields is corruption.
TEST(KeysFile, AWrappedFileRoundTripsItsHeader) {
  const KeyWrap wrap(MasterKey{5}, {6});
  const std::vector<KeyRecord> records = {{KeyState::kLive, entity_tag_of("a"), key_of(3)}};
  const std::vector<uint8_t> file = encode_keys_file(wrap.header(), records);
  BATPAK_ASSERT_OK_AND_ASSIGN(decoded, decode_keys_file(file));
  ASSERT_TRUE(decoded.wrap.has_value());
  EXPECT_EQ(*decoded.wrap, wrap.header());
  EXPECT_EQ(encode_keys_file(decoded.wrap, decoded.records), file);

  std::vector<uint8_t> plain = encode_keys_file(std::nullopt, records);
  plain[20] = 1;  // Where a version 2 header holds its file id.
  util::store_le<uint64_t>(plain.data() + 56, util::checksum64({plain.data(), 56}));
  BATPAK_EXPECT_ERROR(decode_keys_file(plain), ErrorCode::kCorruption);
}

// The wrap is a keystream: applied twice it gives the key back; it differs per record index,
// per file id and per master key, and the check tells master keys apart.
TEST(KeysFile, AWrapDependsOnTheMasterKeyTheFileAndTheRecord) {
  const KeyWrap wrap(MasterKey{1}, {2});
  const Key key = key_of(0x77);
  const Key wrapped = wrap.apply(0, key);
  EXPECT_NE(wrapped, key);
  EXPECT_EQ(wrap.apply(0, wrapped), key);
  EXPECT_NE(wrap.apply(1, key), wrapped);
  EXPECT_NE(KeyWrap(MasterKey{1}, {3}).apply(0, key), wrapped);
  EXPECT_NE(KeyWrap(MasterKey{9}, {2}).apply(0, key), wrapped);
  EXPECT_NE(KeyWrap(MasterKey{9}, {2}).header().check, wrap.header().check);
  EXPECT_EQ(KeyWrap(MasterKey{1}, {2}).header(), wrap.header());
}

class KeysetTest : public KeysDirTest {};

TEST_F(KeysetTest, KeysAreDurablePerEntityAndAShredLeavesNoByteOfTheKey) {
  BATPAK_ASSERT_OK_AND_ASSIGN(none, Keyset::open(fs, dir, /*writable=*/true, /*create=*/false, std::nullopt, report));
  EXPECT_EQ(none, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, std::nullopt, report));
  BATPAK_ASSERT_OK_AND_ASSIGN(a, key_for(*keys, "user:a"));
  BATPAK_ASSERT_OK_AND_ASSIGN(b, key_for(*keys, "user:b"));
  BATPAK_ASSERT_OK_AND_ASSIGN(a_again, key_for(*keys, "user:a"));
  EXPECT_EQ(a.first, 1u);
  EXPECT_EQ(b.first, 2u);
  EXPECT_EQ(a_again, a);
  EXPECT_NE(a.second, b.second);
  const std::string path = dir + "/" + kKeysFileName;
  EXPECT_TRUE(contains(testing::read_file_bytes(path), a.second));

  BATPAK_ASSERT_OK_AND_ASSIGN(shredded, keys->shred("user:a"));
  EXPECT_EQ(shredded, 1u);
  EXPECT_FALSE(contains(testing::read_file_bytes(path), a.second));
  EXPECT_TRUE(contains(testing::read_file_bytes(path), b.second));
  EXPECT_EQ(keys->lookup(1)->state, KeyState::kShredded);
  EXPECT_EQ(keys->lookup(1)->key, Key{});
  EXPECT_FALSE(keys->lookup(3).has_value());
  BATPAK_ASSERT_OK_AND_ASSIGN(again, keys->shred("user:a"));
  EXPECT_EQ(again, 0u);
  BATPAK_ASSERT_OK_AND_ASSIGN(a_new, key_for(*keys, "user:a"));  // A new key after a shred.
  EXPECT_EQ(a_new.first, 3u);
  keys.reset();

  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, Keyset::open(fs, dir, false, false, std::nullopt, report));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->key_count(), 3u);
  EXPECT_EQ(reopened->shredded_count(), 1u);
  EXPECT_EQ(reopened->lookup(2)->key, b.second);
  EXPECT_EQ(reopened->lookup(3)->key, a_new.second);
}

// Invariant: a shred of several entities destroys every live key of each (shredded earlier
// and over again) with one sync, and leaves the other entities' keys.
TEST_F(KeysetTest, AShredOfSeveralEntitiesDestroysAllTheirKeysWithOneSync) {
  auto fault = std::make_shared<testing::FaultFs>();
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fault, dir, true, true, std::nullopt, report));
  BATPAK_ASSERT_OK_AND_ASSIGN(a_old, key_for(*keys, "a"));
  BATPAK_ASSERT_OK(keys->shred("a"));
  BATPAK_ASSERT_OK_AND_ASSIGN(a, key_for(*keys, "a"));
  BATPAK_ASSERT_OK_AND_ASSIGN(b, key_for(*keys, "b"));
  BATPAK_ASSERT_OK_AND_ASSIGN(c, key_for(*keys, "c"));
  const uint64_t syncs_before = fault->syncs();
  const std::vector<std::string_view> entities = {"a", "c", "never-had-a-key", "a"};
  BATPAK_ASSERT_OK_AND_ASSIGN(shredded, keys->shred(entities));
  EXPECT_EQ(shredded, 2u);
  EXPECT_EQ(fault->syncs() - syncs_before, 1u);
  const std::vector<uint8_t> file = testing::read_file_bytes(dir + "/" + kKeysFileName);
  for (const Key& gone : {a_old.second, a.second, c.second}) EXPECT_FALSE(contains(file, gone));
  EXPECT_TRUE(contains(file, b.second));
  EXPECT_EQ(keys->shredded_count(), 3u);
  BATPAK_ASSERT_OK_AND_ASSIGN(a_new, key_for(*keys, "a"));  // New keys after the shred.
  EXPECT_EQ(a_new.first, 5u);
}

// Invariant: the new keys of one call are made together, one per entity, however often it is
// named, and an entity that already has a key keeps it.
TEST_F(KeysetTest, OneCallMakesEachNewEntitysKeyOnce) {
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, std::nullopt, report));
  BATPAK_ASSERT_OK_AND_ASSIGN(old, key_for(*keys, "b"));
  const std::vector<std::string_view> entities = {"a", "b", "c", "a", "c", "d"};
  BATPAK_ASSERT_OK_AND_ASSIGN(got, keys->keys_for_append(entities));
  ASSERT_EQ(got.size(), entities.size());
  EXPECT_EQ(got[1], old);
  EXPECT_EQ(got[0], got[3]);
  EXPECT_EQ(got[2], got[4]);
  EXPECT_EQ(keys->key_count(), 4u);
  for (size_t i = 0; i < entities.size(); ++i) EXPECT_EQ(keys->lookup(got[i].first)->key, got[i].second) << i;
  EXPECT_NE(got[0].second, got[2].second);
  EXPECT_NE(got[2].second, got[5].second);
}

// Spins until `ready()` holds; fails the test after 30 s (a hang, not a timing assertion).
template <typename Ready>
void wait_until(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!ready()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "gave up waiting";
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Invariant (group commit of new keys): calls that need new keys while another call's keys
// are being written share one sync, and an entity asked for by two of them gets one key.
TEST_F(KeysetTest, CallsQueuedBehindASyncShareTheNextOne) {
  auto fault = std::make_shared<testing::FaultFs>();
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fault, dir, true, true, std::nullopt, report));
  BATPAK_ASSERT_OK_AND_ASSIGN(old, key_for(*keys, "old"));
  const uint64_t syncs_before = fault->syncs();

  fault->hold_writes();  // The first call's record write stalls while it leads.
  Result<Keyset::KeyAndId> first = tl::unexpected(Error{});
  std::thread leader([&] { first = key_for(*keys, "first"); });
  wait_until([&] { return fault->writes_waiting() == 1; });

  const std::vector<std::vector<std::string_view>> asks = {
      {"a"}, {"b"}, {"shared"}, {"shared", "c"}, {"old", "d"}, {"e", "e"}, {"first"}};
  std::vector<Result<std::vector<Keyset::KeyAndId>>> got(asks.size(), tl::unexpected(Error{}));
  std::vector<std::thread> queued;
  for (size_t i = 0; i < asks.size(); ++i) {
    queued.emplace_back([&, i] { got[i] = keys->keys_for_append(asks[i]); });
  }
  wait_until([&] { return keys->requests_waiting() == asks.size(); });
  fault->release_writes();
  leader.join();
  for (std::thread& t : queued) t.join();

  EXPECT_EQ(fault->syncs() - syncs_before, 2u) << "one sync for the leader, one for the seven queued behind it";
  ASSERT_TRUE(first.has_value());
  for (size_t i = 0; i < got.size(); ++i) ASSERT_TRUE(got[i].has_value()) << i;
  EXPECT_EQ((*got[2])[0], (*got[3])[0]);  // "shared", asked for by two calls of one group.
  EXPECT_EQ((*got[4])[0], old);
  EXPECT_EQ((*got[5])[0], (*got[5])[1]);
  EXPECT_EQ((*got[6])[0], *first);  // Made by the first group, found by the second.
  EXPECT_EQ(keys->key_count(), 1u + 1u + 6u);  // old, first, then a b shared c d e.
  keys.reset();

  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, Keyset::open(fs, dir, false, false, std::nullopt, report));
  for (const auto& call : got) {
    for (const auto& [id, key] : *call) EXPECT_EQ(reopened->lookup(id)->key, key) << id;
  }
}

// Invariant: when a group's sync fails, every call of that group fails and no key of it is
// kept; the next call makes its keys again, in the same records.
TEST_F(KeysetTest, AFailedGroupSyncFailsEveryCallOfTheGroupAndKeepsNoKey) {
  auto fault = std::make_shared<testing::FaultFs>();
  BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fault, dir, true, true, std::nullopt, report));
  fault->hold_writes();
  Result<Keyset::KeyAndId> first = tl::unexpected(Error{});
  std::thread leader([&] { first = key_for(*keys, "first"); });
  wait_until([&] { return fault->writes_waiting() == 1; });
  Result<Keyset::KeyAndId> x = tl::unexpected(Error{}), y = tl::unexpected(Error{});
  std::thread queued_x([&] { x = key_for(*keys, "x"); });
  std::thread queued_y([&] { y = key_for(*keys, "y"); });
  wait_until([&] { return keys->requests_waiting() == 2; });
  fault->fail_nth_sync(2);  // The leader's sync passes; the group's fails.
  fault->release_writes();
  leader.join();
  queued_x.join();
  queued_y.join();

  ASSERT_TRUE(first.has_value());
  ASSERT_FALSE(x.has_value());
  ASSERT_FALSE(y.has_value());
  EXPECT_EQ(x.error().code, ErrorCode::kIo);
  EXPECT_EQ(y.error().code, ErrorCode::kIo);
  EXPECT_EQ(keys->key_count(), 1u);
  BATPAK_ASSERT_OK_AND_ASSIGN(y_again, key_for(*keys, "y"));
  EXPECT_EQ(y_again.first, 2u);
}

// Invariant (master key): no key of a wrapped keys file is in the file as it is; each one is
// there wrapped under the master key; the file opens only with that master key; shreds and
// copies keep working.
TEST_F(KeysetTest, AMasterKeyWrapsEveryKeyAndIsNeededToOpenTheFile) {
  const MasterKey master{0x4d, 0x4b};
  const std::string path = dir + "/" + kKeysFileName;
  std::vector<Keyset::KeyAndId> made;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, master, report));
    for (std::string_view entity : {"a", "b", "c"}) {
      BATPAK_ASSERT_OK_AND_ASSIGN(got, key_for(*keys, entity));
      made.push_back(got);
    }
    BATPAK_ASSERT_OK(keys->shred("b"));
    EXPECT_EQ(keys->encode_file(), testing::read_file_bytes(path));
  }
  const std::vector<uint8_t> file = testing::read_file_bytes(path);
  BATPAK_ASSERT_OK_AND_ASSIGN(decoded, decode_keys_file(file));
  ASSERT_TRUE(decoded.wrap.has_value());
  const KeyWrap wrap(master, decoded.wrap->file_id);
  for (uint32_t index : {0u, 2u}) {
    EXPECT_FALSE(contains(file, made[index].second)) << index;
    EXPECT_EQ(wrap.apply(index, decoded.records[index].key), made[index].second) << index;
  }
  EXPECT_EQ(decoded.records[1].key, Key{});  // A shredded key is zeros, wrapped or not.

  BATPAK_EXPECT_ERROR(Keyset::open(fs, dir, false, false, std::nullopt, report), ErrorCode::kInvalidArgument);
  BATPAK_EXPECT_ERROR(Keyset::open(fs, dir, true, false, MasterKey{0x4d}, report), ErrorCode::kInvalidArgument);
  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, Keyset::open(fs, dir, true, false, master, report));
  EXPECT_EQ(reopened->lookup(1)->key, made[0].second);
  EXPECT_EQ(reopened->lookup(2)->state, KeyState::kShredded);
  BATPAK_ASSERT_OK_AND_ASSIGN(d, key_for(*reopened, "d"));  // New keys after a reopen wrap too.
  EXPECT_FALSE(contains(testing::read_file_bytes(path), d.second));
  EXPECT_EQ(testing::read_file_bytes(path), file_with_record(file, 3, wrap, d.second, "d"));
}

TEST_F(KeysetTest, AMasterKeyForAFileMadeWithoutOneIsRefused) {
  { BATPAK_ASSERT_OK(Keyset::open(fs, dir, true, true, std::nullopt, report)); }
  BATPAK_EXPECT_ERROR(Keyset::open(fs, dir, false, false, MasterKey{1}, report), ErrorCode::kInvalidArgument);
  BATPAK_EXPECT_ERROR(Keyset::open(fs, dir, true, true, MasterKey{1}, report), ErrorCode::kInvalidArgument);
}

TEST_F(KeysetTest, AReadWriteOpenFinishesADamagedRecordAsShreddedAndCutsAPartialOne) {
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(keys, Keyset::open(fs, dir, true, true, std::nullopt, report));
    BATPAK_ASSERT_OK(key_for(*keys, "x"));
    BATPAK_ASSERT_OK(key_for(*keys, "y"));
  }
  const std::string path = dir + "/" + kKeysFileName;
  std::vector<uint8_t> file = testing::read_file_bytes(path);
  // Half of record 0 overwritten as a torn shred would leave it, and half a record appended.
  std::fill(file.begin() + kKeysHeaderBytes, file.begin() + kKeysHeaderBytes + 32, uint8_t{0});
  file.resize(file.size() + 20, 0xEE);
  testing::write_file_bytes(path, file);

  BATPAK_ASSERT_OK_AND_ASSIGN(read_only, Keyset::open(fs, dir, false, false, std::nullopt, report));
  EXPECT_EQ(report.damaged_records, 1u);
  EXPECT_EQ(report.partial_tail_bytes, 20u);
  EXPECT_EQ(read_only->lookup(1)->state, KeyState::kShredded);
  EXPECT_EQ(read_only->lookup(2)->state, KeyState::kLive);
  read_only.reset();
  EXPECT_EQ(testing::read_file_bytes(path), file);  // Read-only changes nothing.

  BATPAK_ASSERT_OK_AND_ASSIGN(repaired, Keyset::open(fs, dir, true, false, std::nullopt, report));
  EXPECT_EQ(report.damaged_records, 1u);
  repaired.reset();
  KeysOpenReport after;
  BATPAK_ASSERT_OK_AND_ASSIGN(clean, Keyset::open(fs, dir, false, false, std::nullopt, after));
  EXPECT_EQ(after.damaged_records, 0u);
  EXPECT_EQ(after.partial_tail_bytes, 0u);
  EXPECT_EQ(clean->shredded_count(), 1u);
  EXPECT_EQ(clean->key_count(), 2u);
}

}  // namespace
}  // namespace batpak::crypto
