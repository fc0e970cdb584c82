#include "segment/segment_files.hpp"

#include <algorithm>
#include <cstdio>

#include "format/format.hpp"
#include "util/hash.hpp"

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

Result<uint64_t> checksum_of_prefix(File& file, uint64_t end, std::vector<uint8_t>& buffer) {
  constexpr size_t kReadBytes = 256u << 10;
  const auto window = static_cast<size_t>(std::min<uint64_t>(kReadBytes, end));
  if (buffer.size() < window) buffer.resize(window);
  util::ChunkedChecksum64 checksum(kChecksumChunkBytes);
  for (uint64_t at = 0; at < end;) {
    const std::span<uint8_t> read(buffer.data(), static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - at)));
    auto got = file.pread(at, read);
    if (!got) return tl::unexpected(got.error());
    if (*got != read.size()) return make_error(ErrorCode::kCorruption, "a segment file is shorter than the bytes to checksum");
    checksum.update(read);
    at += read.size();
  }
  return checksum.digest();
}

}  // namespace batpak::segment
