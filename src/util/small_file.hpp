// The envelope shared by the store's small state files (cursor checkpoints, the fences
// file): magic u32 | version u16 | reserved u16 (0) | body | XXH3-64 u64 of every byte
// before it, little-endian (docs/format.md). Internal. Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "batpak/status.hpp"

namespace batpak::util {

struct SmallFileFormat {
  uint32_t magic = 0;
  uint16_t version = 0;   // The newest version this library writes and reads.
  std::string_view name;  // Starts error messages, e.g. "fence file".
};

inline constexpr size_t kSmallFileHeadBytes = 8;
inline constexpr size_t kSmallFileSealBytes = 8;

// Starts `out` (REQUIRES: empty) with the format's head; the caller appends the body.
void begin_small_file(std::vector<uint8_t>& out, const SmallFileFormat& format);
// Appends the checksum of everything in `out`.
void seal_small_file(std::vector<uint8_t>& out);

// The body of `bytes`. Checks, in this order: length for head and seal, magic, checksum, then
// version, so a newer version is kUnsupported whatever its body's layout. Anything else
// wrong is kCorruption. The body's own layout is the caller's to check.
Result<std::span<const uint8_t>> open_small_file(std::span<const uint8_t> bytes, const SmallFileFormat& format);

}  // namespace batpak::util
