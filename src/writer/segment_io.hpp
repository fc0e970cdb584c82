// Writes frames into the active segment: preallocation, rotation, sealing. Internal.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "segment/segment_set.hpp"

namespace batpak::writer {

// Thread safety: none. Exactly one thread at a time calls write() and seal (the writer
// thread in kSync mode; appenders holding the writer mutex in kBuffered mode). sync() of
// the file returned by active_file() may run concurrently from another thread.
class SegmentIo {
 public:
  SegmentIo(Fs& fs, std::string dir, segment::SegmentSet& segments, uint32_t preallocate_bytes);

  // Creates a new, empty segment file with a durable header (file and directory synced),
  // then records it as the newest in the manifest (segment/manifest.hpp).
  Status create(uint64_t segment_id, uint64_t created_ms);
  // Adopts an existing segment whose committed data ends at `data_end`.
  void adopt(uint64_t segment_id, std::shared_ptr<File> file, uint64_t data_end);

  // Writes `bytes` at `offset` of `segment_id`. A segment id above the active one first
  // seals the active segment (sync, truncate to its data, fsync) and creates the new one.
  Status write(uint64_t segment_id, uint64_t offset, std::span<const uint8_t> bytes,
               uint64_t created_ms);
  Status sync();

  uint64_t active_id() const { return active_id_; }
  uint64_t data_end() const { return data_end_; }
  std::shared_ptr<File> active_file() const { return active_; }

 private:
  Status seal_active();
  Status preallocate_after(uint64_t end);

  Fs& fs_;
  std::string dir_;
  segment::SegmentSet& segments_;
  uint32_t preallocate_bytes_;
  uint64_t active_id_ = 0;
  std::shared_ptr<File> active_;
  uint64_t data_end_ = 0;      // End of written frames in the active segment.
  uint64_t allocated_end_ = 0; // End of zero-filled space written ahead.
};

}  // namespace batpak::writer
