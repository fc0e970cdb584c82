#include "segment/segment_set.hpp"

#include "format/format.hpp"
#include "segment/segment_files.hpp"

namespace batpak::segment {

void SegmentSet::add(uint64_t segment_id, std::shared_ptr<File> file, uint64_t visible_end) {
  std::lock_guard lock(mu_);
  segments_[segment_id] = Snapshot{segment_id, std::move(file), visible_end};
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

Result<std::vector<uint8_t>> read_record(const SegmentSet& segments, uint64_t segment_id,
                                         uint64_t offset, uint32_t frame_bytes) {
  auto corrupt = [&](const std::string& why) {
    return tl::unexpected(
        Error{ErrorCode::kCorruption, why, segments.path(segment_id), offset, {}});
  };
  std::shared_ptr<File> file = segments.file(segment_id);
  if (!file) return corrupt("segment is missing");
  std::vector<uint8_t> frame(frame_bytes);
  auto got = file->pread(offset, frame);
  if (!got) return tl::unexpected(got.error());
  if (*got != frame_bytes) return corrupt("frame is truncated");
  const uint32_t record_bytes = format::frame_record_bytes(frame);
  if (record_bytes == 0 || format::kFrameHeaderBytes + record_bytes > frame_bytes) {
    return corrupt("frame header is damaged");
  }
  if (!format::frame_checksum_ok({frame.data(), format::kFrameHeaderBytes + record_bytes})) {
    return corrupt("frame checksum mismatch");
  }
  frame.erase(frame.begin(), frame.begin() + format::kFrameHeaderBytes);
  frame.resize(record_bytes);
  return frame;
}

}  // namespace batpak::segment
