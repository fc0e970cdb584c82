// The index checkpoint file: the whole in-memory index at a quiet point (written at close),
// so that open can load it instead of scanning every frame. It is an optimisation, never
// truth: docs/format.md specifies the bytes, docs/durability.md when it is used. Internal.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/fence.hpp"
#include "batpak/status.hpp"
#include "index/horizon.hpp"
#include "index/index.hpp"

namespace batpak::index {

class ByteReader;

inline constexpr char kCheckpointFileName[] = "index.checkpoint";
// The file's first 8 bytes (docs/format.md, "Index checkpoint").
inline constexpr uint8_t kCheckpointMagic[8] = {'B', 'P', 'K', 'I', 'N', 'D', 'E', 'X'};

// What a checkpoint records of one segment it covers, so that open can tell that the file
// is still the one the checkpoint was taken from.
struct CoveredSegment {
  uint64_t segment_id = 0;
  uint64_t covered_end = 0;  // The checkpoint covers the segment's bytes before this offset.
  uint64_t checksum = 0;     // Of those bytes: segment::checksum_of_prefix.
};

struct CheckpointMeta {
  // Ids F..K, ascending, consecutive: F is the horizon's first segment (1 without one).
  std::vector<CoveredSegment> segments;
  uint64_t wall_ms_max = 0;              // Largest wall_ms of any covered event.
  uint64_t horizon_checksum = 0;         // horizon_checksum() of the horizon it starts at.
  std::vector<SequenceRange> hidden;     // Filled by decode: the hidden global sequences.
};

// What a checkpoint holds of an index at one point, taken under its lock in time linear in
// its entities, not its rows: global sequences first_sequence..last_sequence(), ending at a
// visible event (a hidden run at the end is left to the scan at open), and each entity as
// of that event.
struct IndexCut {
  struct EntityAtCut {
    std::string name;
    Hash32 head_hash;
    uint64_t events = 0;
  };
  uint64_t first_sequence = 1;  // The index's history horizon.
  uint64_t rows = 0;            // Global sequences covered; 0: nothing to checkpoint.
  Entry last;                   // The row of last_sequence(): the end of what is covered.
  uint64_t last_sequence() const { return first_sequence + rows - 1; }
  std::vector<EntityAtCut> entities;
  std::vector<std::string> scopes;
  std::vector<SequenceRange> hidden;  // Within first_sequence..last_sequence().
};

// Thread safety: stateless; cut() and encode() may run while the writer adds to the index.
class CheckpointCodec {
 public:
  static IndexCut cut(const Index& index);
  // The checkpoint bytes of `cut` of `index` and `meta.segments`, the rows read a piece at a
  // time under the index's lock. REQUIRES: `cut` was taken of `index`.
  static std::vector<uint8_t> encode(const Index& index, const IndexCut& cut, const CheckpointMeta& meta);
  // The same of a cut taken now (an index nothing else adds to, as in tests and fuzzing).
  static std::vector<uint8_t> encode(const Index& index, const CheckpointMeta& meta);
  // Rebuilds `index` (REQUIRES: empty) from checkpoint bytes taken of a journal that starts at
  // `horizon`. kCorruption for a damaged or inconsistent file, or one taken at another
  // horizon; kUnsupported for another version; `index` is left empty on error.
  static Result<CheckpointMeta> decode(std::span<const uint8_t> bytes, Index& index, const Horizon& horizon = {});
  // The same from a whole checkpoint file, read a window at a time (constant extra memory);
  // a failed read returns its error.
  static Result<CheckpointMeta> decode_file(File& file, Index& index, const Horizon& horizon = {});

 private:
  static Result<CheckpointMeta> decode_into(ByteReader& r, Index& index, const Horizon& horizon);
  // Reads the entity table into `index` and each entity's declared event count into
  // `event_counts`, reserving that many sequences. The first `horizon_entities` entities are
  // those the index started with, in order (they may have no event after the horizon).
  // REQUIRES: index.mu_ held exclusively.
  static Status read_entities(ByteReader& r, Index& index, uint32_t entity_count, size_t horizon_entities,
                              uint64_t row_count, std::vector<uint32_t>& event_counts);
  // Reads the hidden ranges (within first_sequence .. first_sequence + row_count - 1) into
  // `meta` and the index; returns how many sequences they hide. REQUIRES: index.mu_ held.
  static Result<uint64_t> read_hidden(ByteReader& r, Index& index, uint32_t range_count, uint64_t first_sequence,
                                      uint64_t row_count, CheckpointMeta& meta);

};

}  // namespace batpak::index
