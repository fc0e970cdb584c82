// The segment files of a store, shared by the writer (which adds segments and moves the
// visible end) and readers. Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "batpak/env.hpp"
#include "format/record.hpp"
#include "util/bytes.hpp"

namespace batpak::segment {

// The least a SegmentSet accepts: the newest segment, plus one other.
inline constexpr size_t kOpenSegmentFilesMaxMin = 2;

// Keeps every segment's visible end, and an open file for at most `open_files_max` of them:
// the newest segment always, the others most recently used first. A closed segment is
// opened again (read only) when asked for, so the number of file descriptors stays bounded
// however many segments the store has (docs/durability.md, "Limits").
//
// Thread safety: every method is safe to call concurrently (internal mutex). A file returned
// by file() stays open while its caller holds it, even once the set has closed its copy.
class SegmentSet {
 public:
  // REQUIRES: `fs` outlives the set; open_files_max >= kOpenSegmentFilesMaxMin.
  SegmentSet(std::string dir, Fs& fs, size_t open_files_max);

  // Adds segment `segment_id`, open as `file` (null: closed, opened when first read), or
  // replaces what the set held for it.
  void add(uint64_t segment_id, std::shared_ptr<File> file, uint64_t visible_end);
  // Moves a segment's visible end forward (frames before it are committed and visible).
  void set_visible_end(uint64_t segment_id, uint64_t visible_end);

  struct Snapshot {
    uint64_t segment_id = 0;
    uint64_t visible_end = 0;
  };
  // All segments, ascending by id.
  std::vector<Snapshot> snapshot() const;
  // The open file of a segment, opened again when the set had closed it. An id the set does
  // not hold is kCorruption ("segment is missing"); a failed open is the Fs's error.
  Result<std::shared_ptr<File>> file(uint64_t segment_id) const;
  std::string path(uint64_t segment_id) const;
  // The highest segment id added (0: none), without the lock: every segment below it is
  // sealed once the writer has moved on to it.
  uint64_t newest_id() const { return newest_id_.load(std::memory_order_acquire); }
  // How many segment files the set holds open now (callers may hold more). For tests.
  size_t open_files() const;

 private:
  struct Entry {
    uint64_t visible_end = 0;
    std::shared_ptr<File> file;          // Null while closed.
    std::list<uint64_t>::iterator used;  // Position in used_ while open.
  };
  // Marks an open entry as the most recently used one. REQUIRES: mu_ held.
  void touch(Entry& entry) const;
  // Lets go of the least recently used files (never the newest segment's) until at most
  // open_files_max_ are open, moving them into `closing`, so that the caller closes them
  // once it has released mu_. REQUIRES: mu_ held.
  void close_surplus(std::vector<std::shared_ptr<File>>& closing) const;

  const std::string dir_;
  Fs& fs_;
  const size_t open_files_max_;
  mutable std::mutex mu_;
  mutable std::map<uint64_t, Entry> segments_;  // Guarded by mu_.
  mutable std::list<uint64_t> used_;             // Open segment ids, most recently used first. Guarded by mu_.
  std::atomic<uint64_t> newest_id_{0};           // Written under mu_.
};

// Frames read together: `bytes` bytes at `offset` of a segment.
struct FrameRun {
  uint64_t segment_id = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};
// Reads every run into `buffer`, one after another in order (resized to their total; reuse
// it across calls to skip the allocation and zero fill), with as few Fs::read_batch calls as
// keep at most kReadRunFilesMax segment files open at once. A short read (or a missing
// segment) is kCorruption with file and offset.
Status read_runs(const SegmentSet& segments, Fs& fs, std::span<const FrameRun> runs, util::ReadBuffer& buffer);
inline constexpr size_t kReadRunFilesMax = 16;
// Checks one frame read from `offset` of the segment: checksum, structure. Returns a view of
// its record bytes; decode them with format::decode_record. Damage is kCorruption.
Result<std::span<const uint8_t>> frame_record(const SegmentSet& segments, uint64_t segment_id, uint64_t offset,
                                              std::span<const uint8_t> frame);

}  // namespace batpak::segment
