// The 60-byte index row shared by the index checkpoint and segment footers (docs/format.md).
// Internal.
#pragma once

#include <cstdint>
#include <cstring>

#include "index/index.hpp"
#include "util/bytes.hpp"

namespace batpak::index {

inline constexpr size_t kRowBytes = 60;

// Appends a row: event_id (16), entity number u32, scope number u32, segment id u64, frame
// offset u64, wall_ms u64, frame bytes u32, clock u32, kind u16, zero u16.
inline void write_row(util::ByteWriter& w, const Entry& e, uint32_t entity, uint32_t scope) {
  w.bytes(e.event_id.bytes);
  w.le<uint32_t>(entity);
  w.le<uint32_t>(scope);
  w.le<uint64_t>(e.segment_id);
  w.le<uint64_t>(e.offset);
  w.le<uint64_t>(e.wall_ms);
  w.le<uint32_t>(e.frame_bytes);
  w.le<uint32_t>(e.clock);
  w.le<uint16_t>(e.kind.raw());
  w.le<uint16_t>(0);
}

// The inverse of write_row over kRowBytes at `at`; false when the zero field is not zero.
inline bool read_row(const uint8_t* at, Entry& e, uint32_t& entity, uint32_t& scope) {
  std::memcpy(e.event_id.bytes.data(), at, 16);
  entity = util::load_le<uint32_t>(at + 16);
  scope = util::load_le<uint32_t>(at + 20);
  e.segment_id = util::load_le<uint64_t>(at + 24);
  e.offset = util::load_le<uint64_t>(at + 32);
  e.wall_ms = util::load_le<uint64_t>(at + 40);
  e.frame_bytes = util::load_le<uint32_t>(at + 48);
  e.clock = util::load_le<uint32_t>(at + 52);
  e.kind = EventKind(util::load_le<uint16_t>(at + 56));
  return util::load_le<uint16_t>(at + 58) == 0;
}

}  // namespace batpak::index
