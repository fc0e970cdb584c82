// Ed25519 receipt signing (libsodium). Internal.
#pragma once

#include <array>
#include <optional>

#include "batpak/event.hpp"

namespace batpak {

// Thread safety: const methods may be called concurrently.
class Signer {
 public:
  // Derives the key pair from a 32-byte seed.
  static Result<Signer> from_seed(const std::array<uint8_t, 32>& seed);
  // Signs "batpak receipt v1" || event_hash. Deterministic: the same hash, the same bytes.
  std::array<uint8_t, kSignatureBytes> sign(const Hash32& event_hash) const;
  const std::array<uint8_t, kPublicKeyBytes>& public_key() const { return public_key_; }

 private:
  std::array<uint8_t, 64> secret_key_{};
  std::array<uint8_t, kPublicKeyBytes> public_key_{};
};

// Checks a signature made by Signer::sign.
bool signature_valid(const Hash32& event_hash, const std::array<uint8_t, kSignatureBytes>& signature,
                     const std::array<uint8_t, kPublicKeyBytes>& public_key);

// Initialises libsodium once per process; false if it cannot be.
bool sodium_ready();

// 32 bytes from the operating system's secure random source (libsodium's randombytes_buf),
// for a new secret: a signing seed or a master key. Errors: kIo when libsodium cannot
// initialise.
Result<std::array<uint8_t, 32>> new_secret_bytes();

}  // namespace batpak
