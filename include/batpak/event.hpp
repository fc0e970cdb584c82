// Committed events, their headers and receipts.
// Thread safety: plain values; safe to copy between threads.
#pragma once

#include <array>
#include <concepts>
#include <cstdint>
#include <optional>
#include <vector>

#include "batpak/types.hpp"

namespace batpak {

// The header of a committed event. Every field except `timestamp_us` and `flags` is
// covered by `event_hash` (see docs/format.md, "Event hash").
struct EventHeader {
  EventId event_id;         // UUIDv7, or derived from the idempotency key when one is given.
  EventId correlation_id;   // Defaults to event_id for a root append.
  EventId causation_id;     // Nil when the event has no cause.
  uint64_t global_sequence = 0;  // Store-wide commit order, starting at 1, without gaps.
  uint32_t clock = 0;            // Per-entity order, starting at 1, without gaps.
  uint64_t wall_ms = 0;          // Commit wall time, monotone per entity.
  int64_t timestamp_us = 0;      // Caller-side clock sample at submission.
  EventKind kind;
  uint16_t flags = 0;            // Caller-defined bits, opaque to the store.
  uint16_t payload_version = 0;  // Caller-defined payload schema version; 0 = untyped.
  Hash32 content_hash;           // BLAKE3 of the payload bytes.
  Hash32 prev_hash;              // event_hash of the entity's previous event; zero for the first.
  Hash32 event_hash;             // BLAKE3 over the header fields, content_hash and prev_hash.
  // The stored payload is sealed under a key of the entity (StoreOptions::encrypt_payloads,
  // docs/encryption.md); content_hash covers the sealed bytes. Covered by event_hash.
  bool payload_encrypted = false;
};

// A type usable with the typed lane: it names its event kind.
template <class T>
concept TypedPayload = requires {
  { T::kKind } -> std::convertible_to<EventKind>;
};

// A committed event read back from the store: its coordinate, header and payload bytes.
// `payload` is always the caller's plaintext: a sealed payload is opened on read. When its key
// was destroyed (Store::shred_entity), `payload` is empty and `payload_shredded` is true.
struct Event {
  Coordinate coordinate;
  EventHeader header;
  std::vector<uint8_t> payload;
  bool payload_shredded = false;
};

inline constexpr size_t kSignatureBytes = 64;
inline constexpr size_t kPublicKeyBytes = 32;

// Proof of a commit. Anyone holding the receipt can check it against the store
// (Store::verify_receipt) or, when signed, without the store (verify_receipt_signature).
struct Receipt {
  EventId event_id;
  EventId correlation_id;
  EventId causation_id;
  uint64_t global_sequence = 0;
  std::string entity;
  std::string scope;
  EventKind kind;
  uint32_t clock = 0;
  uint64_t wall_ms = 0;
  uint16_t payload_version = 0;
  Hash32 content_hash;
  Hash32 prev_hash;
  Hash32 event_hash;
  bool payload_encrypted = false;  // EventHeader::payload_encrypted; covered by event_hash.
  // Ed25519 signature over event_hash by the store's signing key, when one is configured.
  std::optional<std::array<uint8_t, kSignatureBytes>> signature;
  // True when an idempotency key matched an earlier commit and this is its original receipt.
  bool idempotent_replay = false;
};

// Recomputes the event hash that a receipt's fields imply. A receipt whose event_hash
// differs from this value has been altered.
Hash32 receipt_event_hash(const Receipt& receipt);

// Store-free verification: checks that the receipt's fields hash to its event_hash and that
// its signature is a valid Ed25519 signature of that hash under `public_key`.
// Returns kInvalidSignature (with the reason) when either check fails or it is unsigned.
Status verify_receipt_signature(const Receipt& receipt,
                                const std::array<uint8_t, kPublicKeyBytes>& public_key);

// Signing keys. A store signs with the Ed25519 key pair derived from a 32-byte seed
// (StoreOptions::signing_seed); whoever holds the seed can sign as the store, so keep it
// secret. The public key is all a verifier needs.
inline constexpr size_t kSigningSeedBytes = 32;
using SigningSeed = std::array<uint8_t, kSigningSeedBytes>;
using PublicKey = std::array<uint8_t, kPublicKeyBytes>;

// A new seed from the operating system's secure random source (libsodium's
// randombytes_buf). Errors: kIo when libsodium cannot initialise.
Result<SigningSeed> generate_signing_seed();
// The public key that receipts signed with `seed` verify under (what Store::public_key()
// returns for a store opened with it). Errors: kIo when libsodium cannot initialise.
Result<PublicKey> signing_public_key(const SigningSeed& seed);

}  // namespace batpak
