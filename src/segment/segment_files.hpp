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

}  // namespace batpak::segment
