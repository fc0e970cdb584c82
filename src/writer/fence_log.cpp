#include "writer/fence_log.hpp"

#include <algorithm>

#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/hash.hpp"

namespace batpak::writer {
namespace {

// Layout: magic u32 | version u16 | reserved u16 (0) | open_fence_start u64 (0: none) |
// range count u32 | count x (start u64, end u64) | XXH3-64 u64 of everything before it.
// All little-endian.
constexpr size_t kHeaderBytes = 20;
constexpr size_t kRangeBytes = 16;
constexpr size_t kChecksumBytes = 8;

Error corrupt(const std::string& why) { return Error{ErrorCode::kCorruption, "fence file " + why, {}, 0, {}}; }

}  // namespace

std::vector<uint8_t> encode_fence_file(const FenceFileContents& contents) {
  std::vector<uint8_t> out;
  util::ByteWriter w(out);
  w.le<uint32_t>(kFenceFileMagic);
  w.le<uint16_t>(kFenceFileVersion);
  w.le<uint16_t>(0);
  w.le<uint64_t>(contents.open_fence_start.value_or(0));
  w.le<uint32_t>(static_cast<uint32_t>(contents.cancelled.size()));
  for (const SequenceRange& r : contents.cancelled) {
    w.le<uint64_t>(r.start);
    w.le<uint64_t>(r.end);
  }
  w.le<uint64_t>(util::checksum64(out));
  return out;
}

Result<FenceFileContents> decode_fence_file(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes + kChecksumBytes) return tl::unexpected(corrupt("is truncated"));
  if (util::load_le<uint32_t>(bytes.data()) != kFenceFileMagic) return tl::unexpected(corrupt("has a bad magic"));
  const uint32_t count = util::load_le<uint32_t>(bytes.data() + 16);
  if (count > kFenceRangesMax || bytes.size() != kHeaderBytes + uint64_t{count} * kRangeBytes + kChecksumBytes) {
    return tl::unexpected(corrupt("has a bad length"));
  }
  const size_t checksum_at = bytes.size() - kChecksumBytes;
  if (util::load_le<uint64_t>(bytes.data() + checksum_at) != util::checksum64(bytes.first(checksum_at))) {
    return tl::unexpected(corrupt("checksum mismatch"));
  }
  const uint16_t version = util::load_le<uint16_t>(bytes.data() + 4);
  if (version > kFenceFileVersion) {
    return make_error(ErrorCode::kUnsupported, "fence file version " + std::to_string(version) +
                                                   " is newer than this library's " + std::to_string(kFenceFileVersion));
  }
  if (version == 0 || util::load_le<uint16_t>(bytes.data() + 6) != 0) {
    return tl::unexpected(corrupt("has a bad version or reserved field"));
  }
  FenceFileContents out;
  if (const uint64_t start = util::load_le<uint64_t>(bytes.data() + 8); start != 0) out.open_fence_start = start;
  uint64_t previous_end = 1;  // Sequences start at 1.
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* at = bytes.data() + kHeaderBytes + size_t{i} * kRangeBytes;
    const SequenceRange r{util::load_le<uint64_t>(at), util::load_le<uint64_t>(at + 8)};
    if (r.start < previous_end || r.end <= r.start) {
      return tl::unexpected(corrupt("has an empty, unsorted or overlapping range"));
    }
    out.cancelled.push_back(r);
    previous_end = r.end;
  }
  if (out.open_fence_start && *out.open_fence_start < previous_end) {
    return tl::unexpected(corrupt("has an open fence inside a cancelled range"));
  }
  return out;
}

Result<std::unique_ptr<FenceLog>> FenceLog::load(std::shared_ptr<Fs> fs, std::string dir) {
  const std::string path = segment::join_path(dir, kFenceFileName);
  auto bytes = util::read_small_file(*fs, path, kHeaderBytes + uint64_t{kFenceRangesMax} * kRangeBytes + kChecksumBytes);
  if (!bytes) return tl::unexpected(bytes.error());
  FenceFileContents contents;
  if (*bytes) {
    auto decoded = decode_fence_file(**bytes);
    if (!decoded) {
      Error e = decoded.error();
      e.file = path;
      return tl::unexpected(std::move(e));
    }
    contents = std::move(*decoded);
  }
  return std::unique_ptr<FenceLog>(new FenceLog(std::move(fs), std::move(dir), std::move(contents)));
}

bool FenceLog::hidden(uint64_t global_sequence) const {
  std::lock_guard lock(mu_);
  if (contents_.open_fence_start && global_sequence >= *contents_.open_fence_start) return true;
  const auto& ranges = contents_.cancelled;
  auto it = std::upper_bound(ranges.begin(), ranges.end(), global_sequence,
                             [](uint64_t seq, const SequenceRange& r) { return seq < r.start; });
  return it != ranges.begin() && global_sequence < std::prev(it)->end;
}

std::vector<SequenceRange> FenceLog::cancelled() const {
  std::lock_guard lock(mu_);
  return contents_.cancelled;
}

std::optional<uint64_t> FenceLog::open_fence_start() const {
  std::lock_guard lock(mu_);
  return contents_.open_fence_start;
}

Status FenceLog::persist(const FenceFileContents& next) {
  const std::vector<uint8_t> bytes = encode_fence_file(next);
  if (auto s = util::replace_file_durably(*fs_, dir_, segment::join_path(dir_, kFenceFileName), bytes); !s) return s;
  contents_ = next;
  return {};
}

Status FenceLog::record_open(uint64_t start) {
  std::lock_guard lock(mu_);
  if (contents_.cancelled.size() >= kFenceRangesMax) {
    return make_error(ErrorCode::kTooLarge, "the store holds the most cancelled fence ranges it can record");
  }
  FenceFileContents next = contents_;
  next.open_fence_start = start;
  return persist(next);
}

Status FenceLog::record_committed() {
  std::lock_guard lock(mu_);
  FenceFileContents next = contents_;
  next.open_fence_start.reset();
  return persist(next);
}

Status FenceLog::record_cancelled(uint64_t end) {
  std::lock_guard lock(mu_);
  FenceFileContents next = contents_;
  const uint64_t start = next.open_fence_start.value_or(end);
  next.open_fence_start.reset();
  if (start < end && !next.cancelled.empty() && next.cancelled.back().end == start) {
    next.cancelled.back().end = end;  // Adjacent to the last cancelled fence: one range.
  } else if (start < end) {
    next.cancelled.push_back(SequenceRange{start, end});
  }
  return persist(next);
}

}  // namespace batpak::writer
