// The durable watermark of a read-only open (kReadOnly, kSalvage, kReadSnapshot): which of
// the events it found are known to be durable. It cannot sync them itself, and a writer may
// still be waiting for the fdatasync of the last ones (or crashed before it).
#include <algorithm>

#include "format/record.hpp"
#include "store/store_impl.hpp"

namespace batpak {
namespace {

// The durable_floor of the frame at `row`: every byte of its segment before that offset was
// durable before the frame was written.
Result<uint64_t> durable_floor_of(const Store::Impl& s, const index::Located& row) {
  const index::Entry& e = row.entry;
  const segment::FrameRun run{e.segment_id, e.offset, e.frame_bytes};
  util::ReadBuffer frame;
  if (auto read = segment::read_runs(s.segments, *s.fs, {&run, 1}, frame); !read) return tl::unexpected(read.error());
  auto record_bytes = segment::frame_record(s.segments, e.segment_id, e.offset, frame);
  if (!record_bytes) return tl::unexpected(record_bytes.error());
  auto record = format::decode_record(*record_bytes);
  if (!record) return tl::unexpected(Error{ErrorCode::kCorruption, record.error().message, s.segments.path(e.segment_id), e.offset, {}});
  return record->context.durable_floor;
}

}  // namespace

Result<HlcPoint> Store::Impl::known_durable_point(HlcPoint last, const std::optional<segment::Manifest>& recorded) const {
  const std::vector<segment::SegmentSet::Snapshot> all = segments.snapshot();
  if (all.empty()) return last;
  // Every segment before the newest was synced when the writer sealed it, before it created
  // the next one: only the newest can end in frames not yet durable.
  const uint64_t newest = all.back().segment_id;
  const std::vector<index::Located> rows = index.segment_rows(newest).rows;  // Fixed: no writer here.
  if (rows.empty()) return last;
  auto floor = durable_floor_of(*this, rows.back());
  if (!floor) return tl::unexpected(floor.error());
  // A clean close recorded where the newest segment's durable data ended.
  const uint64_t clean_end = recorded && recorded->newest_segment_id == newest ? recorded->clean_end : 0;
  const uint64_t durable_end = std::max(*floor, clean_end);
  if (rows.back().entry.offset + rows.back().entry.frame_bytes <= durable_end) return last;
  // The rows lie in file order: the durable ones come first.
  const auto first_not_durable = std::partition_point(rows.begin(), rows.end(), [&](const index::Located& r) {
    return r.entry.offset + r.entry.frame_bytes <= durable_end;
  });
  if (first_not_durable != rows.begin()) {
    const index::Located& durable = *std::prev(first_not_durable);
    return HlcPoint{durable.entry.wall_ms, durable.global_sequence};
  }
  // None of the newest segment's events: every event before its first. HLC wall times do not
  // go back in commit order, so the first one's wall time is at least theirs.
  const index::Located& first = rows.front();
  const std::optional<index::Located> before = index.at(first.global_sequence - 1);
  return HlcPoint{before ? before->entry.wall_ms : first.entry.wall_ms, first.global_sequence - 1};
}

}  // namespace batpak
