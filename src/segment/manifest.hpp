// The manifest: the id of the newest segment the store has created, so that an open can
// tell when the newest segment files are gone (docs/format.md, "The manifest"). Internal.
// Thread safety: pure functions; write_manifest() is called by one writer at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/status.hpp"

namespace batpak::segment {

inline constexpr char kManifestFileName[] = "manifest";
inline constexpr uint32_t kManifestMagic = 0x464D5042;  // Bytes "BPMF".
inline constexpr uint16_t kManifestVersion = 1;

std::vector<uint8_t> encode_manifest(uint64_t newest_segment_id);
// The newest segment id the manifest records. kCorruption for a damaged file (bad length,
// magic, checksum or reserved field, or id 0); kUnsupported for a newer version.
Result<uint64_t> decode_manifest(std::span<const uint8_t> bytes);

// The id `dir`'s manifest records, or nothing when there is no manifest (a store written
// before manifests existed, or a crash between its first segment and its first manifest).
// A damaged manifest is an error whose Error::file is its path.
Result<std::optional<uint64_t>> read_manifest(Fs& fs, const std::string& dir);

// Records `newest_segment_id` durably (a new file, fsynced, renamed over the old one).
// REQUIRES: that segment's file exists and its directory entry is durable, so the
// manifest never names a segment that a crash could take away.
Status write_manifest(Fs& fs, const std::string& dir, uint64_t newest_segment_id);

// The damage when `segment_ids` (ascending, as found in `dir`) lacks segments up to
// `manifest_newest`: the error names the first missing segment's file. Nothing otherwise.
std::optional<Error> missing_newest_segments(const std::string& dir, std::span<const uint64_t> segment_ids,
                                             uint64_t manifest_newest);

}  // namespace batpak::segment
