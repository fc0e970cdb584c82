// Fast random bytes for ids. Internal.
#pragma once

#include <cstdint>
#include <span>

namespace batpak::util {

// Fills `out` (at most 64 bytes) from a per-thread pool refilled 4 KiB at a time with a
// ChaCha20 stream keyed by 32 fresh bytes of libsodium's randombytes_buf (one getrandom
// call), so an id costs no system call and no two refills share a key.
// REQUIRES: libsodium initialised (sodium_ready()).
void random_bytes(std::span<uint8_t> out);

}  // namespace batpak::util
