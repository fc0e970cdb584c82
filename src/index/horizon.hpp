// The history horizon: where a store's journal starts once its oldest segments were dropped
// (Store::drop_history), and each entity's last event before it, so that the chain of the
// events kept can still be checked link by link (docs/format.md, "The horizon file";
// docs/retention.md). Internal. Thread safety: pure functions and a value type.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/status.hpp"
#include "index/index.hpp"

namespace batpak::index {

inline constexpr char kHorizonFileName[] = "horizon";
inline constexpr uint32_t kHorizonMagic = 0x5A485042;  // Bytes "BPHZ".
inline constexpr uint16_t kHorizonVersion = 1;
// A horizon file larger than this is refused unread: 1 GiB holds about a million entities
// of the longest names, and tens of millions of short ones.
inline constexpr uint64_t kHorizonBytesMax = 1ull << 30;

struct Horizon {
  uint64_t first_segment_id = 1;  // Segments below it were dropped.
  uint64_t first_sequence = 1;    // Global sequences below it were dropped.
  uint64_t wall_ms_max = 0;       // The largest wall_ms of the dropped events.
  // Each entity with a visible event before the horizon: its last one. Ascending by name.
  std::vector<std::pair<std::string, EntityHead>> heads;

  // Whether any history was dropped (a store without a horizon file has none).
  bool dropped() const { return first_segment_id > 1; }
  friend bool operator==(const Horizon&, const Horizon&) = default;
};

// REQUIRES: `horizon.heads` ascending by name, without repeats.
std::vector<uint8_t> encode_horizon(const Horizon& horizon);
// kCorruption for a damaged file: a bad length, magic, checksum or reserved field, a first
// segment below 2, a first sequence of 0, an entity name that is not a valid coordinate
// component, names out of order or repeated, a clock of 0, a head later than the horizon's
// largest wall_ms. kUnsupported for a newer version.
Result<Horizon> decode_horizon(std::span<const uint8_t> bytes);

// `dir`'s horizon; the default Horizon (nothing dropped) when the file does not exist. A
// damaged file is an error whose Error::file is its path.
Result<Horizon> read_horizon(Fs& fs, const std::string& dir);
// A fingerprint of the horizon that an index checkpoint records, so that it is loaded only
// with the horizon it was taken with: XXH3-64 of its encoding, 0 when nothing was dropped.
uint64_t horizon_checksum(const Horizon& horizon);
// Replaces the horizon file durably (a new file, fsynced, renamed over the old one, the
// directory fsynced).
Status write_horizon(Fs& fs, const std::string& dir, const Horizon& horizon);

}  // namespace batpak::index
