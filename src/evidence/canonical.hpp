// The canonical bytes shared by every evidence report, and their hash. Internal.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "batpak/types.hpp"
#include "util/hash.hpp"

namespace batpak::evidence_detail {

// A report body's JSON with sorted keys (nlohmann::json objects keep them sorted) and no
// whitespace. Invalid UTF-8 in a string is replaced by U+FFFD instead of throwing, so the
// encoding is total and exception-free.
inline std::string canonical_bytes(const nlohmann::json& body) {
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// BLAKE3 of canonical_bytes(body): a report's body_hash.
inline Hash32 canonical_hash(const nlohmann::json& body) {
  const std::string bytes = canonical_bytes(body);
  return util::blake3(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

}  // namespace batpak::evidence_detail
