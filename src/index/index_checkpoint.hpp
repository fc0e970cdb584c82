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
  std::vector<CoveredSegment> segments;  // Ids 1..K, ascending, consecutive.
  uint64_t wall_ms_max = 0;              // Largest wall_ms of any covered event.
  std::vector<SequenceRange> hidden;     // Filled by decode: the hidden global sequences.
};

// What a checkpoint holds of an index at one point, taken under its lock in time linear in
// its entities, not its rows: global sequences 1..rows, ending at a visible event (a hidden
// run at the end is left to the scan at open), and each entity as of that event.
struct IndexCut {
  struct EntityAtCut {
    std::string name;
    Hash32 head_hash;
    uint64_t events = 0;
  };
  uint64_t rows = 0;  // 0: nothing to checkpoint.
  Entry last;         // The row of global sequence `rows`: the end of what is covered.
  std::vector<EntityAtCut> entities;
  std::vector<std::string> scopes;
  std::vector<SequenceRange> hidden;  // Within 1..rows.
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
  // Rebuilds `index` (REQUIRES: empty) from checkpoint bytes. kCorruption for a damaged or
  // inconsistent file, kUnsupported for a newer version; `index` is left empty on error.
  static Result<CheckpointMeta> decode(std::span<const uint8_t> bytes, Index& index);
  // The same from a whole checkpoint file, read a window at a time (constant extra memory);
  // a failed read returns its error.
  static Result<CheckpointMeta> decode_file(File& file, Index& index);

 private:
  static Result<CheckpointMeta> decode_into(ByteReader& r, Index& index);
  // Reads the entity table into `index` and each entity's declared event count into
  // `event_counts`, reserving that many sequences. REQUIRES: index.mu_ held exclusively.
  static Status read_entities(ByteReader& r, Index& index, uint32_t entity_count, uint64_t row_count,
                              std::vector<uint32_t>& event_counts);

};

}  // namespace batpak::index
