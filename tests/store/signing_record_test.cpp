// The signing record (docs/format.md, "The signing record"): a store that signed once keeps
// signing. Invariants proved here: no receipt of a signing store is ever unsigned (appends
// without the seed are refused and write nothing), no other seed can sign for it, a damaged
// record refuses every open, and a backup signs as its source does.
#include <filesystem>
#include <fstream>

#include "batpak/gate.hpp"
#include "store/signing_record.hpp"
#include "store_fixtures.hpp"
#include "support/assertions.hpp"
#include "util/hex.hpp"
#include "util/small_file.hpp"

namespace batpak::store_test {
namespace {

SigningSeed seed_of(uint8_t v) {
  SigningSeed seed{};
  seed.fill(v);
  return seed;
}

class SigningRecordTest : public StoreTest {
 protected:
  std::string record_path() const { return dir() + "/" + kSigningRecordFileName; }
  StoreOptions options(std::optional<uint8_t> seed_byte, AccessMode access = AccessMode::kReadWrite) const {
    StoreOptions o;
    o.access = access;
    if (seed_byte) o.signing_seed = seed_of(*seed_byte);
    return o;
  }
  // Opens with seed 7, appends one event and closes; returns its receipt.
  Receipt make_signing_store() {
    auto store = open(options(7));
    EXPECT_NE(store, nullptr);
    auto r = store->append(coord("a"), kKindA, bytes("x"));
    EXPECT_TRUE(r.has_value());
    EXPECT_TRUE(store->close().has_value());
    return *r;
  }
  std::vector<uint8_t> record_bytes() const {
    std::ifstream in(record_path(), std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  void write_record_bytes(const std::vector<uint8_t>& b) const {
    std::ofstream(record_path(), std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
};

TEST_F(SigningRecordTest, RecordBytesAreFrozen) {
  PublicKey key{};
  for (size_t i = 0; i < key.size(); ++i) key[i] = static_cast<uint8_t>(i);
  const std::vector<uint8_t> encoded = encode_signing_record(key);
  ASSERT_EQ(encoded.size(), kSigningRecordBytes);
  EXPECT_EQ(util::to_hex(std::span(encoded).first(40)),
            "4250534b01000000"  // "BPSK", version 1, reserved 0.
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  BATPAK_ASSERT_OK_AND_ASSIGN(decoded, decode_signing_record(encoded));
  EXPECT_EQ(decoded, key);
}

TEST_F(SigningRecordTest, AReadWriteOpenWithASeedRecordsItsPublicKey) {
  EXPECT_FALSE(std::filesystem::exists(record_path()));
  const Receipt r = make_signing_store();
  BATPAK_ASSERT_OK_AND_ASSIGN(decoded, decode_signing_record(record_bytes()));
  BATPAK_ASSERT_OK_AND_ASSIGN(key, signing_public_key(seed_of(7)));
  EXPECT_EQ(decoded, key);
  BATPAK_ASSERT_OK(verify_receipt_signature(r, key));
}

TEST_F(SigningRecordTest, AReadOnlyOpenWithASeedRecordsNothing) {
  ASSERT_NE(open(), nullptr);  // Creates the store, unsigned.
  auto reader = open(options(7, AccessMode::kReadOnly));
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->public_key().has_value());
  EXPECT_FALSE(std::filesystem::exists(record_path()));
}

// Opened without its seed, a signing store reads, and vouches for its receipts with the
// recorded key, but appends nothing: every write path is refused and the journal is unchanged.
TEST_F(SigningRecordTest, WithoutTheSeedEveryAppendIsRefusedAndNothingIsWritten) {
  const Receipt signed_receipt = make_signing_store();
  auto store = open(options(std::nullopt));
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(key, signing_public_key(seed_of(7)));
  EXPECT_EQ(store->public_key(), key);
  BATPAK_ASSERT_OK(store->verify_receipt(signed_receipt));
  Receipt forged = signed_receipt;
  (*forged.signature)[5] ^= 1;
  BATPAK_EXPECT_ERROR(store->verify_receipt(forged), ErrorCode::kInvalidSignature);

  const uint64_t events_before = store->stats().event_count;
  auto expect_refused = [&](const Status& s, const char* what) {
    ASSERT_FALSE(s.has_value()) << what;
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument) << what;
    EXPECT_NE(s.error().message.find("signing seed"), std::string::npos) << what << ": " << s.error().message;
  };
  auto as_status = [](const auto& result) { return result ? Status{} : Status(tl::unexpected(result.error())); };
  expect_refused(as_status(store->append(coord("a"), kKindA, bytes("y"))), "append");
  const BatchItem item{coord("b"), kKindA, bytes("z"), {}};
  expect_refused(as_status(store->append_batch({&item, 1})), "append_batch");
  BATPAK_ASSERT_OK_AND_ASSIGN(existing, store->get(signed_receipt.event_id));
  Event copy = existing;
  copy.header.event_id.bytes[15] ^= 1;
  expect_refused(as_status(store->import_event(copy)), "import_event");
  GateSet<int> gates;
  (void)gates.add({"never", [](const int&) { return std::optional<Denial>(Denial{{}, "no", "no", {}}); }});
  expect_refused(as_status(store->append_denial(coord("a"), gates.evaluate(1), kKindA, {})), "append_denial");
  expect_refused(as_status(store->append_bypassing_gates(item, {"drill", "test", "", {}, 0})), "bypass");
  AppendOptions keyed;
  keyed.idempotency_key = "k";
  expect_refused(as_status(store->append(coord("a"), kKindA, bytes("y"), keyed)), "keyed append");
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(fence, store->begin_fence());
    expect_refused(as_status(fence.append(coord("a"), kKindA, bytes("f"))), "fence append");
    expect_refused(as_status(fence.append_batch({&item, 1})), "fence batch");
    BATPAK_ASSERT_OK(fence.cancel());
  }
  EXPECT_EQ(store->stats().event_count, events_before);
  BATPAK_ASSERT_OK(store->close());

  auto again = open(options(7));  // With the seed, appends work again, signed.
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->stats().event_count, events_before);
  BATPAK_ASSERT_OK_AND_ASSIGN(next, again->append(coord("a"), kKindA, bytes("y")));
  BATPAK_ASSERT_OK(verify_receipt_signature(next, key));
  EXPECT_EQ(next.global_sequence, events_before + 1);
}

TEST_F(SigningRecordTest, AnotherSeedIsRefusedInEveryAccessMode) {
  make_signing_store();
  const std::vector<uint8_t> record = record_bytes();
  for (AccessMode access : {AccessMode::kReadWrite, AccessMode::kReadOnly, AccessMode::kSalvage}) {
    auto opened = Store::open(dir(), options(8, access));
    ASSERT_FALSE(opened.has_value()) << static_cast<int>(access);
    EXPECT_EQ(opened.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(opened.error().file, record_path());
  }
  EXPECT_EQ(record_bytes(), record) << "a refused seed does not replace the record";
}

// Every single-byte change and every cut of the record is refused by every open, naming the
// file, with the seed or without it.
TEST_F(SigningRecordTest, ADamagedRecordRefusesEveryOpen) {
  make_signing_store();
  const std::vector<uint8_t> good = record_bytes();
  auto expect_open_refused = [&](ErrorCode code, const std::string& what) {
    for (AccessMode access : {AccessMode::kReadWrite, AccessMode::kReadOnly, AccessMode::kSalvage}) {
      for (std::optional<uint8_t> seed : {std::optional<uint8_t>(), std::optional<uint8_t>(7)}) {
        auto opened = Store::open(dir(), options(seed, access));
        ASSERT_FALSE(opened.has_value()) << what;
        EXPECT_EQ(opened.error().code, code) << what << ": " << opened.error().to_string();
        EXPECT_EQ(opened.error().file, record_path()) << what;
      }
    }
  };
  for (size_t at = 0; at < good.size(); ++at) {
    std::vector<uint8_t> bad = good;
    bad[at] ^= 0x10;
    write_record_bytes(bad);
    expect_open_refused(ErrorCode::kCorruption, "byte " + std::to_string(at));
  }
  for (size_t length : {size_t{0}, size_t{16}, kSigningRecordBytes - 1}) {
    write_record_bytes(std::vector<uint8_t>(good.begin(), good.begin() + static_cast<ptrdiff_t>(length)));
    expect_open_refused(ErrorCode::kCorruption, "cut to " + std::to_string(length));
  }
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  write_record_bytes(longer);
  expect_open_refused(ErrorCode::kCorruption, "one byte longer");
  write_record_bytes(good);
  ASSERT_NE(open(options(7)), nullptr);
}

// The version is read after the checksum: a record resealed with version 2 is kUnsupported.
TEST_F(SigningRecordTest, ANewerRecordVersionIsUnsupported) {
  PublicKey key{};
  std::vector<uint8_t> bytes_v2 = encode_signing_record(key);
  bytes_v2[4] = 2;
  bytes_v2.resize(kSigningRecordBytes - 8);
  util::seal_small_file(bytes_v2);
  BATPAK_EXPECT_ERROR(decode_signing_record(bytes_v2), ErrorCode::kUnsupported);
}

TEST_F(SigningRecordTest, AnUnsignedStoreSignsFromItsFirstSeededOpenOn) {
  {
    auto plain = open();
    ASSERT_NE(plain, nullptr);
    BATPAK_ASSERT_OK_AND_ASSIGN(unsigned_receipt, plain->append(coord("a"), kKindA, bytes("x")));
    EXPECT_FALSE(unsigned_receipt.signature.has_value());
    BATPAK_ASSERT_OK(plain->close());
  }
  {
    auto seeded = open(options(7));
    ASSERT_NE(seeded, nullptr);
    BATPAK_ASSERT_OK_AND_ASSIGN(signed_receipt, seeded->append(coord("a"), kKindA, bytes("y")));
    EXPECT_TRUE(signed_receipt.signature.has_value());
    BATPAK_ASSERT_OK(seeded->close());
  }
  auto plain_again = Store::open(dir());
  ASSERT_TRUE(plain_again.has_value());
  BATPAK_EXPECT_ERROR((*plain_again)->append(coord("a"), kKindA, bytes("z")), ErrorCode::kInvalidArgument);
}

TEST_F(SigningRecordTest, ABackupSignsAsItsSourceDoes) {
  make_signing_store();
  {
    auto source = open(options(std::nullopt, AccessMode::kReadOnly));
    ASSERT_NE(source, nullptr);
    BATPAK_ASSERT_OK(source->backup(tmp_.sub("copy")));
  }
  auto copy = Store::open(tmp_.sub("copy"));
  ASSERT_TRUE(copy.has_value()) << copy.error().to_string();
  BATPAK_ASSERT_OK_AND_ASSIGN(key, signing_public_key(seed_of(7)));
  EXPECT_EQ((*copy)->public_key(), key);
  BATPAK_EXPECT_ERROR((*copy)->append(coord("a"), kKindA, bytes("y")), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace batpak::store_test
