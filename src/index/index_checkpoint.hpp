// The index checkpoint file: the whole in-memory index at a quiet point (written at close),
// so that open can load it instead of scanning every frame. It is an optimisation, never
// truth: docs/format.md specifies the bytes, docs/durability.md when it is used. Internal.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/fence.hpp"
#include "batpak/status.hpp"
#include "index/index.hpp"

namespace batpak::index {

inline constexpr char kCheckpointFileName[] = "index.checkpoint";

// What a checkpoint records of one segment it covers, so that open can tell that the file
// is still the one the checkpoint was taken from.
struct CoveredSegment {
  uint64_t segment_id = 0;
  uint64_t covered_end = 0;  // The checkpoint covers the segment's bytes before this offset.
  uint64_t checksum = 0;     // Of those bytes: XXH3-64 chained over 4 MiB chunks.
  static constexpr size_t kChunkBytes = 4u << 20;
};

struct CheckpointMeta {
  std::vector<CoveredSegment> segments;  // Ids 1..K, ascending, consecutive.
  uint64_t wall_ms_max = 0;              // Largest wall_ms of any covered event.
  std::vector<SequenceRange> hidden;     // Filled by decode: the hidden global sequences.
};

// Thread safety: stateless; the index passed in must not change during the call.
class CheckpointCodec {
 public:
  // The checkpoint bytes of `index` (hidden rows included, as ranges) and `meta.segments`.
  // REQUIRES: nothing is added to `index` meanwhile (the writer has stopped).
  static std::vector<uint8_t> encode(const Index& index, const CheckpointMeta& meta);
  // Rebuilds `index` (REQUIRES: empty) from checkpoint bytes. kCorruption for a damaged or
  // inconsistent file, kUnsupported for a newer version; `index` is left empty on error.
  static Result<CheckpointMeta> decode(std::span<const uint8_t> bytes, Index& index);
  // The same from a whole checkpoint file, read a window at a time (constant extra memory);
  // a failed read returns its error.
  static Result<CheckpointMeta> decode_file(File& file, Index& index);

 private:
  class Reader;
  static Result<CheckpointMeta> decode_into(Reader& r, Index& index);
  // Reads the entity table into `index` and each entity's declared event count into
  // `event_counts`, reserving that many sequences. REQUIRES: index.mu_ held exclusively.
  static Status read_entities(Reader& r, Index& index, uint32_t entity_count, uint64_t row_count,
                              std::vector<uint32_t>& event_counts);

};

}  // namespace batpak::index
