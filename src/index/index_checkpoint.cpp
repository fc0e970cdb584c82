#include "index/index_checkpoint.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>

#include "index/byte_reader.hpp"
#include "index/row_codec.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "util/page_array.hpp"

namespace batpak::index {
namespace {

// docs/format.md, "Index checkpoint". All integers little-endian.
// 1 had 92-byte rows with every event hash; 2 always started at global sequence 1.
constexpr uint32_t kVersion = 3;
constexpr size_t kHeaderBytes = 64;
constexpr size_t kSegmentBytes = 24;
constexpr size_t kRangeBytes = 16;
constexpr size_t kEntityBytesMin = 2 + 1 + 32 + 4;  // Name length, a name, head hash, event count.
constexpr size_t kChecksumBytes = 8;

Error corrupt(const std::string& why) { return Error{ErrorCode::kCorruption, "index checkpoint " + why, {}, 0, {}}; }

}  // namespace

namespace {

void write_name(util::ByteWriter& w, const std::string& name) {
  w.le<uint16_t>(static_cast<uint16_t>(name.size()));
  w.text(name);
}


}  // namespace

IndexCut CheckpointCodec::cut(const Index& index) {
  std::shared_lock lock(index.mu_);
  IndexCut out;
  out.first_sequence = index.first_sequence_;
  out.rows = index.rows_.size();
  while (out.rows > 0 && index.rows_[out.rows - 1].entity == Index::kHiddenEntity) --out.rows;
  if (out.rows == 0) return out;
  out.last = index.rows_[out.rows - 1].entry;
  // Rows after the cut are hidden ones, so every entity and scope is one of the cut's, and
  // each entity's events and head are as of the cut.
  out.entities.reserve(index.entities_.size());
  for (const Index::EntityState& state : index.entities_) {
    out.entities.push_back(IndexCut::EntityAtCut{state.name, state.head_hash, state.sequences.size()});
  }
  out.scopes.assign(index.scopes_.begin(), index.scopes_.end());
  for (const SequenceRange& range : index.hidden_ranges_) {
    if (range.start > out.last_sequence()) break;
    out.hidden.push_back(range);
  }
  return out;
}

std::vector<uint8_t> CheckpointCodec::encode(const Index& index, const CheckpointMeta& meta) {
  return encode(index, cut(index), meta);
}

std::vector<uint8_t> CheckpointCodec::encode(const Index& index, const IndexCut& cut, const CheckpointMeta& meta) {
  std::vector<uint8_t> out;
  out.reserve(kHeaderBytes + cut.rows * kRowBytes);
  util::ByteWriter w(out);
  w.bytes(kCheckpointMagic);
  w.le<uint32_t>(kVersion);
  w.le<uint32_t>(0);
  w.le<uint64_t>(cut.rows);
  w.le<uint32_t>(static_cast<uint32_t>(meta.segments.size()));
  w.le<uint32_t>(static_cast<uint32_t>(cut.entities.size()));
  w.le<uint32_t>(static_cast<uint32_t>(cut.scopes.size()));
  w.le<uint32_t>(static_cast<uint32_t>(cut.hidden.size()));
  w.le<uint64_t>(meta.wall_ms_max);
  w.le<uint64_t>(cut.first_sequence);
  w.le<uint64_t>(meta.horizon_checksum);
  for (const CoveredSegment& s : meta.segments) {
    for (uint64_t v : {s.segment_id, s.covered_end, s.checksum}) {
      w.le<uint64_t>(v);
    }
  }
  for (const IndexCut::EntityAtCut& entity : cut.entities) {
    write_name(w, entity.name);
    w.bytes(entity.head_hash.bytes);
    w.le<uint32_t>(static_cast<uint32_t>(entity.events));
  }
  for (const std::string& scope : cut.scopes) write_name(w, scope);
  for (const SequenceRange& r : cut.hidden) {
    w.le<uint64_t>(r.start);
    w.le<uint64_t>(r.end);
  }
  // The rows up to the cut never change, but the writer may be adding after them: the lock
  // is taken a piece at a time, so it waits at most for one piece.
  constexpr uint64_t kRowsPerLock = 65536;
  for (uint64_t first = 0; first < cut.rows; first += kRowsPerLock) {
    std::shared_lock lock(index.mu_);
    for (uint64_t i = first; i < std::min(cut.rows, first + kRowsPerLock); ++i) {
      const Index::Row& row = index.rows_[i];
      if (row.entity != Index::kHiddenEntity) write_row(w, row.entry, row.entity, row.scope);
    }
  }
  w.le<uint64_t>(util::checksum64(out));
  return out;
}

Result<CheckpointMeta> CheckpointCodec::decode(std::span<const uint8_t> bytes, Index& index, const Horizon& horizon) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return tl::unexpected(corrupt("is truncated"));
  const size_t checksum_at = bytes.size() - kChecksumBytes;
  if (util::load_le<uint64_t>(bytes.data() + checksum_at) != util::checksum64(bytes.first(checksum_at))) {
    return tl::unexpected(corrupt("checksum mismatch"));
  }
  ByteReader r(bytes.first(checksum_at));
  auto meta = decode_into(r, index, horizon);
  if (!meta) index.clear();
  return meta;
}

Result<CheckpointMeta> CheckpointCodec::decode_file(File& file, Index& index, const Horizon& horizon) {
  auto size = file.size();
  if (!size) return tl::unexpected(size.error());
  if (*size < kHeaderBytes + kChecksumBytes) return tl::unexpected(corrupt("is truncated"));
  auto expected = read_trailing_checksum(file, *size);
  if (!expected) return tl::unexpected(expected.error());
  ByteReader r(file, *size - kChecksumBytes);
  auto meta = decode_into(r, index, horizon);
  // The checksum covers every byte, so it is known only at the end; until then the checks
  // above keep a damaged file from allocating more than its size justifies.
  if (r.read_error()) {
    meta = tl::unexpected(*r.read_error());
  } else if (meta && r.checksum() != *expected) {
    meta = tl::unexpected(corrupt("checksum mismatch"));
  }
  if (!meta) index.clear();
  return meta;
}

Status CheckpointCodec::read_entities(ByteReader& r, Index& index, uint32_t entity_count, size_t horizon_entities,
                                      uint64_t row_count, std::vector<uint32_t>& event_counts) {
  if (entity_count < horizon_entities) return tl::unexpected(corrupt("lacks entities of the history horizon"));
  uint64_t events_total = 0;
  event_counts.reserve(entity_count);
  for (uint32_t i = 0; i < entity_count; ++i) {
    const std::string_view name = r.text(r.le<uint16_t>());
    if (name.empty() && !r.short_read()) return tl::unexpected(corrupt("has an empty entity name"));
    const bool from_horizon = i < horizon_entities;
    if (from_horizon ? index.entities_[i].name != name : !index.add_entity(name)) {
      return tl::unexpected(corrupt(from_horizon ? "differs from the history horizon's entities" : "repeats an entity"));
    }
    Index::EntityState& state = index.entities_[i];
    r.copy(state.head_hash.bytes);
    const auto events = r.le<uint32_t>();
    events_total += events;
    if (r.short_read()) return tl::unexpected(corrupt("is truncated"));
    if (events == 0 && !from_horizon) return tl::unexpected(corrupt("names an entity without events"));
    // Bounded by the rows, and so by the file's size, before anything is reserved for them.
    if (events_total > row_count) return tl::unexpected(corrupt("declares more entity events than rows"));
    state.sequences.reserve(events);
    state.kinds.reserve(events);
    event_counts.push_back(events);
  }
  return {};
}

Result<uint64_t> CheckpointCodec::read_hidden(ByteReader& r, Index& index, uint32_t range_count,
                                              uint64_t first_sequence, uint64_t row_count, CheckpointMeta& meta) {
  const uint64_t end = first_sequence + row_count;
  uint64_t hidden_total = 0;
  for (uint32_t i = 0; i < range_count; ++i) {
    const SequenceRange range{r.le<uint64_t>(), r.le<uint64_t>()};
    const uint64_t previous_end = meta.hidden.empty() ? first_sequence : meta.hidden.back().end + 1;
    if (range.start < previous_end || range.end <= range.start || range.end > end) {
      return tl::unexpected(corrupt("has an empty, unsorted or out-of-range hidden range"));
    }
    meta.hidden.push_back(range);
    hidden_total += range.end - range.start;
  }
  if (!meta.hidden.empty() && meta.hidden.back().end == end) {
    return tl::unexpected(corrupt("ends with a hidden row"));  // A cut ends at a visible one.
  }
  index.hidden_ranges_ = meta.hidden;
  return hidden_total;
}

Result<CheckpointMeta> CheckpointCodec::decode_into(ByteReader& r, Index& index, const Horizon& horizon) {
  if (r.text(sizeof kCheckpointMagic) !=
      std::string_view(reinterpret_cast<const char*>(kCheckpointMagic), sizeof kCheckpointMagic)) {
    return tl::unexpected(corrupt("has a bad magic"));
  }
  const auto version = r.le<uint32_t>();
  if (version != kVersion && version != 0) {
    return make_error(ErrorCode::kUnsupported, "index checkpoint version " + std::to_string(version) + " is " +
                                                   (version > kVersion ? "newer" : "older") + " than this library's " +
                                                   std::to_string(kVersion));
  }
  if (version == 0 || r.le<uint32_t>() != 0) return tl::unexpected(corrupt("has a bad version or reserved field"));
  const auto row_count = r.le<uint64_t>();
  const auto segment_count = r.le<uint32_t>();
  const auto entity_count = r.le<uint32_t>();
  const auto scope_count = r.le<uint32_t>();
  const auto range_count = r.le<uint32_t>();
  CheckpointMeta meta;
  meta.wall_ms_max = r.le<uint64_t>();
  const auto first_sequence = r.le<uint64_t>();
  meta.horizon_checksum = r.le<uint64_t>();
  if (first_sequence != horizon.first_sequence || meta.horizon_checksum != horizon_checksum(horizon)) {
    return tl::unexpected(corrupt("was taken at another history horizon"));
  }
  // Every count is bounded by the bytes left before anything is allocated for it.
  if (uint64_t{segment_count} * kSegmentBytes > r.remaining() ||
      uint64_t{entity_count} * kEntityBytesMin > r.remaining() ||
      uint64_t{scope_count} * 2 > r.remaining() || uint64_t{range_count} * kRangeBytes > r.remaining() ||
      row_count > r.remaining()) {
    return tl::unexpected(corrupt("has counts larger than the file"));
  }
  for (uint32_t i = 0; i < segment_count; ++i) {
    CoveredSegment s{r.le<uint64_t>(), r.le<uint64_t>(), r.le<uint64_t>()};
    if (s.segment_id != horizon.first_segment_id + i) return tl::unexpected(corrupt("lists segments out of order"));
    meta.segments.push_back(s);
  }
  std::unique_lock lock(index.mu_);
  index.start_after_horizon_locked(horizon.first_sequence, horizon.heads);
  std::vector<uint32_t> event_counts;  // event_counts[i]: the events entity i declares.
  if (auto st = read_entities(r, index, entity_count, horizon.heads.size(), row_count, event_counts); !st) {
    return tl::unexpected(st.error());
  }
  for (uint32_t i = 0; i < scope_count; ++i) {
    index.scopes_.emplace_back(r.text(r.le<uint16_t>()));
    if (!index.scope_ids_.emplace(index.scopes_.back(), i).second) return tl::unexpected(corrupt("repeats a scope"));
  }
  auto hidden_total = read_hidden(r, index, range_count, first_sequence, row_count, meta);
  if (!hidden_total) return tl::unexpected(hidden_total.error());
  if (r.short_read() || r.remaining() != (row_count - *hidden_total) * kRowBytes) {
    return tl::unexpected(corrupt("has a bad length"));
  }
  index.rows_.reserve(row_count);
  auto next_hidden = meta.hidden.begin();
  const uint64_t first_segment = horizon.first_segment_id;
  for (uint64_t seq = first_sequence; seq < first_sequence + row_count; ++seq) {
    if (next_hidden != meta.hidden.end() && seq >= next_hidden->start) {
      index.rows_.push_back(Index::Row{Entry{}, Index::kHiddenEntity, 0});
      ++index.hidden_count_;
      if (seq + 1 == next_hidden->end) ++next_hidden;
      continue;
    }
    const uint8_t* at = r.take(kRowBytes);
    if (at == nullptr) return tl::unexpected(corrupt("is shorter than its rows"));
    Index::Row row;
    const Entry& e = row.entry;
    const bool reserved_zero = read_row(at, row.entry, row.entity, row.scope);
    if (!reserved_zero || row.entity >= entity_count || row.scope >= scope_count || e.segment_id < first_segment ||
        e.segment_id - first_segment >= segment_count ||
        e.offset > meta.segments[e.segment_id - first_segment].covered_end ||
        e.frame_bytes > meta.segments[e.segment_id - first_segment].covered_end - e.offset) {
      return tl::unexpected(corrupt("has a row that points outside it (global sequence " + std::to_string(seq) + ")"));
    }
    Index::EntityState& state = index.entities_[row.entity];
    if (e.clock != state.generation() + 1) {
      return tl::unexpected(corrupt("has an entity clock out of order (global sequence " + std::to_string(seq) + ")"));
    }
    state.sequences.push_back(seq);
    state.kinds.push_back(e.kind);
    index.rows_.push_back(row);
  }
  for (uint32_t i = 0; i < entity_count; ++i) {
    if (index.entities_[i].sequences.size() != event_counts[i]) {
      return tl::unexpected(corrupt("has an entity with more or fewer events than it declares"));
    }
  }
  if (!index.index_ids_locked()) return tl::unexpected(corrupt("repeats an event id"));
  return meta;
}

}  // namespace batpak::index
