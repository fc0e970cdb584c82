// Fast random bytes for ids. Internal.
#pragma once

#include <cstdint>
#include <span>

namespace batpak::util {

// Fills `out` (at most 64 bytes) from a per-thread pool refilled from libsodium's
// randombytes_buf 4 KiB at a time, so an id costs no system call.
// REQUIRES: libsodium initialised (sodium_ready()).
void random_bytes(std::span<uint8_t> out);

}  // namespace batpak::util
