#include "writer/fence_log.hpp"

#include <algorithm>

#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/durable_file.hpp"
#include "util/small_file.hpp"

namespace batpak::writer {
namespace {

// The body inside the small-file envelope (util/small_file.hpp): open_fence_start u64
// (0: none) | range count u32 | count x (start u64, end u64). Little-endian.
constexpr util::SmallFileFormat kFormat{kFenceFileMagic, kFenceFileVersion, "fence file"};
constexpr size_t kCountAt = 8;
constexpr size_t kRangesAt = 12;
constexpr size_t kRangeBytes = 16;

Error corrupt(const std::string& why) { return Error{ErrorCode::kCorruption, "fence file " + why, {}, 0, {}}; }

}  // namespace

std::vector<uint8_t> encode_fence_file(const FenceFileContents& contents) {
  std::vector<uint8_t> out;
  util::begin_small_file(out, kFormat);
  util::ByteWriter w(out);
  w.le<uint64_t>(contents.open_fence_start.value_or(0));
  w.le<uint32_t>(static_cast<uint32_t>(contents.cancelled.size()));
  for (const SequenceRange& r : contents.cancelled) {
    w.le<uint64_t>(r.start);
    w.le<uint64_t>(r.end);
  }
  util::seal_small_file(out);
  return out;
}

Result<FenceFileContents> decode_fence_file(std::span<const uint8_t> bytes) {
  auto opened = util::open_small_file(bytes, kFormat);
  if (!opened) return tl::unexpected(opened.error());
  const std::span<const uint8_t> body = *opened;
  if (body.size() < kRangesAt) return tl::unexpected(corrupt("has a bad length"));
  const uint32_t count = util::load_le<uint32_t>(body.data() + kCountAt);
  if (count > kFenceRangesMax || body.size() != kRangesAt + uint64_t{count} * kRangeBytes) {
    return tl::unexpected(corrupt("has a bad length"));
  }
  FenceFileContents out;
  if (const uint64_t start = util::load_le<uint64_t>(body.data()); start != 0) out.open_fence_start = start;
  uint64_t previous_end = 1;  // Sequences start at 1.
  for (uint32_t i = 0; i < count; ++i) {
    const uint8_t* at = body.data() + kRangesAt + size_t{i} * kRangeBytes;
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
  const uint64_t file_bytes_max =
      util::kSmallFileHeadBytes + kRangesAt + uint64_t{kFenceRangesMax} * kRangeBytes + util::kSmallFileSealBytes;
  auto bytes = util::read_small_file(*fs, path, file_bytes_max);
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

FenceFileContents FenceLog::contents() const {
  std::lock_guard lock(mu_);
  return contents_;
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
