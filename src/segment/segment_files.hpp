// Segment file naming and discovery. Internal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batpak/env.hpp"

namespace batpak::segment {

// "000000000042.seg" for segment 42.
std::string segment_file_name(uint64_t segment_id);
// The id of a segment file name, or nothing for any other name.
std::optional<uint64_t> parse_segment_file_name(std::string_view name);
// Segment ids present in `dir`, ascending.
Result<std::vector<uint64_t>> list_segment_ids(Fs& fs, const std::string& dir);
std::string join_path(const std::string& dir, std::string_view name);

// Segment checksums (index checkpoint, segment footers; docs/format.md) chain XXH3-64 over
// chunks of this many bytes.
inline constexpr uint64_t kChecksumChunkBytes = 4u << 20;
// The checksum of `file`'s bytes [0, end), read a window at a time into `buffer` (reuse it
// from file to file: a window that stays in the CPU cache makes the copy out of the page
// cache about the cost of the hash). A file shorter than `end` is kCorruption.
Result<uint64_t> checksum_of_prefix(File& file, uint64_t end, std::vector<uint8_t>& buffer);

}  // namespace batpak::segment
