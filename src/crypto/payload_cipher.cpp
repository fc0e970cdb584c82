#include "crypto/payload_cipher.hpp"

#include <sodium.h>

#include <cstring>

#include "format/format.hpp"
#include "util/bytes.hpp"
#include "util/random.hpp"

namespace batpak::crypto {
namespace {

static_assert(kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
// The largest sealed payload still fits in a record.
static_assert(kSealOverheadBytes <= format::kSealedPayloadExtraBytes);
static_assert(format::kRecordBytesMax >= format::kPayloadBytesLimit + kSealOverheadBytes + format::kRecordFixedBytes +
                                            2 * kCoordinateComponentBytesMax);

// The associated data: event id | kind u16 | key id u32 | entity length u16 | entity |
// scope length u16 | scope (integers little-endian).
std::vector<uint8_t> associated_data(uint32_t key_id, const SealContext& c) {
  std::vector<uint8_t> ad(16 + 2 + 4 + 2 + c.entity.size() + 2 + c.scope.size());
  uint8_t* p = ad.data();
  std::memcpy(p, c.event_id.bytes.data(), 16), p += 16;
  util::store_le<uint16_t>(p, c.kind.raw()), p += 2;
  util::store_le<uint32_t>(p, key_id), p += 4;
  util::store_le<uint16_t>(p, static_cast<uint16_t>(c.entity.size())), p += 2;
  std::memcpy(p, c.entity.data(), c.entity.size()), p += c.entity.size();
  util::store_le<uint16_t>(p, static_cast<uint16_t>(c.scope.size())), p += 2;
  if (!c.scope.empty()) std::memcpy(p, c.scope.data(), c.scope.size());
  return ad;
}

}  // namespace

void seal_payload(const Key& key, uint32_t key_id, const SealContext& context, std::span<const uint8_t> plaintext,
                  std::vector<uint8_t>& out) {
  out.resize(kSealOverheadBytes + plaintext.size());
  util::store_le<uint32_t>(out.data(), key_id);
  uint8_t* nonce = out.data() + kKeyIdBytes;
  util::random_bytes({nonce, kNonceBytes});
  const std::vector<uint8_t> ad = associated_data(key_id, context);
  unsigned long long sealed_bytes = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + kNonceBytes, &sealed_bytes, plaintext.data(), plaintext.size(),
                                             ad.data(), ad.size(), nullptr, nonce, key.data());
}

std::optional<uint32_t> sealed_key_id(std::span<const uint8_t> sealed) {
  if (sealed.size() < kSealOverheadBytes) return std::nullopt;
  return util::load_le<uint32_t>(sealed.data());
}

bool open_payload(const Key& key, const SealContext& context, std::span<const uint8_t> sealed,
                  std::vector<uint8_t>& out) {
  out.clear();
  const std::optional<uint32_t> key_id = sealed_key_id(sealed);
  if (!key_id) return false;
  const uint8_t* nonce = sealed.data() + kKeyIdBytes;
  const uint8_t* box = nonce + kNonceBytes;
  const size_t box_bytes = sealed.size() - kKeyIdBytes - kNonceBytes;
  const std::vector<uint8_t> ad = associated_data(*key_id, context);
  out.resize(box_bytes - kTagBytes);
  unsigned long long opened_bytes = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data(), &opened_bytes, nullptr, box, box_bytes, ad.data(),
                                                 ad.size(), nonce, key.data()) != 0) {
    out.clear();
    return false;
  }
  return true;
}

}  // namespace batpak::crypto
