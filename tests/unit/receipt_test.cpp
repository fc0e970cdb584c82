// Store-free receipt verification: Ed25519 over the event hash the receipt's fields imply.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "batpak/event.hpp"
#include "format/record.hpp"
#include "store/signer.hpp"

namespace batpak {
namespace {

std::array<uint8_t, 32> seed(uint8_t first) {
  std::array<uint8_t, 32> s{};
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint8_t>(first + i);
  return s;
}

Receipt unsigned_receipt() {
  Receipt r;
  r.event_id.bytes[0] = 0x01;
  r.event_id.bytes[6] = 0x70;
  r.correlation_id = r.event_id;
  r.causation_id.bytes[3] = 0x33;
  r.global_sequence = 42;
  r.entity = "order:1";
  r.scope = "shop";
  r.kind = EventKind(0x1001);
  r.clock = 7;
  r.wall_ms = 1700000000123;
  r.payload_version = 2;
  r.content_hash.bytes[0] = 0xC0;
  r.prev_hash.bytes[31] = 0x9F;
  r.event_hash = receipt_event_hash(r);
  return r;
}

class ReceiptSignatureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Signer::from_seed(seed(1));
    ASSERT_TRUE(s.has_value());
    signer_ = *s;
    good_ = unsigned_receipt();
    good_.signature = signer_->sign(good_.event_hash);
  }
  std::optional<Signer> signer_;
  Receipt good_;
};

TEST_F(ReceiptSignatureTest, ReceiptEventHashEqualsTheFormatsEventHash) {
  EventHeader h;
  h.event_id = good_.event_id;
  h.correlation_id = good_.correlation_id;
  h.causation_id = good_.causation_id;
  h.global_sequence = good_.global_sequence;
  h.clock = good_.clock;
  h.wall_ms = good_.wall_ms;
  h.kind = good_.kind;
  h.payload_version = good_.payload_version;
  h.content_hash = good_.content_hash;
  h.prev_hash = good_.prev_hash;
  EXPECT_EQ(receipt_event_hash(good_), format::compute_event_hash(h, good_.entity, good_.scope));
}

TEST_F(ReceiptSignatureTest, GoodSignedReceiptVerifies) {
  auto ok = verify_receipt_signature(good_, signer_->public_key());
  EXPECT_TRUE(ok.has_value()) << ok.error().to_string();
}

TEST_F(ReceiptSignatureTest, SigningIsDeterministic) {
  EXPECT_EQ(signer_->sign(good_.event_hash), *good_.signature);
  auto same = Signer::from_seed(seed(1));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->public_key(), signer_->public_key());
}

TEST_F(ReceiptSignatureTest, AnyAlteredFieldIsInvalidSignature) {
  const std::vector<std::pair<const char*, std::function<void(Receipt&)>>> alterations = {
      {"event_id", [](Receipt& r) { r.event_id.bytes[15] ^= 1; }},
      {"correlation_id", [](Receipt& r) { r.correlation_id.bytes[0] ^= 1; }},
      {"causation_id", [](Receipt& r) { r.causation_id.bytes[3] ^= 1; }},
      {"global_sequence", [](Receipt& r) { r.global_sequence += 1; }},
      {"entity", [](Receipt& r) { r.entity = "order:2"; }},
      {"scope", [](Receipt& r) { r.scope = "shop2"; }},
      {"kind", [](Receipt& r) { r.kind = EventKind(0x1002); }},
      {"clock", [](Receipt& r) { r.clock -= 1; }},
      {"wall_ms", [](Receipt& r) { r.wall_ms += 1; }},
      {"payload_version", [](Receipt& r) { r.payload_version = 3; }},
      {"content_hash", [](Receipt& r) { r.content_hash.bytes[1] ^= 1; }},
      {"prev_hash", [](Receipt& r) { r.prev_hash.bytes[31] ^= 1; }},
      {"event_hash", [](Receipt& r) { r.event_hash.bytes[5] ^= 1; }},
      {"signature", [](Receipt& r) { (*r.signature)[10] ^= 1; }},
      {"signature last byte", [](Receipt& r) { (*r.signature)[63] ^= 0x80; }},
      {"removed signature", [](Receipt& r) { r.signature.reset(); }},
  };
  for (const auto& [what, alter] : alterations) {
    Receipt r = good_;
    alter(r);
    auto s = verify_receipt_signature(r, signer_->public_key());
    ASSERT_FALSE(s.has_value()) << what << " altered, yet the receipt verified";
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature) << what;
  }
}

TEST_F(ReceiptSignatureTest, ReHashedButNotReSignedReceiptIsInvalidSignature) {
  Receipt r = good_;
  r.global_sequence = 43;
  r.event_hash = receipt_event_hash(r);  // Consistent fields, stale signature.
  auto s = verify_receipt_signature(r, signer_->public_key());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature);
}

TEST_F(ReceiptSignatureTest, WrongPublicKeyIsInvalidSignature) {
  auto other = Signer::from_seed(seed(2));
  ASSERT_TRUE(other.has_value());
  ASSERT_NE(other->public_key(), signer_->public_key());
  auto s = verify_receipt_signature(good_, other->public_key());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature);
  // And the other key's own signature verifies only under the other key.
  Receipt theirs = good_;
  theirs.signature = other->sign(theirs.event_hash);
  EXPECT_TRUE(verify_receipt_signature(theirs, other->public_key()).has_value());
  EXPECT_FALSE(verify_receipt_signature(theirs, signer_->public_key()).has_value());
}

TEST_F(ReceiptSignatureTest, UnsignedReceiptIsInvalidSignatureForStoreFreeVerification) {
  Receipt r = good_;
  r.signature.reset();
  auto s = verify_receipt_signature(r, signer_->public_key());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidSignature);
}

TEST_F(ReceiptSignatureTest, IdempotentReplayFlagIsNotPartOfTheProof) {
  Receipt r = good_;
  r.idempotent_replay = true;
  EXPECT_TRUE(verify_receipt_signature(r, signer_->public_key()).has_value());
}

}  // namespace
}  // namespace batpak
