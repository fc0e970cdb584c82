// The stored form of a cache row in backends that address rows by a digest of the key:
// key_bytes u32 ‖ key ‖ row, so a row can be matched to its full key. Internal.
#pragma once

#include <algorithm>
#include <optional>
#include <span>
#include <vector>

#include "util/bytes.hpp"

namespace batpak::projection {

inline std::vector<uint8_t> envelope(std::span<const uint8_t> key, std::span<const uint8_t> row) {
  std::vector<uint8_t> out;
  util::ByteWriter w(out);
  w.le<uint32_t>(static_cast<uint32_t>(key.size()));
  w.bytes(key);
  w.bytes(row);
  return out;
}

// The key stored in an envelope, or nothing when the bytes are too short to hold one.
inline std::optional<std::span<const uint8_t>> envelope_key(std::span<const uint8_t> stored) {
  if (stored.size() < 4) return std::nullopt;
  const size_t key_bytes = util::load_le<uint32_t>(stored.data());
  if (stored.size() - 4 < key_bytes) return std::nullopt;
  return stored.subspan(4, key_bytes);
}

// The row of an envelope stored under `key`, or nothing when it belongs to another key or
// is damaged.
inline std::optional<std::vector<uint8_t>> envelope_row(std::span<const uint8_t> stored,
                                                        std::span<const uint8_t> key) {
  auto stored_key = envelope_key(stored);
  if (!stored_key || !std::equal(stored_key->begin(), stored_key->end(), key.begin(), key.end())) {
    return std::nullopt;
  }
  auto row = stored.subspan(4 + key.size());
  return std::vector<uint8_t>(row.begin(), row.end());
}

// True when the envelope's key starts with `prefix`.
inline bool envelope_has_prefix(std::span<const uint8_t> stored, std::span<const uint8_t> prefix) {
  auto stored_key = envelope_key(stored);
  return stored_key && stored_key->size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), stored_key->begin());
}

}  // namespace batpak::projection
