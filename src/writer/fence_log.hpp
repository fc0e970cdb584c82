// The fence file: the global-sequence ranges hidden by cancelled visibility fences, and the
// start of the fence still open, if any (docs/format.md, "The fences file"). Internal.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/fence.hpp"

namespace batpak::writer {

inline constexpr uint32_t kFenceFileMagic = 0x4E465042;  // Bytes "BPFN".
inline constexpr uint16_t kFenceFileVersion = 1;
inline constexpr char kFenceFileName[] = "fences";
inline constexpr uint32_t kFenceRangesMax = 1u << 20;  // Bounds the file a reader accepts.

struct FenceFileContents {
  std::optional<uint64_t> open_fence_start;  // A fence began at this sequence and has not ended.
  std::vector<SequenceRange> cancelled;      // Sorted, disjoint, non-empty ranges.
  friend bool operator==(const FenceFileContents&, const FenceFileContents&) = default;
};

std::vector<uint8_t> encode_fence_file(const FenceFileContents& contents);
// kCorruption for anything but a complete, checksummed, well-formed file; kUnsupported for a
// newer version.
Result<FenceFileContents> decode_fence_file(std::span<const uint8_t> bytes);

// Thread safety: every method may be called concurrently (an internal mutex); the writer
// is the only caller of the persisting methods.
class FenceLog {
 public:
  // The fence file of the store in `dir`; empty contents when there is none.
  static Result<std::unique_ptr<FenceLog>> load(std::shared_ptr<Fs> fs, std::string dir);

  // Hidden: inside a cancelled range, or at or after an open fence's start (a fence left
  // open by a crash is treated as cancelled from its start on).
  bool hidden(uint64_t global_sequence) const;
  std::vector<SequenceRange> cancelled() const;
  std::optional<uint64_t> open_fence_start() const;
  FenceFileContents contents() const;

  // Durably records that a fence starts at `start` (REQUIRES: none open).
  Status record_open(uint64_t start);
  // Durably ends the open fence: committed (its events visible) or cancelled (its events up
  // to `end` exclusive hidden for good; an empty range records nothing).
  Status record_committed();
  Status record_cancelled(uint64_t end);

 private:
  FenceLog(std::shared_ptr<Fs> fs, std::string dir, FenceFileContents contents)
      : fs_(std::move(fs)), dir_(std::move(dir)), contents_(std::move(contents)) {}
  Status persist(const FenceFileContents& next);  // REQUIRES: mu_ held.

  const std::shared_ptr<Fs> fs_;
  const std::string dir_;
  mutable std::mutex mu_;
  FenceFileContents contents_;
};

}  // namespace batpak::writer
