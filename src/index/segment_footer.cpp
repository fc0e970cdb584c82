#include "index/segment_footer.hpp"

#include <algorithm>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_set>

#include "format/format.hpp"
#include "index/byte_reader.hpp"
#include "index/row_codec.hpp"
#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::index {
namespace {

// docs/format.md, "Segment footers". All integers little-endian.
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kEntityBytesMin = 2 + 1 + 32 + 32 + 4;  // Name length, a name, two hashes, events.
constexpr size_t kChecksumBytes = 8;

Error corrupt(const std::string& why) { return Error{ErrorCode::kCorruption, "segment footer " + why, {}, 0, {}}; }

void write_name(util::ByteWriter& w, const std::string& name) {
  w.le<uint16_t>(static_cast<uint16_t>(name.size()));
  w.text(name);
}

Status read_entities(ByteReader& r, uint32_t count, uint64_t row_count, SegmentFooter& out) {
  std::unordered_set<std::string_view> seen;
  uint64_t events_total = 0;
  out.entities.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    SegmentFooter::EntityPart& part = out.entities.emplace_back();
    const std::string_view name = r.text(r.le<uint16_t>());
    r.copy(part.link_hash.bytes);
    r.copy(part.head_hash.bytes);
    part.events = r.le<uint32_t>();
    if (r.short_read()) return tl::unexpected(corrupt("is truncated"));
    part.name = name;  // Copied out of the reader's window; out.entities never reallocates.
    if (name.empty() || !seen.insert(part.name).second) return tl::unexpected(corrupt("has an empty or repeated entity"));
    if (part.events == 0) return tl::unexpected(corrupt("names an entity without events"));
    events_total += part.events;
    if (events_total > row_count) return tl::unexpected(corrupt("declares more entity events than rows"));
  }
  if (events_total != row_count) return tl::unexpected(corrupt("declares fewer entity events than rows"));
  return {};
}

Status read_scopes(ByteReader& r, uint32_t count, SegmentFooter& out) {
  std::unordered_set<std::string_view> seen;
  out.scopes.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const std::string_view name = r.text(r.le<uint16_t>());
    if (r.short_read()) return tl::unexpected(corrupt("is truncated"));
    const std::string& kept = out.scopes.emplace_back(name);  // out.scopes never reallocates.
    if (kept.empty() || !seen.insert(kept).second) return tl::unexpected(corrupt("has an empty or repeated scope"));
  }
  return {};
}

// Reads the rows and checks that they tile the segment and continue each entity's chain.
Status read_rows(ByteReader& r, uint32_t count, SegmentFooter& out) {
  std::vector<uint32_t> seen(out.entities.size(), 0);        // Rows of each entity so far.
  std::vector<uint64_t> last_wall_ms(out.entities.size(), 0);  // Its wall_ms so far.
  uint64_t next_offset = format::kSegmentHeaderBytes;
  out.rows.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* at = r.take(kRowBytes);
    if (at == nullptr) return tl::unexpected(corrupt("is shorter than its rows"));
    SegmentFooter::Row& row = out.rows.emplace_back();
    const Entry& e = row.entry;
    const bool zero_ok = read_row(at, row.entry, row.entity, row.scope);
    if (!zero_ok || row.entity >= out.entities.size() || row.scope >= out.scopes.size() ||
        e.segment_id != out.segment_id || e.offset != next_offset || e.frame_bytes == 0) {
      return tl::unexpected(corrupt("has a row that does not follow the one before (row " + std::to_string(i) + ")"));
    }
    next_offset += e.frame_bytes;
    SegmentFooter::EntityPart& part = out.entities[row.entity];
    uint32_t& n = seen[row.entity];
    if (n == 0) {
      part.first_clock = e.clock;
      part.first_wall_ms = e.wall_ms;
    }
    if (e.clock == 0 || e.clock != part.first_clock + n || n == part.events || e.wall_ms < last_wall_ms[row.entity]) {
      return tl::unexpected(corrupt("has an entity clock or wall_ms out of order (row " + std::to_string(i) + ")"));
    }
    last_wall_ms[row.entity] = e.wall_ms;
    ++n;
  }
  if (next_offset != out.segment_bytes) return tl::unexpected(corrupt("rows do not end where the segment ends"));
  for (const SegmentFooter::EntityPart& part : out.entities) {
    if (part.first_clock == 1 && !part.link_hash.is_zero()) {
      return tl::unexpected(corrupt("links an entity's first event to an earlier one"));
    }
  }
  return {};
}

}  // namespace

uint64_t SegmentFooter::wall_ms_max() const {
  uint64_t out = 0;
  for (const Row& row : rows) out = std::max(out, row.entry.wall_ms);
  return out;
}

std::string segment_footer_file_name(uint64_t segment_id) { return segment::segment_file_name(segment_id) + ".footer"; }

std::vector<uint8_t> encode_segment_footer(const SegmentFooter& footer) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderBytes + footer.rows.size() * kRowBytes + kChecksumBytes);
  util::ByteWriter w(out);
  w.bytes(kFooterMagic);
  w.le<uint32_t>(kVersion);
  w.le<uint32_t>(0);
  for (uint64_t v : {footer.segment_id, footer.segment_bytes, footer.segment_checksum, footer.first_sequence}) {
    w.le<uint64_t>(v);
  }
  for (size_t n : {footer.rows.size(), footer.entities.size(), footer.scopes.size(), size_t{0}}) {
    w.le<uint32_t>(static_cast<uint32_t>(n));
  }
  for (const SegmentFooter::EntityPart& part : footer.entities) {
    write_name(w, part.name);
    w.bytes(part.link_hash.bytes);
    w.bytes(part.head_hash.bytes);
    w.le<uint32_t>(part.events);
  }
  for (const std::string& scope : footer.scopes) write_name(w, scope);
  for (const SegmentFooter::Row& row : footer.rows) write_row(w, row.entry, row.entity, row.scope);
  w.le<uint64_t>(util::checksum64(out));
  return out;
}

namespace {

// Everything but the trailing checksum, into `out` (whose vectors keep their capacity).
Status decode_body(ByteReader& r, SegmentFooter& out) {
  out.entities.clear();
  out.scopes.clear();
  out.rows.clear();
  if (r.text(sizeof kFooterMagic) != std::string_view(reinterpret_cast<const char*>(kFooterMagic), sizeof kFooterMagic)) {
    return tl::unexpected(corrupt("has a bad magic"));
  }
  const auto version = r.le<uint32_t>();
  if (version != kVersion) {
    return make_error(ErrorCode::kUnsupported, "segment footer version " + std::to_string(version) + " is not this library's " +
                                                   std::to_string(kVersion));
  }
  const auto reserved = r.le<uint32_t>();
  out.segment_id = r.le<uint64_t>();
  out.segment_bytes = r.le<uint64_t>();
  out.segment_checksum = r.le<uint64_t>();
  out.first_sequence = r.le<uint64_t>();
  const auto row_count = r.le<uint32_t>();
  const auto entity_count = r.le<uint32_t>();
  const auto scope_count = r.le<uint32_t>();
  const auto reserved_too = r.le<uint32_t>();
  if (reserved != 0 || reserved_too != 0) return tl::unexpected(corrupt("has a non-zero reserved field"));
  if (out.segment_id == 0 || out.first_sequence == 0 || row_count == 0) {
    return tl::unexpected(corrupt("has a zero segment id, first sequence or row count"));
  }
  // Every count is bounded by the bytes left before anything is allocated for it.
  if (uint64_t{row_count} * kRowBytes > r.remaining() || uint64_t{entity_count} * kEntityBytesMin > r.remaining() ||
      uint64_t{scope_count} * 3 > r.remaining()) {
    return tl::unexpected(corrupt("has counts larger than the file"));
  }
  if (auto st = read_entities(r, entity_count, row_count, out); !st) return tl::unexpected(st.error());
  if (auto st = read_scopes(r, scope_count, out); !st) return tl::unexpected(st.error());
  if (r.remaining() != uint64_t{row_count} * kRowBytes) return tl::unexpected(corrupt("has a bad length"));
  if (auto st = read_rows(r, row_count, out); !st) return tl::unexpected(st.error());
  return {};
}


}  // namespace

Result<SegmentFooter> decode_segment_footer(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return tl::unexpected(corrupt("is truncated"));
  const size_t checksum_at = bytes.size() - kChecksumBytes;
  if (util::load_le<uint64_t>(bytes.data() + checksum_at) != util::checksum64(bytes.first(checksum_at))) {
    return tl::unexpected(corrupt("checksum mismatch"));
  }
  ByteReader r(bytes.first(checksum_at));
  SegmentFooter out;
  if (auto st = decode_body(r, out); !st) return tl::unexpected(st.error());
  return out;
}

Status decode_segment_footer_file(File& file, SegmentFooter& out) {
  auto size = file.size();
  if (!size) return tl::unexpected(size.error());
  if (*size < kHeaderBytes + kChecksumBytes) return tl::unexpected(corrupt("is truncated"));
  if (*size > kSegmentFooterBytesMax) return tl::unexpected(corrupt("is larger than any footer written"));
  auto expected = read_trailing_checksum(file, *size);
  if (!expected) return tl::unexpected(expected.error());
  ByteReader r(file, *size - kChecksumBytes);
  Status decoded = decode_body(r, out);
  // The checksum covers every byte, so it is known only at the end; until then the checks
  // keep a damaged file from allocating more than its size justifies.
  if (r.read_error()) return tl::unexpected(*r.read_error());
  if (decoded && r.checksum() != *expected) {
    return tl::unexpected(corrupt("checksum mismatch"));
  }
  return decoded;
}

void add_footer_rows(Index& index, const SegmentFooter& footer) {
  std::unique_lock lock(index.mu_);
  // Each footer entity and scope is looked up once; rows then refer to the index's numbers.
  std::vector<uint32_t> entity_ids;
  entity_ids.reserve(footer.entities.size());
  for (const SegmentFooter::EntityPart& part : footer.entities) {
    std::optional<uint32_t> id = index.entity_id(part.name);
    if (!id) id = index.add_entity(part.name);
    Index::EntityState& state = index.entities_[*id];
    const size_t need = state.sequences.size() + part.events;
    if (state.sequences.capacity() < need) {  // Geometric, should footers keep adding to it.
      state.sequences.reserve(std::max(need, 2 * state.sequences.capacity()));
      state.kinds.reserve(std::max(need, 2 * state.kinds.capacity()));
    }
    state.head_hash = part.head_hash;
    entity_ids.push_back(*id);
  }
  std::vector<uint32_t> scope_ids;
  scope_ids.reserve(footer.scopes.size());
  for (const std::string& scope : footer.scopes) scope_ids.push_back(index.intern_scope(scope));
  index.rows_.reserve(index.rows_.size() + footer.rows.size());
  for (const SegmentFooter::Row& row : footer.rows) {
    const uint64_t global_sequence = index.end_sequence();
    const uint32_t entity = entity_ids[row.entity];
    index.rows_.push_back(Index::Row{row.entry, entity, scope_ids[row.scope]});
    Index::EntityState& state = index.entities_[entity];
    state.sequences.push_back(global_sequence);
    state.kinds.push_back(row.entry.kind);
  }
}

}  // namespace batpak::index
