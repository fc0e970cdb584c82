#include "segment/segment_files.hpp"

#include <algorithm>
#include <cstdio>

#include "format/format.hpp"

namespace batpak::segment {

std::string segment_file_name(uint64_t segment_id) {
  char name[32];
  std::snprintf(name, sizeof(name), "%012llu%s", static_cast<unsigned long long>(segment_id),
                format::kSegmentSuffix);
  return name;
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  constexpr std::string_view suffix = format::kSegmentSuffix;
  if (name.size() != 12 + suffix.size() || !name.ends_with(suffix)) return std::nullopt;
  uint64_t id = 0;
  for (char c : name.substr(0, 12)) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(c - '0');
  }
  if (id == 0) return std::nullopt;
  return id;
}

Result<std::vector<uint64_t>> list_segment_ids(Fs& fs, const std::string& dir) {
  auto names = fs.list_dir(dir);
  if (!names) return tl::unexpected(names.error());
  std::vector<uint64_t> ids;
  for (const auto& name : *names) {
    if (auto id = parse_segment_file_name(name)) ids.push_back(*id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string join_path(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (!out.empty() && out.back() != '/') out += '/';
  out += name;
  return out;
}

}  // namespace batpak::segment
