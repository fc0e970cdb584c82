#include "writer/segment_io.hpp"

#include <algorithm>

#include "format/format.hpp"
#include "format/record.hpp"
#include "segment/manifest.hpp"
#include "segment/segment_files.hpp"

namespace batpak::writer {

SegmentIo::SegmentIo(Fs& fs, std::string dir, segment::SegmentSet& segments,
                     uint32_t preallocate_bytes)
    : fs_(fs), dir_(std::move(dir)), segments_(segments), preallocate_bytes_(preallocate_bytes) {}

Status SegmentIo::create(uint64_t segment_id, uint64_t created_ms) {
  const std::string path = segment::join_path(dir_, segment::segment_file_name(segment_id));
  auto file = fs_.open(path, Fs::OpenMode::kCreateReadWrite);
  if (!file) return tl::unexpected(file.error());
  std::shared_ptr<File> shared = std::move(*file);
  if (auto s = shared->truncate(0); !s) return s;
  if (auto s = shared->pwrite(0, format::encode_segment_header(segment_id, created_ms)); !s) return s;
  if (auto s = shared->sync_all(); !s) return s;
  if (auto s = fs_.sync_dir(dir_); !s) return s;
  // Only now that the segment's entry is durable may the manifest name it.
  if (auto s = segment::write_manifest(fs_, dir_, {segment_id, 0}); !s) return s;
  adopt(segment_id, std::move(shared), format::kSegmentHeaderBytes);
  return {};
}

void SegmentIo::adopt(uint64_t segment_id, std::shared_ptr<File> file, uint64_t data_end) {
  active_id_ = segment_id;
  active_ = file;
  data_end_ = data_end;
  allocated_end_ = data_end;
  segments_.add(segment_id, std::move(file), data_end);
}

Status SegmentIo::seal_active() {
  if (auto s = active_->sync(); !s) return s;
  if (auto s = active_->truncate(data_end_); !s) return s;
  return active_->sync_all();
}

Status SegmentIo::preallocate_after(uint64_t end) {
  if (preallocate_bytes_ == 0 || allocated_end_ >= end + preallocate_bytes_ / 2) return {};
  static const std::vector<uint8_t> zeros(1u << 20, 0);
  const uint64_t target = end + preallocate_bytes_;
  for (uint64_t at = std::max(allocated_end_, end); at < target;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), target - at));
    if (auto s = active_->pwrite(at, {zeros.data(), n}); !s) return s;
    at += n;
  }
  allocated_end_ = target;
  return {};
}

Status SegmentIo::write(uint64_t segment_id, uint64_t offset, std::span<const uint8_t> bytes,
                        uint64_t created_ms) {
  if (segment_id != active_id_) {
    if (auto s = seal_active(); !s) return s;
    if (auto s = create(segment_id, created_ms); !s) return s;
  }
  if (auto s = active_->pwrite(offset, bytes); !s) return s;
  data_end_ = offset + bytes.size();
  allocated_end_ = std::max(allocated_end_, data_end_);
  return preallocate_after(data_end_);
}

Status SegmentIo::sync() { return active_->sync(); }

}  // namespace batpak::writer
