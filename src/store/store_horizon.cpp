// Dropped history: the horizon at open, and Store::drop_history (docs/retention.md).
#include <algorithm>

#include "delivery/checkpoint.hpp"
#include "index/horizon.hpp"
#include "segment/scan.hpp"
#include "segment/segment_files.hpp"
#include "store/store_impl.hpp"

namespace batpak {
namespace {

// Removes `path` if it is there; whether it was.
Result<bool> remove_if_present(Fs& fs, const std::string& path) {
  auto exists = fs.exists(path);
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return false;
  if (auto st = fs.remove(path); !st) return tl::unexpected(st.error());
  return true;
}

// Removes segments `ids` (all below a durable horizon; none: does nothing) and what
// describes them: first the index checkpoint, which covers them (while any of them is left,
// no checkpoint was written since the horizon), then each segment once its footer is gone,
// so that no footer outlives its segment; then makes the removals durable (and with them a
// horizon renamed into place before a failed or interrupted directory fsync).
Status remove_dropped(Store::Impl& s, std::span<const uint64_t> ids) {
  if (ids.empty()) return {};
  auto checkpoint = remove_if_present(*s.fs, segment::join_path(s.dir, index::kCheckpointFileName));
  if (!checkpoint) return tl::unexpected(checkpoint.error());
  for (uint64_t id : ids) {
    auto footer = remove_if_present(*s.fs, segment::join_path(s.dir, index::segment_footer_file_name(id)));
    if (!footer) return tl::unexpected(footer.error());
    if (auto st = s.fs->remove(s.segments.path(id)); !st) return st;
  }
  return s.fs->sync_dir(s.dir);
}

}  // namespace

Result<std::vector<uint64_t>> settle_horizon(Store::Impl& s, std::vector<uint64_t> ids) {
  auto horizon = index::read_horizon(*s.fs, s.dir);
  if (!horizon) return tl::unexpected(horizon.error());
  s.horizon = std::move(*horizon);
  const auto kept = std::lower_bound(ids.begin(), ids.end(), s.horizon.first_segment_id);
  s.segments_below_horizon.assign(ids.begin(), kept);
  ids.erase(ids.begin(), kept);
  return ids;
}

Status finish_interrupted_drop(Store::Impl& s) {
  if (s.options.access != AccessMode::kReadWrite) return {};
  const std::vector<uint64_t> below = std::move(s.segments_below_horizon);
  s.segments_below_horizon.clear();
  return remove_dropped(s, below);
}

namespace {

// The segment of the first visible event, in commit order, whose wall_ms is at or above
// `before_wall_ms`, looked for in segments below `below_segment_id` (else that id). Reads
// the index in pages from the horizon.
uint64_t first_segment_at_wall_ms(const Store::Impl& s, uint64_t before_wall_ms, uint64_t below_segment_id) {
  constexpr size_t kPageRows = 4096;
  uint64_t after = s.horizon.first_sequence - 1;
  for (;;) {
    const std::vector<index::Located> page = s.index.select(Region::all(), after, kPageRows);
    for (const index::Located& row : page) {
      if (row.entry.segment_id >= below_segment_id) return below_segment_id;
      if (row.entry.wall_ms >= before_wall_ms) return row.entry.segment_id;
    }
    if (page.size() < kPageRows) return below_segment_id;
    after = page.back().global_sequence;
  }
}

// The first segment that must be kept: the one holding the first visible event at or above
// `before_sequence`, or at or above `before_wall_ms` (global sequences ascend with segment
// ids, so every later segment is kept too); the newest segment when there is no such event
// or it is in the newest.
uint64_t first_kept_segment(const Store::Impl& s, uint64_t before_sequence, uint64_t before_wall_ms) {
  const uint64_t newest = s.segments.newest_id();
  const std::vector<index::Located> first = s.index.select(Region::all(), before_sequence - 1, 1);
  const uint64_t by_sequence = first.empty() ? newest : std::min(first.front().entry.segment_id, newest);
  if (before_wall_ms == UINT64_MAX) return by_sequence;
  return first_segment_at_wall_ms(s, before_wall_ms, by_sequence);
}

// Gives each kept sealed segment, from `first_kept` on, the footer it lacks, unless an
// index checkpoint is in place (it covers them). A checkpoint replaces the footers of the
// segments it covers, and a drop removes the checkpoint: without this, the next open would
// scan every frame of those segments. Segments that get no footer (docs/durability.md) are
// skipped; an I/O error is returned, and the next call tries again.
Status restore_footers(Store::Impl& s, uint64_t first_kept) {
  if (!s.options.segment_footers) return {};
  auto checkpoint = s.fs->exists(segment::join_path(s.dir, index::kCheckpointFileName));
  if (!checkpoint) return tl::unexpected(checkpoint.error());
  if (*checkpoint) return {};
  for (uint64_t id = first_kept; id < s.segments.newest_id(); ++id) {
    auto exists = segment_footer_exists(s, id);
    if (!exists) return tl::unexpected(exists.error());
    if (*exists) continue;
    if (auto written = write_segment_footer(s, id); !written) return tl::unexpected(written.error());
  }
  return {};
}

// kCursorBehind when a durable cursor checkpoint has not consumed every event below
// `first_sequence`.
Status check_cursors(Store::Impl& s, uint64_t first_sequence) {
  auto ids = delivery::list_checkpoint_ids(*s.fs, s.dir);
  if (!ids) return tl::unexpected(ids.error());
  for (const std::string& id : *ids) {
    auto record = delivery::load_checkpoint(*s.fs, delivery::checkpoint_path(s.dir, id));
    if (!record) return tl::unexpected(record.error());
    if (*record && (*record)->position < first_sequence - 1) {
      return make_error(ErrorCode::kCursorBehind,
                        "cursor checkpoint " + id + ".ckpt is at global sequence " + std::to_string((*record)->position) +
                            ": dropping history up to " + std::to_string(first_sequence) +
                            " would drop events it has not consumed");
    }
  }
  return {};
}

// Reads segments [horizon.first_segment_id, first_kept) once more, checking every frame and
// link, and returns the horizon after them; counts what they hold into `report`.
Result<index::Horizon> horizon_after(Store::Impl& s, uint64_t first_kept, DropHistoryReport& report) {
  index::ChainChecker checker([&s](uint64_t seq) { return s.fence_log->hidden(seq); });
  checker.resume(s.horizon.first_sequence, s.horizon.heads);
  index::Horizon next{first_kept, 0, s.horizon.wall_ms_max, {}};
  for (uint64_t id = s.horizon.first_segment_id; id < first_kept; ++id) {
    auto file = s.segments.file(id);
    if (!file) return tl::unexpected(file.error());
    auto size = (*file)->size();
    if (!size) return tl::unexpected(size.error());
    const std::string path = s.segments.path(id);
    segment::ScanTarget target{file->get(), path, id, /*newest=*/false, *size, 0};
    auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      if (auto broken = checker.check_and_advance(f.record)) {
        return tl::unexpected(Error{ErrorCode::kCorruption, *broken, path, f.offset, {}});
      }
      next.wall_ms_max = std::max(next.wall_ms_max, f.record.header.wall_ms);
      if (!checker.last_hidden()) ++report.events_removed;
      return {};
    });
    if (!scan) return tl::unexpected(scan.error());
    ++report.segments_removed;
    report.bytes_removed += *size;
  }
  next.first_sequence = checker.next_sequence();
  next.heads = checker.heads();
  return next;
}

}  // namespace

Result<DropHistoryReport> Store::drop_history(const std::string& dir, uint64_t before_sequence,
                                              DropHistoryOptions options) {
  if (before_sequence == 0) return make_error(ErrorCode::kInvalidArgument, "before_sequence must be >= 1");
  options.store.access = AccessMode::kReadOnly;
  auto opened = open_store(dir, options.store);
  if (!opened) return tl::unexpected(opened.error());
  Store::Impl& s = **opened;
  DropHistoryReport report{s.horizon.first_segment_id, s.horizon.first_sequence, 0, 0, 0};
  const uint64_t first_kept = first_kept_segment(s, before_sequence, options.before_wall_ms);
  // What an earlier drop that failed or was cut after its horizon left goes too (the
  // read-only open found it, and left it).
  std::vector<uint64_t> dropped = std::move(s.segments_below_horizon);
  if (first_kept == s.horizon.first_segment_id) {  // Nothing more to drop.
    if (auto st = remove_dropped(s, dropped); !st) return tl::unexpected(st.error());
    if (auto st = restore_footers(s, first_kept); !st) return tl::unexpected(st.error());
    return report;
  }
  auto next = horizon_after(s, first_kept, report);
  if (!next) return tl::unexpected(next.error());
  if (!options.ignore_cursors) {
    if (auto st = check_cursors(s, next->first_sequence); !st) return tl::unexpected(st.error());
  }
  // The horizon first: once it is durable, an open treats the segments below it as gone.
  if (auto st = index::write_horizon(*s.fs, s.dir, *next); !st) return tl::unexpected(st.error());
  for (uint64_t id = s.horizon.first_segment_id; id < first_kept; ++id) dropped.push_back(id);
  if (auto st = remove_dropped(s, dropped); !st) return tl::unexpected(st.error());
  if (auto st = restore_footers(s, first_kept); !st) return tl::unexpected(st.error());
  report.first_segment_id = next->first_segment_id;
  report.first_sequence = next->first_sequence;
  return report;
}

}  // namespace batpak
