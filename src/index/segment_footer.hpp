// Segment footers: the index rows of one sealed segment, kept in a file beside it, so that
// open can load them instead of scanning its frames. Like the index checkpoint they are an
// optimisation, never truth: docs/format.md specifies the bytes, docs/durability.md when
// they are used. Internal.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/status.hpp"
#include "batpak/types.hpp"
#include "index/index.hpp"

namespace batpak::index {

// What a footer says of its segment. Every event in the segment is a visible row: a segment
// holding a hidden event, or events of a fence still open, gets no footer.
struct SegmentFooter {
  struct EntityPart {
    std::string name;
    Hash32 link_hash;  // The prev_hash of its first event here (zero when that is clock 1).
    Hash32 head_hash;  // The event hash of its last event here.
    uint32_t events = 0;
    // Derived by decode from the rows: its first event's clock and wall_ms here.
    uint32_t first_clock = 0;
    uint64_t first_wall_ms = 0;
  };
  struct Row {
    Entry entry;
    uint32_t entity = 0;  // Numbers into entities and scopes.
    uint32_t scope = 0;
  };
  uint64_t segment_id = 0;
  uint64_t segment_bytes = 0;     // The sealed file's size: the footer covers all of it.
  uint64_t segment_checksum = 0;  // segment::checksum_of_prefix of those bytes.
  uint64_t first_sequence = 0;    // Global sequence of rows[0]; the rows are consecutive.
  std::vector<EntityPart> entities;
  std::vector<std::string> scopes;
  std::vector<Row> rows;  // In global (and file) order.

  uint64_t wall_ms_max() const;
};

// Footers larger than this are not written (a segment that large is scanned at open).
inline constexpr uint64_t kSegmentFooterBytesMax = 256u << 20;

// The footer file of a segment: its file name with ".footer" appended.
std::string segment_footer_file_name(uint64_t segment_id);
// A footer file's first 8 bytes (docs/format.md, "Segment footers").
inline constexpr uint8_t kFooterMagic[8] = {'B', 'P', 'F', 'O', 'O', 'T', 'E', 'R'};

// The footer's bytes. REQUIRES: `footer` is one decode would accept.
std::vector<uint8_t> encode_segment_footer(const SegmentFooter& footer);
// Parses and checks footer bytes on their own: checksum, counts, rows that tile the segment
// from its header to `segment_bytes`, each entity's clocks consecutive and its wall_ms never
// decreasing, its row count as declared. kCorruption for anything else, kUnsupported for
// another version.
Result<SegmentFooter> decode_segment_footer(std::span<const uint8_t> bytes);
// The same from a footer file, read a window at a time, into `out` (its vectors keep their
// capacity, so reuse one across segments); a failed read returns its error.
Status decode_segment_footer_file(File& file, SegmentFooter& out);
// Adds the footer's rows to `index` as the global sequences index.size() + 1 onwards, their
// ids deferred (Index::add_deferring_id). REQUIRES: index.size() + 1 == first_sequence and
// each entity's chain continues the index's (the caller checked the links).
void add_footer_rows(Index& index, const SegmentFooter& footer);

}  // namespace batpak::index
