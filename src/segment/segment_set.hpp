// The open segment files of a store, shared by the writer (which adds segments and moves
// the visible end) and readers. Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "batpak/env.hpp"
#include "format/record.hpp"
#include "util/bytes.hpp"

namespace batpak::segment {

// Thread safety: every method is safe to call concurrently (internal mutex).
class SegmentSet {
 public:
  explicit SegmentSet(std::string dir) : dir_(std::move(dir)) {}

  void add(uint64_t segment_id, std::shared_ptr<File> file, uint64_t visible_end);
  // Moves a segment's visible end forward (frames before it are committed and visible).
  void set_visible_end(uint64_t segment_id, uint64_t visible_end);

  struct Snapshot {
    uint64_t segment_id = 0;
    std::shared_ptr<File> file;
    uint64_t visible_end = 0;
  };
  // All segments, ascending by id.
  std::vector<Snapshot> snapshot() const;
  std::shared_ptr<File> file(uint64_t segment_id) const;
  std::string path(uint64_t segment_id) const;
  // The highest segment id added (0: none), without the lock: every segment below it is
  // sealed once the writer has moved on to it.
  uint64_t newest_id() const { return newest_id_.load(std::memory_order_acquire); }

 private:
  std::string dir_;
  mutable std::mutex mu_;
  std::map<uint64_t, Snapshot> segments_;
  std::atomic<uint64_t> newest_id_{0};  // Written under mu_.
};

// Frames read together: `bytes` bytes at `offset` of a segment.
struct FrameRun {
  uint64_t segment_id = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};
// Reads every run into `buffer`, one after another in order (resized to their total; reuse
// it across calls to skip the allocation and zero fill), with one Fs::read_batch. A short
// read (or a missing segment) is kCorruption with file and offset.
Status read_runs(const SegmentSet& segments, Fs& fs, std::span<const FrameRun> runs, util::ReadBuffer& buffer);
// Checks one frame read from `offset` of the segment: checksum, structure. Returns a view of
// its record bytes; decode them with format::decode_record. Damage is kCorruption.
Result<std::span<const uint8_t>> frame_record(const SegmentSet& segments, uint64_t segment_id, uint64_t offset,
                                              std::span<const uint8_t> frame);

}  // namespace batpak::segment
