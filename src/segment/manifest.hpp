// The manifest: the id of the newest segment the store has created, so that an open can
// tell when the newest segment files are gone, and where that segment's data ended at the
// last clean close, so that an open can tell lost acknowledged bytes from a torn write
// (docs/format.md, "The manifest"). Internal.
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

struct Manifest {
  uint64_t newest_segment_id = 0;  // Never 0.
  // 0, or the end of that segment's data at the store's last clean close: every byte
  // before it was durable and acknowledged then, and stays so (segments only grow).
  uint64_t clean_end = 0;
  friend bool operator==(const Manifest&, const Manifest&) = default;
};

std::vector<uint8_t> encode_manifest(const Manifest& manifest);
// kCorruption for a damaged file (bad length, magic, checksum or reserved field, or
// segment id 0); kUnsupported for a newer version.
Result<Manifest> decode_manifest(std::span<const uint8_t> bytes);

// `dir`'s manifest, or nothing when there is none (a store written before manifests
// existed, or a crash between its first segment and its first manifest). A damaged
// manifest is an error whose Error::file is its path.
Result<std::optional<Manifest>> read_manifest(Fs& fs, const std::string& dir);

// Replaces the manifest durably (a new file, fsynced, renamed over the old one).
// REQUIRES: the named segment's file exists and its directory entry is durable, so the
// manifest never names a segment that a crash could take away; its bytes up to
// `clean_end` are durable.
Status write_manifest(Fs& fs, const std::string& dir, const Manifest& manifest);

// The damage when `segment_ids` (ascending, as found in `dir`) lacks segments up to
// `manifest_newest`: the error names the first missing segment's file. Nothing otherwise.
std::optional<Error> missing_newest_segments(const std::string& dir, std::span<const uint64_t> segment_ids,
                                             uint64_t manifest_newest);

}  // namespace batpak::segment
