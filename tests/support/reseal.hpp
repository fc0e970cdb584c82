// Rewrites the XXH3-64 checksum that ends a small file (cursor checkpoints, the fences file,
// the manifest, segment footers), so that a test reaches the decoder's checks after it.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::testing {

// REQUIRES: bytes.size() >= 8.
inline void reseal(std::vector<uint8_t>& bytes) {
  const size_t at = bytes.size() - 8;
  util::store_le<uint64_t>(bytes.data() + at, util::checksum64(std::span<const uint8_t>(bytes).first(at)));
}

}  // namespace batpak::testing
