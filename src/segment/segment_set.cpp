#include "segment/segment_set.hpp"

#include "format/format.hpp"
#include "segment/segment_files.hpp"

namespace batpak::segment {

void SegmentSet::add(uint64_t segment_id, std::shared_ptr<File> file, uint64_t visible_end) {
  std::lock_guard lock(mu_);
  segments_[segment_id] = Snapshot{segment_id, std::move(file), visible_end};
  if (segment_id > newest_id_.load(std::memory_order_relaxed)) newest_id_.store(segment_id, std::memory_order_release);
}

void SegmentSet::set_visible_end(uint64_t segment_id, uint64_t visible_end) {
  std::lock_guard lock(mu_);
  segments_.at(segment_id).visible_end = visible_end;
}

std::vector<SegmentSet::Snapshot> SegmentSet::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Snapshot> out;
  out.reserve(segments_.size());
  for (const auto& [id, s] : segments_) out.push_back(s);
  return out;
}

std::shared_ptr<File> SegmentSet::file(uint64_t segment_id) const {
  std::lock_guard lock(mu_);
  auto it = segments_.find(segment_id);
  return it == segments_.end() ? nullptr : it->second.file;
}

std::string SegmentSet::path(uint64_t segment_id) const {
  return join_path(dir_, segment_file_name(segment_id));
}

namespace {

Error corruption(const SegmentSet& segments, uint64_t segment_id, uint64_t offset, const std::string& why) {
  return Error{ErrorCode::kCorruption, why, segments.path(segment_id), offset, {}};
}

}  // namespace

Status read_runs(const SegmentSet& segments, Fs& fs, std::span<const FrameRun> runs, util::ReadBuffer& buffer) {
  uint64_t total = 0;
  for (const FrameRun& run : runs) total += run.bytes;
  buffer.resize(static_cast<size_t>(total));
  std::vector<std::shared_ptr<File>> files;  // Keeps each file open until the reads are done.
  std::vector<ReadRequest> requests;
  files.reserve(runs.size());
  requests.reserve(runs.size());
  uint64_t at = 0;
  for (const FrameRun& run : runs) {
    std::shared_ptr<File>& file = files.emplace_back(segments.file(run.segment_id));
    if (!file) return tl::unexpected(corruption(segments, run.segment_id, run.offset, "segment is missing"));
    requests.push_back(ReadRequest{file.get(), run.offset, {buffer.data() + at, static_cast<size_t>(run.bytes)}, 0});
    at += run.bytes;
  }
  if (auto read = fs.read_batch(requests); !read) return read;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (requests[i].got != runs[i].bytes) {
      return tl::unexpected(corruption(segments, runs[i].segment_id, runs[i].offset, "frame is truncated"));
    }
  }
  return {};
}

Result<std::span<const uint8_t>> frame_record(const SegmentSet& segments, uint64_t segment_id, uint64_t offset,
                                              std::span<const uint8_t> frame) {
  const uint32_t record_bytes = frame.size() < format::kFrameHeaderBytes ? 0 : format::frame_record_bytes(frame);
  if (record_bytes == 0 || format::kFrameHeaderBytes + record_bytes > frame.size()) {
    return tl::unexpected(corruption(segments, segment_id, offset, "frame header is damaged"));
  }
  const auto checked = frame.first(format::kFrameHeaderBytes + record_bytes);
  if (!format::frame_checksum_ok(checked)) {
    return tl::unexpected(corruption(segments, segment_id, offset, "frame checksum mismatch"));
  }
  return checked.subspan(format::kFrameHeaderBytes);
}

}  // namespace batpak::segment
