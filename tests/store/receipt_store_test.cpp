// Receipts issued by a store: signed and unsigned, checked with and without the store.
#include <functional>
#include <map>
#include <set>

#include "store_fixtures.hpp"

namespace batpak::store_test {
namespace {

std::array<uint8_t, 32> test_seed(uint8_t v) {
  std::array<uint8_t, 32> seed{};
  seed.fill(v);
  return seed;
}

class ReceiptStoreTest : public StoreTest {
 protected:
  StoreOptions signed_options(uint8_t seed_byte = 7) {
    StoreOptions o;
    o.signing_seed = test_seed(seed_byte);
    return o;
  }
};

// Every way to tamper with a receipt that a verifier must notice.
std::vector<std::pair<const char*, Receipt>> tampered(const Receipt& good) {
  std::vector<std::pair<const char*, Receipt>> out;
  auto add = [&](const char* what, auto mutate) {
    Receipt r = good;
    mutate(r);
    out.emplace_back(what, r);
  };
  add("global_sequence", [](Receipt& r) { r.global_sequence += 1; });
  add("entity", [](Receipt& r) { r.entity += "x"; });
  add("scope", [](Receipt& r) { r.scope = "other"; });
  add("kind", [](Receipt& r) { r.kind = EventKind(0x1FFF); });
  add("clock", [](Receipt& r) { r.clock += 1; });
  add("wall_ms", [](Receipt& r) { r.wall_ms -= 1; });
  add("correlation", [](Receipt& r) { r.correlation_id.bytes[2] ^= 1; });
  add("causation", [](Receipt& r) { r.causation_id.bytes[2] ^= 1; });
  add("payload_version", [](Receipt& r) { r.payload_version += 1; });
  add("content_hash", [](Receipt& r) { r.content_hash.bytes[0] ^= 1; });
  add("prev_hash", [](Receipt& r) { r.prev_hash.bytes[0] ^= 1; });
  add("event_hash", [](Receipt& r) { r.event_hash.bytes[0] ^= 1; });
  add("event_id", [](Receipt& r) { r.event_id.bytes[15] ^= 1; });
  if (good.signature) {
    add("signature", [](Receipt& r) { (*r.signature)[0] ^= 1; });
    add("no signature", [](Receipt& r) { r.signature.reset(); });
  } else {
    add("forged signature", [](Receipt& r) { r.signature = std::array<uint8_t, kSignatureBytes>{}; });
  }
  return out;
}

TEST_F(ReceiptStoreTest, SignedStoreReceiptsVerifyAgainstTheStoreAndTheirPublicKey) {
  auto store = open(signed_options());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->public_key().has_value());
  BATPAK_ASSERT_OK_AND_ASSIGN(r1, store->append(coord("a"), kKindA, bytes("x")));
  BATPAK_ASSERT_OK_AND_ASSIGN(r2, store->append(coord("a"), kKindA, bytes("y")));
  for (const Receipt* r : {&r1, &r2}) {
    ASSERT_TRUE(r->signature.has_value());
    BATPAK_ASSERT_OK(store->verify_receipt(*r));
    BATPAK_ASSERT_OK(verify_receipt_signature(*r, *store->public_key()));
    EXPECT_EQ(receipt_event_hash(*r), r->event_hash);
  }
}

TEST_F(ReceiptStoreTest, TamperedReceiptIsInvalidSignatureWithAndWithoutTheStore) {
  auto store = open(signed_options());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(coord("a"), kKindA, bytes("first")));
  EventId cause;
  cause.bytes[0] = 9;
  AppendOptions o;
  o.causation_id = cause;
  BATPAK_ASSERT_OK_AND_ASSIGN(good, store->append(coord("a"), kKindA, bytes("x"), o));
  for (const auto& [what, bad] : tampered(good)) {
    auto with_store = store->verify_receipt(bad);
    ASSERT_FALSE(with_store.has_value()) << what;
    EXPECT_EQ(with_store.error().code, ErrorCode::kInvalidSignature) << what;
    auto without = verify_receipt_signature(bad, *store->public_key());
    ASSERT_FALSE(without.has_value()) << what;
    EXPECT_EQ(without.error().code, ErrorCode::kInvalidSignature) << what;
  }
}

TEST_F(ReceiptStoreTest, ReceiptOfAnotherStoresKeyDoesNotVerify) {
  auto store = open(signed_options(7));
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  const auto key = *store->public_key();
  BATPAK_ASSERT_OK(store->close());
  auto other = Store::open(tmp_.sub("other"), signed_options(8));
  ASSERT_TRUE(other.has_value());
  ASSERT_NE(*(*other)->public_key(), key);
  BATPAK_EXPECT_ERROR(verify_receipt_signature(r, *(*other)->public_key()), ErrorCode::kInvalidSignature);
}

TEST_F(ReceiptStoreTest, SignedReceiptsStillVerifyAfterReopenWithTheSameSeed) {
  Receipt r;
  std::array<uint8_t, kPublicKeyBytes> key{};
  {
    auto store = open(signed_options());
    ASSERT_NE(store, nullptr);
    auto appended = store->append(coord("a"), kKindA, bytes("x"));
    ASSERT_TRUE(appended.has_value());
    r = *appended;
    key = *store->public_key();
  }
  auto store = open(signed_options());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->public_key(), key);
  BATPAK_ASSERT_OK(store->verify_receipt(r));
  BATPAK_ASSERT_OK(verify_receipt_signature(r, key));
}

TEST_F(ReceiptStoreTest, IdempotentReplayReceiptIsSignedAndVerifies) {
  auto store = open(signed_options());
  ASSERT_NE(store, nullptr);
  AppendOptions keyed;
  keyed.idempotency_key = "k";
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append(coord("a"), kKindA, bytes("x"), keyed));
  BATPAK_ASSERT_OK_AND_ASSIGN(replay, store->append(coord("a"), kKindA, bytes("x"), keyed));
  ASSERT_TRUE(replay.idempotent_replay);
  ASSERT_TRUE(replay.signature.has_value());
  EXPECT_EQ(*replay.signature, *first.signature);
  BATPAK_ASSERT_OK(store->verify_receipt(replay));
  BATPAK_ASSERT_OK(verify_receipt_signature(replay, *store->public_key()));
}

TEST_F(ReceiptStoreTest, UnsignedStoreReceiptsVerifyAgainstTheStoreOnly) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->public_key().has_value());
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  EXPECT_FALSE(r.signature.has_value());
  BATPAK_ASSERT_OK(store->verify_receipt(r));
  for (const auto& [what, bad] : tampered(r)) {
    auto s = store->verify_receipt(bad);
    ASSERT_FALSE(s.has_value()) << what;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature) << what;
  }
}

TEST_F(ReceiptStoreTest, ReceiptOfAnEventThisStoreNeverCommittedIsInvalidSignature) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  BATPAK_ASSERT_OK(store->close());
  auto other = Store::open(tmp_.sub("other"));
  ASSERT_TRUE(other.has_value());
  BATPAK_EXPECT_ERROR((*other)->verify_receipt(r), ErrorCode::kInvalidSignature);
}

// verify_receipt does not just refuse a tampered receipt: its reason names what differs, so
// an auditor can tell which claim was altered. Each field is tampered alone; the reasons of
// different fields differ.
TEST_F(ReceiptStoreTest, VerifyReceiptGivesAReasonThatNamesEachTamperedField) {
  struct Case {
    const char* field;
    const char* reason_names;  // What the reason must mention.
    std::function<void(Receipt&)> tamper;
  };
  const std::vector<Case> cases{
      {"event_id", "event id", [](Receipt& r) { r.event_id.bytes[15] ^= 1; }},
      {"global_sequence", "global_sequence", [](Receipt& r) { r.global_sequence += 1; }},
      {"entity", "entity", [](Receipt& r) { r.entity += "x"; }},
      {"scope", "scope", [](Receipt& r) { r.scope = "other"; }},
      {"kind", "kind", [](Receipt& r) { r.kind = EventKind(0x1FFF); }},
      {"clock", "clock", [](Receipt& r) { r.clock += 1; }},
      {"wall_ms", "wall_ms", [](Receipt& r) { r.wall_ms -= 1; }},
      {"correlation_id", "correlation_id", [](Receipt& r) { r.correlation_id.bytes[2] ^= 1; }},
      {"causation_id", "causation_id", [](Receipt& r) { r.causation_id.bytes[2] ^= 1; }},
      {"payload_version", "payload_version", [](Receipt& r) { r.payload_version += 1; }},
      {"content_hash", "content_hash", [](Receipt& r) { r.content_hash.bytes[0] ^= 1; }},
      {"prev_hash", "prev_hash", [](Receipt& r) { r.prev_hash.bytes[0] ^= 1; }},
      {"event_hash", "event_hash", [](Receipt& r) { r.event_hash.bytes[0] ^= 1; }},
      {"signature", "signature", [](Receipt& r) { (*r.signature)[0] ^= 1; }},
      {"signature removed", "unsigned", [](Receipt& r) { r.signature.reset(); }},
  };
  std::map<std::string, std::string> reason_of;  // Field -> reason.
  auto expect_reason = [&](const Store& store, const Receipt& good, const Case& c) {
    Receipt bad = good;
    c.tamper(bad);
    auto s = store.verify_receipt(bad);
    ASSERT_FALSE(s.has_value()) << c.field;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature) << c.field;
    EXPECT_NE(s.error().message.find(c.reason_names), std::string::npos)
        << c.field << ": \"" << s.error().message << "\" does not name " << c.reason_names;
    reason_of[c.field] = s.error().message;
  };

  auto store = open(signed_options());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(coord("a"), kKindA, bytes("first")));  // So prev_hash is not zero.
  AppendOptions o;
  o.causation_id.bytes[0] = 9;
  BATPAK_ASSERT_OK_AND_ASSIGN(good, store->append(coord("a"), kKindA, bytes("x"), o));
  BATPAK_ASSERT_OK(store->verify_receipt(good));
  for (const Case& c : cases) expect_reason(*store, good, c);

  // A signature on a receipt of a store that does not sign is a forgery, named as such.
  auto unsigned_store = Store::open(tmp_.sub("unsigned"));
  ASSERT_TRUE(unsigned_store.has_value()) << unsigned_store.error().to_string();
  BATPAK_ASSERT_OK_AND_ASSIGN(plain, (*unsigned_store)->append(coord("a"), kKindA, bytes("x")));
  expect_reason(**unsigned_store, plain,
                {"forged signature", "signing key",
                 [](Receipt& r) { r.signature = std::array<uint8_t, kSignatureBytes>{}; }});

  // No two fields share a reason.
  std::set<std::string> distinct;
  for (const auto& [field, reason] : reason_of) distinct.insert(reason);
  EXPECT_EQ(distinct.size(), reason_of.size());
}

// An auditor opens the store read-only, without the seed, and checks the receipts against
// the store and the public key they were given: each stored field and the signature must hold.
// (The store's own check uses the key of its signing record; signing_record_test.cpp.)
TEST_F(ReceiptStoreTest, ReadOnlyOpenWithoutTheSeedVerifiesReceiptsAgainstAGivenPublicKey) {
  Receipt good;
  PublicKey key{};
  {
    auto store = open(signed_options());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->append(coord("a"), kKindA, bytes("first")));
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
    good = r;
    key = *store->public_key();
    BATPAK_ASSERT_OK(store->close());
  }
  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  auto auditor = open(read_only);
  ASSERT_NE(auditor, nullptr);
  EXPECT_EQ(auditor->public_key(), key);  // From the signing record.
  BATPAK_ASSERT_OK(auditor->verify_receipt(good, key));

  for (const auto& [what, bad] : tampered(good)) {
    auto s = auditor->verify_receipt(bad, key);
    ASSERT_FALSE(s.has_value()) << what;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature) << what;
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(other_key, signing_public_key(test_seed(8)));
  BATPAK_EXPECT_ERROR(auditor->verify_receipt(good, other_key), ErrorCode::kInvalidSignature);
}

// The key passed in is the one checked, also on a store that signs with a key of its own.
TEST_F(ReceiptStoreTest, VerifyReceiptAgainstAKeyIgnoresTheStoresOwnKey) {
  auto store = open(signed_options(7));
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  BATPAK_ASSERT_OK_AND_ASSIGN(other_key, signing_public_key(test_seed(8)));
  BATPAK_ASSERT_OK(store->verify_receipt(r));
  auto s = store->verify_receipt(r, other_key);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature);
  EXPECT_NE(s.error().message.find("does not verify under the key"), std::string::npos) << s.error().message;
}

// An unsigned receipt never passes a check that asks for a signature.
TEST_F(ReceiptStoreTest, UnsignedReceiptFailsAgainstAnyPublicKey) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  BATPAK_ASSERT_OK_AND_ASSIGN(key, signing_public_key(test_seed(7)));
  auto s = store->verify_receipt(r, key);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature);
  EXPECT_NE(s.error().message.find("unsigned"), std::string::npos) << s.error().message;
}

TEST_F(ReceiptStoreTest, SigningPublicKeyOfASeedIsThePublicKeyOfAStoreOpenedWithIt) {
  auto store = open(signed_options(7));
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(key, signing_public_key(test_seed(7)));
  EXPECT_EQ(key, *store->public_key());
  BATPAK_ASSERT_OK_AND_ASSIGN(other, signing_public_key(test_seed(8)));
  EXPECT_NE(other, key);
}

// Generated seeds come from a secure random source: two differ, and a store opened with one
// signs receipts that verify under the seed's public key.
TEST_F(ReceiptStoreTest, GeneratedSeedsDifferAndSignReceiptsThatVerify) {
  BATPAK_ASSERT_OK_AND_ASSIGN(seed, generate_signing_seed());
  BATPAK_ASSERT_OK_AND_ASSIGN(second, generate_signing_seed());
  EXPECT_NE(seed, second);
  StoreOptions o;
  o.signing_seed = seed;
  auto store = open(o);
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  BATPAK_ASSERT_OK_AND_ASSIGN(key, signing_public_key(seed));
  BATPAK_ASSERT_OK(verify_receipt_signature(r, key));
}

}  // namespace
}  // namespace batpak::store_test
