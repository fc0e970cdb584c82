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

namespace {

Error corruption(const SegmentSet& segments, uint64_t segment_id, uint64_t offset, const std::string& why) {
  return Error{ErrorCode::kCorruption, why, segments.path(segment_id), offset, {}};
}

}  // namespace

Status read_frames(const SegmentSet& segments, uint64_t segment_id, uint64_t offset, uint64_t bytes,
                   std::vector<uint8_t>& buffer) {
  std::shared_ptr<File> file = segments.file(segment_id);
  if (!file) return tl::unexpected(corruption(segments, segment_id, offset, "segment is missing"));
  buffer.resize(static_cast<size_t>(bytes));
  auto got = file->pread(offset, buffer);
  if (!got) return tl::unexpected(got.error());
  if (*got != bytes) return tl::unexpected(corruption(segments, segment_id, offset, "frame is truncated"));
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
