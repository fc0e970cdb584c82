// Segment footers: written for each sealed segment from the index and the segment's bytes,
// validated and loaded at open (docs/durability.md, "Segment footers"). Any doubt scans the
// segment instead; the reason goes in the open report.
#include <unordered_map>

#include "format/format.hpp"
#include "index/row_codec.hpp"
#include "index/segment_footer.hpp"
#include "segment/segment_files.hpp"
#include "store/store_impl.hpp"
#include "util/durable_file.hpp"
#include "util/hash.hpp"

namespace batpak {
namespace {

std::string footer_path(const Store::Impl& s, uint64_t segment_id) {
  return segment::join_path(s.dir, index::segment_footer_file_name(segment_id));
}

bool fence_hides_any(const writer::FenceLog& fences, SequenceRange range) {
  if (auto open = fences.open_fence_start(); open && *open < range.end) return true;
  for (const SequenceRange& r : fences.cancelled()) {
    if (r.start < range.end && range.start < r.end) return true;
  }
  return false;
}

// Why the footer does not continue the index as it is now, or nothing when it does.
std::optional<std::string> mismatch(const Store::Impl& s, const index::SegmentFooter& footer, uint64_t segment_bytes) {
  if (footer.segment_bytes != segment_bytes) return "the segment's size differs from its footer's";
  if (footer.first_sequence != s.index.size() + 1) return "its footer does not start where the journal so far ends";
  if (fence_hides_any(*s.fence_log, {footer.first_sequence, footer.first_sequence + footer.rows.size()})) {
    return "the fence file hides some of its events";
  }
  for (const index::SegmentFooter::EntityPart& part : footer.entities) {
    const std::optional<index::EntityHead> head = s.index.head(part.name);
    const bool links = head ? head->clock + 1 == part.first_clock && head->event_hash == part.link_hash &&
                                  head->wall_ms <= part.first_wall_ms
                            : part.first_clock == 1;
    if (!links) return "its footer does not continue the chain of entity " + part.name;
  }
  return std::nullopt;
}

// Groups consecutive rows into reads of about kRunBytes.
constexpr uint64_t kRunBytes = 1u << 20;

// Reads the frames of `rows` (which tile the segment after its header), checks each one
// holds its row's event, feeds every byte of the segment to `checksum`, and records each
// entity's link and head hashes in `footer` (whose entities are numbered as `entity_of`).
Status read_segment_for_footer(const segment::SegmentSet& segments, File& file, const std::vector<index::Located>& rows,
                               const std::vector<uint32_t>& entity_of, index::SegmentFooter& footer,
                               util::ChunkedChecksum64& checksum) {
  std::vector<uint8_t> buffer(format::kSegmentHeaderBytes);
  auto read = [&](uint64_t offset, size_t bytes) -> Status {
    buffer.resize(bytes);
    auto got = file.pread(offset, buffer);
    if (!got) return tl::unexpected(got.error());
    if (*got != bytes) return make_error(ErrorCode::kCorruption, "a sealed segment is shorter than its index rows");
    checksum.update(buffer);
    return {};
  };
  if (auto st = read(0, format::kSegmentHeaderBytes); !st) return st;
  std::vector<bool> seen(footer.entities.size(), false);
  for (size_t first = 0; first < rows.size();) {
    size_t end = first;
    uint64_t bytes = 0;
    while (end < rows.size() && (end == first || bytes + rows[end].entry.frame_bytes <= kRunBytes)) {
      bytes += rows[end++].entry.frame_bytes;
    }
    if (auto st = read(rows[first].entry.offset, static_cast<size_t>(bytes)); !st) return st;
    size_t at = 0;
    for (size_t i = first; i < end; ++i) {
      const index::Entry& e = rows[i].entry;
      const std::span<const uint8_t> frame(buffer.data() + at, e.frame_bytes);
      at += e.frame_bytes;
      auto record_bytes = segment::frame_record(segments, e.segment_id, e.offset, frame);
      if (!record_bytes) return tl::unexpected(record_bytes.error());
      auto record = format::decode_record(*record_bytes);
      if (!record) return tl::unexpected(record.error());
      if (record->header.event_id != e.event_id || record->entity != rows[i].entity) {
        return make_error(ErrorCode::kCorruption, "a frame of a sealed segment does not hold its index row's event");
      }
      index::SegmentFooter::EntityPart& part = footer.entities[entity_of[i]];
      if (!seen[entity_of[i]]) part.link_hash = record->header.prev_hash;
      seen[entity_of[i]] = true;
      part.head_hash = record->header.event_hash;
    }
    first = end;
  }
  return {};
}

// The footer of sealed segment `segment_id`, or nothing when it gets none: it holds a hidden
// event (or one of a fence still open), or its rows would make too large a footer.
Result<std::optional<index::SegmentFooter>> build_footer(const Store::Impl& s, uint64_t segment_id) {
  auto file = s.segments.file(segment_id);
  if (!file) return tl::unexpected(file.error());
  auto size = (*file)->size();
  if (!size) return tl::unexpected(size.error());
  const index::Index::SegmentRows rows = s.index.segment_rows(segment_id);
  if (rows.rows.empty() || rows.hidden_among || rows.rows.front().entry.offset != format::kSegmentHeaderBytes ||
      rows.rows.back().entry.offset + rows.rows.back().entry.frame_bytes != *size ||
      rows.rows.size() * index::kRowBytes > index::kSegmentFooterBytesMax) {
    return std::nullopt;
  }
  index::SegmentFooter footer;
  footer.segment_id = segment_id;
  footer.segment_bytes = *size;
  footer.first_sequence = rows.rows.front().global_sequence;
  std::unordered_map<std::string_view, uint32_t> entity_numbers;
  std::unordered_map<std::string_view, uint32_t> scope_numbers;
  std::vector<uint32_t> entity_of;  // entity_of[i]: the footer's number for rows[i]'s entity.
  entity_of.reserve(rows.rows.size());
  footer.rows.reserve(rows.rows.size());
  for (const index::Located& row : rows.rows) {
    auto [entity, new_entity] = entity_numbers.emplace(row.entity, static_cast<uint32_t>(footer.entities.size()));
    if (new_entity) footer.entities.push_back({std::string(row.entity), {}, {}, 0, 0, 0});
    auto [scope, new_scope] = scope_numbers.emplace(row.scope, static_cast<uint32_t>(footer.scopes.size()));
    if (new_scope) footer.scopes.emplace_back(row.scope);
    ++footer.entities[entity->second].events;
    entity_of.push_back(entity->second);
    footer.rows.push_back({row.entry, entity->second, scope->second});
  }
  util::ChunkedChecksum64 checksum(segment::kChecksumChunkBytes);
  if (auto st = read_segment_for_footer(s.segments, **file, rows.rows, entity_of, footer, checksum); !st) {
    return tl::unexpected(st.error());
  }
  footer.segment_checksum = checksum.digest();
  return footer;
}

}  // namespace

SegmentFooterLoad load_segment_footer(Store::Impl& s, uint64_t segment_id, File& file, uint64_t segment_bytes,
                                      FooterLoadBuffers& buffers) {
  const std::string name = "segment " + std::to_string(segment_id) + ": ";
  const std::string path = footer_path(s, segment_id);
  auto exists = s.fs->exists(path);
  if (!exists) return {false, 0, name + exists.error().message};
  if (!*exists) return {false, 0, name + "no footer"};
  auto footer_file = s.fs->open(path, Fs::OpenMode::kRead);
  if (!footer_file) return {false, 0, name + footer_file.error().message};
  index::SegmentFooter& footer = buffers.footer;
  if (auto st = index::decode_segment_footer_file(**footer_file, footer); !st) return {false, 0, name + st.error().message};
  if (footer.segment_id != segment_id) return {false, 0, name + "its footer is another segment's"};
  if (auto why = mismatch(s, footer, segment_bytes)) return {false, 0, name + *why};
  // Every byte is read and checksummed, so open still notices any damage to the segment.
  auto checksum = segment::checksum_of_prefix(file, segment_bytes, buffers.bytes);
  if (!checksum) return {false, 0, name + checksum.error().message};
  if (*checksum != footer.segment_checksum) return {false, 0, name + "the segment differs from the one its footer describes"};
  index::add_footer_rows(s.index, footer);
  return {true, footer.wall_ms_max(), {}};
}

Result<bool> write_segment_footer(Store::Impl& s, uint64_t segment_id) {
  auto footer = build_footer(s, segment_id);
  if (!footer) return tl::unexpected(footer.error());
  if (!*footer) return false;
  const std::vector<uint8_t> bytes = index::encode_segment_footer(**footer);
  if (bytes.size() > index::kSegmentFooterBytesMax) return false;  // Open would not read it.
  if (auto st = util::replace_file_durably(*s.fs, s.dir, footer_path(s, segment_id), bytes); !st) {
    return tl::unexpected(st.error());
  }
  s.background.footers_written.fetch_add(1, std::memory_order_relaxed);
  return true;
}

Result<bool> segment_footer_exists(const Store::Impl& s, uint64_t segment_id) {
  return s.fs->exists(footer_path(s, segment_id));
}

bool checkpoint_covers_segment(const Store::Impl& s, uint64_t segment_id) {
  // Segments before the checkpoint's last one are covered to their (sealed) end.
  return !s.checkpoint_segments.empty() && segment_id < s.checkpoint_segments.back().segment_id;
}

void remove_segment_footers(Store::Impl& s, uint64_t first_id, uint64_t end_id) {
  for (uint64_t id = first_id; id < end_id; ++id) (void)s.fs->remove(footer_path(s, id));
}

}  // namespace batpak
