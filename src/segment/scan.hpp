// Reading a segment file frame by frame, with the recovery rules of docs/durability.md.
// Internal.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "batpak/env.hpp"
#include "format/record.hpp"

namespace batpak::segment {

// One committed frame, delivered in file order. `record` is valid only during the callback.
struct ScannedFrame {
  const format::RecordView& record;
  uint64_t offset;       // Frame start within the segment.
  uint32_t frame_bytes;  // On-disk size, padding included.
};

// The end of the newest segment that is an unacknowledged (torn) write: [offset, end).
struct TornTail {
  uint64_t offset = 0;
  uint64_t end = 0;
  std::string reason;
};

struct SegmentScan {
  uint64_t data_end = 0;           // Offset just past the last committed frame.
  std::optional<TornTail> torn;    // Only when scanning as the newest segment.
};

using FrameSink = std::function<Status(const ScannedFrame&)>;

struct ScanTarget {
  File* file = nullptr;
  std::string path;
  uint64_t segment_id = 0;
  // Newest segment: data ends at the first zero frame header, and damage that only
  // unacknowledged writes could have caused is a torn tail. Otherwise data must run intact
  // up to `strict_end` (the file size of a sealed segment, or a live segment's visible end).
  bool newest = false;
  uint64_t strict_end = 0;
  // Where the first frame to read starts (0: right after the header). REQUIRES: a frame
  // boundary outside any batch, such as the end an index checkpoint covers.
  uint64_t start_offset = 0;
};

// Scans one segment, calling `sink` for every committed frame; the frames of a batch are
// delivered only once the whole batch is present. Damage is kCorruption with file and
// offset; a sink error stops the scan and is returned as is.
Result<SegmentScan> scan_segment(const ScanTarget& target, const FrameSink& sink);

}  // namespace batpak::segment
