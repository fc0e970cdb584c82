// The index checkpoint: written at close, validated and loaded at open (docs/durability.md,
// "Index checkpoint"). Any doubt falls back to the full scan; the reason goes in the report.
#include <algorithm>
#include <chrono>

#include "format/format.hpp"
#include "index/index_checkpoint.hpp"
#include "segment/segment_files.hpp"
#include "store/store_impl.hpp"
#include "util/durable_file.hpp"
#include "util/hash.hpp"

namespace batpak {
namespace {

std::string checkpoint_path(const Store::Impl& s) { return segment::join_path(s.dir, index::kCheckpointFileName); }

// The hidden global sequences in [first, last] according to the fence file, as merged ranges.
std::vector<SequenceRange> fence_hidden(const writer::FenceLog& fences, uint64_t first, uint64_t last) {
  std::vector<SequenceRange> ranges = fences.cancelled();
  if (auto open = fences.open_fence_start()) ranges.push_back(SequenceRange{*open, last + 1});
  std::vector<SequenceRange> out;
  for (SequenceRange r : ranges) {
    r.start = std::max(r.start, first);
    r.end = std::min(r.end, last + 1);
    if (r.start >= r.end) continue;
    if (!out.empty() && out.back().end == r.start) {
      out.back().end = r.end;
    } else {
      out.push_back(r);
    }
  }
  return out;
}

// Why the checkpoint does not describe the store on disk now, or nothing when it does. Every
// covered byte is read and checksummed, so open still notices any damage to them. The
// frame right after the covered end of the last covered segment must be absent, zero, or an
// intact frame: anything else is left to the full scan, which can tell a torn tail there.
std::optional<std::string> mismatch(Store::Impl& s, const std::vector<uint64_t>& ids, const index::CheckpointMeta& meta) {
  if (meta.segments.empty()) return "the checkpoint covers no segment";
  if (ids.size() < meta.segments.size()) return "a segment the checkpoint covers is missing";
  if (fence_hidden(*s.fence_log, s.index.first_sequence(), s.index.size()) != meta.hidden) {
    return "the fence file changed since the checkpoint";
  }
  std::vector<uint8_t> buffer;
  for (const index::CoveredSegment& covered : meta.segments) {
    const uint64_t id = covered.segment_id;
    if (ids[id - s.horizon.first_segment_id] != id) return "segment " + std::to_string(id) + " is missing";
    auto file = s.fs->open(s.segments.path(id), Fs::OpenMode::kRead);
    if (!file) return file.error().message;
    auto size = (*file)->size();
    if (!size) return size.error().message;
    const bool last = id == meta.segments.back().segment_id;
    if (*size < covered.covered_end || (!last && *size != covered.covered_end)) {
      return "segment " + std::to_string(id) + " changed size since the checkpoint";
    }
    auto checksum = segment::checksum_of_prefix(**file, covered.covered_end, buffer);
    if (!checksum) return checksum.error().message;
    if (*checksum != covered.checksum) {
      return "segment " + std::to_string(id) + " differs from the one the checkpoint was taken of";
    }
    if (last && *size > covered.covered_end) {
      std::vector<uint8_t> next(format::kFrameHeaderBytes);
      auto got = (*file)->pread(covered.covered_end, next);
      if (!got) return got.error().message;
      next.resize(*got);
      if (next.size() == format::kFrameHeaderBytes && !format::frame_header_is_zero(next) &&
          format::frame_record_bytes(next) == 0) {
        return "no frame starts where the checkpoint ends";
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<index::CheckpointMeta> load_index_checkpoint(Store::Impl& s, const std::vector<uint64_t>& ids) {
  auto fall_back = [&s](std::string why) -> std::optional<index::CheckpointMeta> {
    s.index.clear();
    s.report.index_source = IndexSource::kFullScan;
    s.report.index_source_reason = std::move(why);
    return std::nullopt;
  };
  if (!s.options.index_checkpoint) return fall_back("index checkpoints are off (StoreOptions::index_checkpoint)");
  auto exists = s.fs->exists(checkpoint_path(s));
  if (!exists) return fall_back(exists.error().message);
  if (!*exists) return fall_back("no index checkpoint");
  auto file = s.fs->open(checkpoint_path(s), Fs::OpenMode::kRead);
  if (!file) return fall_back(file.error().message);
  auto meta = index::CheckpointCodec::decode_file(**file, s.index, s.horizon);
  if (!meta) return fall_back(meta.error().message);
  if (auto why = mismatch(s, ids, *meta)) return fall_back(*why);
  s.report.index_source = IndexSource::kCheckpoint;
  s.checkpoint_segments = meta->segments;
  s.checkpoint_last_sequence = s.index.size();
  s.report.index_source_reason = "index checkpoint of " + std::to_string(s.index.size()) + " events loaded";
  return std::move(*meta);
}

Status write_index_checkpoint(Store::Impl& s) {
  if (!s.options.index_checkpoint) return {};
  const index::IndexCut cut = index::CheckpointCodec::cut(s.index);
  if (cut.rows == 0 || cut.last_sequence() == s.checkpoint_last_sequence) return {};  // Nothing, or nothing new.
  index::CheckpointMeta meta;
  meta.horizon_checksum = index::horizon_checksum(s.horizon);
  // Read after the cut, so at least the largest wall_ms of the events it covers.
  meta.wall_ms_max = s.watermarks->frontier().written.wall_ms;
  std::vector<uint8_t> buffer;
  for (const auto& seg : s.segments.snapshot()) {
    if (seg.segment_id > cut.last.segment_id) break;
    // Segments before the cut's last row are sealed and complete; that one is covered up to
    // the end of the row's frame (a batch's last: the writer publishes whole batches).
    const uint64_t end = seg.segment_id == cut.last.segment_id ? cut.last.offset + cut.last.frame_bytes : seg.visible_end;
    index::CoveredSegment covered{seg.segment_id, end, 0};
    // Bytes a checkpoint checked or wrote before are unchanged (append only): reuse their checksum.
    auto known = std::find_if(s.checkpoint_segments.begin(), s.checkpoint_segments.end(),
                              [&](const index::CoveredSegment& c) { return c.segment_id == seg.segment_id; });
    if (known != s.checkpoint_segments.end() && known->covered_end == end) {
      covered.checksum = known->checksum;
    } else {
      auto file = s.segments.file(seg.segment_id);
      if (!file) return tl::unexpected(file.error());
      auto checksum = segment::checksum_of_prefix(**file, end, buffer);
      if (!checksum) return tl::unexpected(checksum.error());
      covered.checksum = *checksum;
    }
    meta.segments.push_back(covered);
  }
  const std::vector<uint8_t> bytes = index::CheckpointCodec::encode(s.index, cut, meta);
  if (auto st = util::replace_file_durably(*s.fs, s.dir, checkpoint_path(s), bytes); !st) return st;
  const uint64_t covered_before =
      s.checkpoint_segments.empty() ? s.horizon.first_segment_id : s.checkpoint_segments.back().segment_id;
  s.checkpoint_segments = std::move(meta.segments);
  s.checkpoint_last_sequence = cut.last_sequence();
  // The checkpoint is durable: the footers of the segments it now covers are not needed.
  remove_segment_footers(s, covered_before, s.checkpoint_segments.back().segment_id);
  return {};
}

}  // namespace batpak
