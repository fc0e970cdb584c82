// Sealing and opening payloads: XChaCha20-Poly1305 (libsodium) under a per-entity key
// (docs/encryption.md). Internal.
// Thread safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "batpak/types.hpp"

namespace batpak::crypto {

inline constexpr size_t kKeyBytes = 32;
using Key = std::array<uint8_t, kKeyBytes>;

// A sealed payload: key id (u32 LE) | nonce (24) | ciphertext | tag (16).
inline constexpr size_t kKeyIdBytes = 4;
inline constexpr size_t kNonceBytes = 24;
inline constexpr size_t kTagBytes = 16;
inline constexpr size_t kSealOverheadBytes = kKeyIdBytes + kNonceBytes + kTagBytes;

// What the seal is bound to besides the key: a sealed payload moved to another event,
// entity, scope or kind no longer opens.
struct SealContext {
  EventId event_id;
  EventKind kind;
  std::string_view entity;
  std::string_view scope;
};

// Seals `plaintext` under key `key_id` with a fresh random nonce into `out` (replaced).
// REQUIRES: libsodium initialised (sodium_ready()).
void seal_payload(const Key& key, uint32_t key_id, const SealContext& context, std::span<const uint8_t> plaintext,
                  std::vector<uint8_t>& out);

// The key id a sealed payload names; nullopt when it is too short to be one.
std::optional<uint32_t> sealed_key_id(std::span<const uint8_t> sealed);

// Opens `sealed` into `out` (replaced). False when the bytes do not authenticate under `key`
// and `context` (damage, tampering or the wrong key); `out` is then empty.
bool open_payload(const Key& key, const SealContext& context, std::span<const uint8_t> sealed,
                  std::vector<uint8_t>& out);

}  // namespace batpak::crypto
