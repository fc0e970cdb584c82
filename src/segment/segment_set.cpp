#include "segment/segment_set.hpp"

#include <algorithm>
#include <array>
#include <cassert>

#include "format/format.hpp"
#include "segment/segment_files.hpp"

namespace batpak::segment {
namespace {

Error corruption(const SegmentSet& segments, uint64_t segment_id, uint64_t offset, const std::string& why) {
  return Error{ErrorCode::kCorruption, why, segments.path(segment_id), offset, {}};
}

}  // namespace

SegmentSet::SegmentSet(std::string dir, Fs& fs, size_t open_files_max)
    : dir_(std::move(dir)), fs_(fs), open_files_max_(open_files_max) {
  assert(open_files_max_ >= kOpenSegmentFilesMaxMin);
}

void SegmentSet::add(uint64_t segment_id, std::shared_ptr<File> file, uint64_t visible_end) {
  std::vector<std::shared_ptr<File>> closing;  // Closed after the lock is released (declared first).
  std::lock_guard lock(mu_);
  Entry& entry = segments_[segment_id];
  if (entry.file) {
    used_.erase(entry.used);
    closing.push_back(std::move(entry.file));
  }
  entry.visible_end = visible_end;
  entry.file = std::move(file);
  if (segment_id > newest_id_.load(std::memory_order_relaxed)) newest_id_.store(segment_id, std::memory_order_release);
  if (entry.file) {
    used_.push_front(segment_id);
    entry.used = used_.begin();
  }
  close_surplus(closing);
}

void SegmentSet::set_visible_end(uint64_t segment_id, uint64_t visible_end) {
  std::lock_guard lock(mu_);
  segments_.at(segment_id).visible_end = visible_end;
}

std::vector<SegmentSet::Snapshot> SegmentSet::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Snapshot> out;
  out.reserve(segments_.size());
  for (const auto& [id, entry] : segments_) out.push_back(Snapshot{id, entry.visible_end});
  return out;
}

Result<std::shared_ptr<File>> SegmentSet::file(uint64_t segment_id) const {
  {
    std::lock_guard lock(mu_);
    auto it = segments_.find(segment_id);
    if (it == segments_.end()) {
      return tl::unexpected(corruption(*this, segment_id, 0, "segment is missing"));
    }
    if (it->second.file) {
      touch(it->second);
      return it->second.file;
    }
  }
  // Opened without the lock, so readers of open segments do not wait for the system call.
  auto opened = fs_.open(path(segment_id), Fs::OpenMode::kRead);
  if (!opened) return tl::unexpected(opened.error());
  std::shared_ptr<File> file = std::move(*opened);
  std::vector<std::shared_ptr<File>> closing;  // Closed after the lock is released (declared first).
  std::lock_guard lock(mu_);
  Entry& entry = segments_.at(segment_id);  // Segments are never removed.
  if (entry.file) {  // Another reader opened it meanwhile: keep one descriptor.
    touch(entry);
    return entry.file;
  }
  entry.file = file;
  used_.push_front(segment_id);
  entry.used = used_.begin();
  close_surplus(closing);
  return file;
}

std::string SegmentSet::path(uint64_t segment_id) const {
  return join_path(dir_, segment_file_name(segment_id));
}

size_t SegmentSet::open_files() const {
  std::lock_guard lock(mu_);
  return used_.size();
}

void SegmentSet::touch(Entry& entry) const {
  assert(entry.file);
  used_.splice(used_.begin(), used_, entry.used);
}

void SegmentSet::close_surplus(std::vector<std::shared_ptr<File>>& closing) const {
  const uint64_t newest = newest_id_.load(std::memory_order_relaxed);
  for (auto it = used_.end(); used_.size() > open_files_max_ && it != used_.begin();) {
    --it;
    if (*it == newest) continue;
    closing.push_back(std::move(segments_.at(*it).file));
    it = used_.erase(it);
  }
}

namespace {

// Reads `runs` into `out` (their total size) with one Fs::read_batch.
Status read_batch_of(const SegmentSet& segments, Fs& fs, std::span<const FrameRun> runs, uint8_t* out) {
  std::vector<std::shared_ptr<File>> files;  // Keeps each file open until the reads are done.
  std::vector<ReadRequest> requests;
  files.reserve(runs.size());
  requests.reserve(runs.size());
  for (const FrameRun& run : runs) {
    auto file = segments.file(run.segment_id);
    if (!file) {
      Error error = std::move(file.error());
      if (error.code == ErrorCode::kCorruption) error.offset = run.offset;  // Missing: where it was wanted.
      return tl::unexpected(std::move(error));
    }
    files.push_back(std::move(*file));
    requests.push_back(ReadRequest{files.back().get(), run.offset, {out, static_cast<size_t>(run.bytes)}, 0});
    out += run.bytes;
  }
  if (auto read = fs.read_batch(requests); !read) return read;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (requests[i].got != runs[i].bytes) {
      return tl::unexpected(corruption(segments, runs[i].segment_id, runs[i].offset, "frame is truncated"));
    }
  }
  return {};
}

}  // namespace

Status read_runs(const SegmentSet& segments, Fs& fs, std::span<const FrameRun> runs, util::ReadBuffer& buffer) {
  uint64_t total = 0;
  for (const FrameRun& run : runs) total += run.bytes;
  buffer.resize(static_cast<size_t>(total));
  uint8_t* out = buffer.data();
  for (size_t first = 0; first < runs.size();) {
    // A batch ends where one more distinct segment would pass kReadRunFilesMax open files.
    std::array<uint64_t, kReadRunFilesMax> batch_segments{};
    size_t distinct = 0;
    size_t end = first;
    for (; end < runs.size(); ++end) {
      const uint64_t id = runs[end].segment_id;
      const std::span<const uint64_t> seen = std::span(batch_segments).first(distinct);
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
      if (distinct == kReadRunFilesMax) break;
      batch_segments[distinct++] = id;
    }
    const std::span<const FrameRun> batch = runs.subspan(first, end - first);
    if (auto read = read_batch_of(segments, fs, batch, out); !read) return read;
    for (const FrameRun& run : batch) out += run.bytes;
    first = end;
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
