#include "store/signer.hpp"

#include <sodium.h>

#include <cstring>

#include "format/format.hpp"
#include "format/record.hpp"

namespace batpak {
namespace {

constexpr size_t kDomainBytes = sizeof(format::kSignatureDomain) - 1;

std::array<uint8_t, kDomainBytes + 32> signed_message(const Hash32& event_hash) {
  std::array<uint8_t, kDomainBytes + 32> message{};
  std::memcpy(message.data(), format::kSignatureDomain, kDomainBytes);
  std::memcpy(message.data() + kDomainBytes, event_hash.bytes.data(), 32);
  return message;
}

}  // namespace

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

Result<Signer> Signer::from_seed(const std::array<uint8_t, 32>& seed) {
  if (!sodium_ready()) return make_error(ErrorCode::kIo, "libsodium failed to initialise");
  Signer signer;
  crypto_sign_seed_keypair(signer.public_key_.data(), signer.secret_key_.data(), seed.data());
  return signer;
}

std::array<uint8_t, kSignatureBytes> Signer::sign(const Hash32& event_hash) const {
  const auto message = signed_message(event_hash);
  std::array<uint8_t, kSignatureBytes> signature{};
  crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                       secret_key_.data());
  return signature;
}

bool signature_valid(const Hash32& event_hash, const std::array<uint8_t, kSignatureBytes>& signature,
                     const std::array<uint8_t, kPublicKeyBytes>& public_key) {
  if (!sodium_ready()) return false;
  const auto message = signed_message(event_hash);
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     public_key.data()) == 0;
}

Hash32 receipt_event_hash(const Receipt& r) {
  EventHeader h;
  h.event_id = r.event_id;
  h.correlation_id = r.correlation_id;
  h.causation_id = r.causation_id;
  h.global_sequence = r.global_sequence;
  h.clock = r.clock;
  h.wall_ms = r.wall_ms;
  h.kind = r.kind;
  h.payload_version = r.payload_version;
  h.content_hash = r.content_hash;
  h.prev_hash = r.prev_hash;
  h.payload_encrypted = r.payload_encrypted;
  return format::compute_event_hash(h, r.entity, r.scope);
}

Status verify_receipt_signature(const Receipt& receipt,
                                const std::array<uint8_t, kPublicKeyBytes>& public_key) {
  if (receipt_event_hash(receipt) != receipt.event_hash) {
    return make_error(ErrorCode::kInvalidSignature, "receipt fields do not hash to its event_hash");
  }
  if (!receipt.signature) return make_error(ErrorCode::kInvalidSignature, "receipt is unsigned");
  if (!signature_valid(receipt.event_hash, *receipt.signature, public_key)) {
    return make_error(ErrorCode::kInvalidSignature, "signature does not verify under the key");
  }
  return {};
}

Result<std::array<uint8_t, 32>> new_secret_bytes() {
  if (!sodium_ready()) return make_error(ErrorCode::kIo, "libsodium failed to initialise");
  std::array<uint8_t, 32> secret{};
  randombytes_buf(secret.data(), secret.size());
  return secret;
}

Result<SigningSeed> generate_signing_seed() { return new_secret_bytes(); }

Result<PublicKey> signing_public_key(const SigningSeed& seed) {
  auto signer = Signer::from_seed(seed);
  if (!signer) return tl::unexpected(signer.error());
  return signer->public_key();
}

}  // namespace batpak
