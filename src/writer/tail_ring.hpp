// The tail ring: a file mapped shared into memory where a kBuffered append leaves the
// frames of its commit before it returns. A store into the mapping reaches the page cache
// without a system call, so the frames survive a process crash while the writer thread has
// not yet written them to their segment. The next read-write open writes what the ring
// holds beyond the journal's end into the segments (store_open.cpp). Bytes: docs/format.md,
// "Tail ring". Internal.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/status.hpp"

namespace batpak::writer {

inline constexpr char kTailRingFileName[] = "tail.ring";
inline constexpr uint64_t kTailRingHeaderBytes = 4096;  // The record area starts here.
inline constexpr uint64_t kTailRecordHeaderBytes = 56;
inline constexpr uint64_t kTailRingBytesMin = 64u << 10;
inline constexpr uint64_t kTailRingBytesMax = 1ull << 30;

// The frames of one commit, bound for `segment_offset` in segment `segment_id`.
struct TailRecord {
  uint64_t first_sequence = 0;  // Global sequence of the first frame.
  uint32_t event_count = 0;
  uint64_t segment_id = 0;
  uint64_t segment_offset = 0;
  std::span<const uint8_t> frames;  // Whole frames, as the segment holds them.
};

// The records of a ring file's bytes, oldest first: from the header's tail position, in ring
// order, up to the first place that does not hold an intact record of the header's epoch
// (bad magic, kind, epoch, length or checksum), or one lap. A file with a bad header, or
// shorter than its header says, has none. Each record's `frames` points into `file`.
// Never reads outside `file`; any bytes are safe input.
std::vector<TailRecord> decode_tail_ring(std::span<const uint8_t> file);

// Thread safety: none. The writer calls it under its mutex.
class TailRing {
 public:
  // Creates the ring file `kTailRingFileName` in `dir` (replacing any file there) with
  // `ring_bytes` bytes, zeros past a header carrying `epoch`, makes it durable, and maps it.
  // kUnsupported when `fs` cannot map files; kInvalidArgument when `ring_bytes` is below
  // kTailRingBytesMin or not a multiple of 4096, or `epoch` is 0.
  static Result<std::unique_ptr<TailRing>> create(Fs& fs, const std::string& dir, uint64_t ring_bytes,
                                                  uint64_t epoch);

  // Copies `record` into the ring. Returns the ring position just past it (for release_to()),
  // or nothing when the records not yet released leave no room for it; nothing is written
  // then. REQUIRES: fits(record.frames.size()).
  std::optional<uint64_t> append(const TailRecord& record);
  // Whether a record of `frame_bytes` bytes of frames can ever be appended: it takes at most
  // half the record area.
  bool fits(uint64_t frame_bytes) const;
  // Whether append() of a record of `frame_bytes` bytes of frames would succeed now.
  bool has_room(uint64_t frame_bytes) const;
  // Frees the records before `position`, a value append() returned (not below an earlier
  // one): their frames are in the page cache of their segment. The header's tail moves there.
  void release_to(uint64_t position);
  // Whether every appended record has been released.
  bool empty() const { return head_ == tail_; }

 private:
  TailRing(std::unique_ptr<File> file, std::span<uint8_t> map, uint64_t epoch);

  std::unique_ptr<File> file_;  // Keeps the mapping alive.
  std::span<uint8_t> map_;      // The whole file.
  uint64_t epoch_;
  uint64_t capacity_;           // Bytes of the record area.
  // Logical positions: bytes appended since creation, a wrap counting the bytes it skips.
  // A position p lives at file offset kTailRingHeaderBytes + p % capacity_.
  uint64_t head_ = 0;  // Where the next record goes.
  uint64_t tail_ = 0;  // The oldest record not released.
};

}  // namespace batpak::writer
