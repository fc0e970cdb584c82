// Durable cursor checkpoints: their bytes (docs/format.md, "Cursor checkpoints") and their
// atomic replacement on disk. Internal.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/status.hpp"

namespace batpak::delivery {

inline constexpr uint32_t kCheckpointMagic = 0x50435042;  // Bytes "BPCP".
inline constexpr uint16_t kCheckpointVersion = 1;
inline constexpr size_t kCheckpointFixedBytes = 28;      // Everything but the identity.
inline constexpr size_t kRegionIdentityBytesMax = 8192;  // Regions are short; cap the read.

struct CheckpointRecord {
  uint64_t position = 0;
  std::string region_identity;
};

std::vector<uint8_t> encode_checkpoint(const CheckpointRecord& record);
// kCorruption for anything but a complete, checksummed record; kUnsupported for a newer version.
Result<CheckpointRecord> decode_checkpoint(std::span<const uint8_t> bytes);

// `<store_dir>/cursors` and `<store_dir>/cursors/<checkpoint_id>.ckpt`.
std::string checkpoint_dir(const std::string& store_dir);
std::string checkpoint_path(const std::string& store_dir, const std::string& checkpoint_id);

// The ids of the checkpoints in `<store_dir>/cursors` (files `<id>.ckpt`), sorted; empty
// when the directory does not exist.
Result<std::vector<std::string>> list_checkpoint_ids(Fs& fs, const std::string& store_dir);

// The checkpoint at `path`, or nullopt when the file does not exist. Decode errors carry the
// path in Error::file.
Result<std::optional<CheckpointRecord>> load_checkpoint(Fs& fs, const std::string& path);
// Replaces the checkpoint `checkpoint_id` of the store in `store_dir` atomically and durably:
// temp file, fsync, rename, directory fsync (the cursors directory is created, and the store
// directory fsync'd, the first time).
Status save_checkpoint(Fs& fs, const std::string& store_dir, const std::string& checkpoint_id,
                       const CheckpointRecord& record);

// Deletes the checkpoint `checkpoint_id` and makes the deletion durable (directory fsync).
// REQUIRES: the checkpoint exists.
Status remove_checkpoint(Fs& fs, const std::string& store_dir, const std::string& checkpoint_id);

}  // namespace batpak::delivery
