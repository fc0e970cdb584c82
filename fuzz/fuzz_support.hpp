// Shared pieces of the fuzz targets: an in-memory File and Fs, and a checksum/chain fixer
// that lets the fuzzer reach the code behind the checksums. Fuzzing only; not installed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "batpak/env.hpp"
#include "batpak/options.hpp"
#include "format/format.hpp"
#include "format/record.hpp"
#include "segment/segment_files.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::fuzz {

using Bytes = std::vector<uint8_t>;

// A File over a shared in-memory buffer. pread is short only at the end, like POSIX.
class MemoryFile final : public File {
 public:
  explicit MemoryFile(std::shared_ptr<Bytes> bytes, bool writable = false)
      : bytes_(std::move(bytes)), writable_(writable) {}
  Result<size_t> pread(uint64_t offset, std::span<uint8_t> data) override {
    std::lock_guard lock(mu_);
    if (offset >= bytes_->size()) return size_t{0};
    const size_t n = std::min<size_t>(data.size(), bytes_->size() - offset);
    std::memcpy(data.data(), bytes_->data() + offset, n);
    return n;
  }
  Status pwrite(uint64_t offset, std::span<const uint8_t> data) override {
    if (!writable_) return read_only();
    std::lock_guard lock(mu_);
    if (bytes_->size() < offset + data.size()) bytes_->resize(offset + data.size(), 0);
    if (!data.empty()) std::memcpy(bytes_->data() + offset, data.data(), data.size());
    return {};
  }
  Status sync() override { return {}; }
  Status sync_all() override { return {}; }
  Status truncate(uint64_t size) override {
    if (!writable_) return read_only();
    std::lock_guard lock(mu_);
    bytes_->resize(size, 0);
    return {};
  }
  Result<uint64_t> size() override {
    std::lock_guard lock(mu_);
    return bytes_->size();
  }

 private:
  static Status read_only() { return make_error(ErrorCode::kIo, "file opened read-only"); }
  std::mutex mu_;
  std::shared_ptr<Bytes> bytes_;
  bool writable_;
};

// A flat in-memory file system: one map from full path to contents.
class MemoryFs final : public Fs {
 public:
  void put(const std::string& path, Bytes bytes) {
    std::lock_guard lock(mu_);
    files_[path] = std::make_shared<Bytes>(std::move(bytes));
  }
  std::shared_ptr<Bytes> get(const std::string& path) {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    return it == files_.end() ? nullptr : it->second;
  }
  Result<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) {
      if (mode != OpenMode::kCreateReadWrite) return make_error(ErrorCode::kNotFound, "no file " + path);
      it = files_.emplace(path, std::make_shared<Bytes>()).first;
    }
    return std::unique_ptr<File>(new MemoryFile(it->second, mode != OpenMode::kRead));
  }
  Status create_dir(const std::string& path) override {
    std::lock_guard lock(mu_);
    dirs_.insert(path);
    return {};
  }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> names;
    const std::string prefix = dir + "/";
    for (const auto& [path, bytes] : files_) {
      if (path.starts_with(prefix)) names.push_back(path.substr(prefix.size()));
    }
    return names;
  }
  // A file, a created directory, or a directory implied by a file under it.
  Result<bool> exists(const std::string& path) override {
    std::lock_guard lock(mu_);
    if (files_.contains(path) || dirs_.contains(path)) return true;
    auto after = files_.upper_bound(path + "/");
    return after != files_.end() && after->first.starts_with(path + "/");
  }
  Status remove(const std::string& path) override {
    std::lock_guard lock(mu_);
    files_.erase(path);
    return {};
  }
  Status rename(const std::string& from, const std::string& to) override {
    std::lock_guard lock(mu_);
    auto it = files_.find(from);
    if (it == files_.end()) return make_error(ErrorCode::kNotFound, "no file " + from);
    files_[to] = it->second;
    files_.erase(from);
    return {};
  }
  Status sync_dir(const std::string&) override { return {}; }
  Result<std::unique_ptr<FileLock>> lock(const std::string&) override {
    return std::unique_ptr<FileLock>(new FileLock());
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Bytes>> files_;
  std::set<std::string> dirs_;
};

// Per-entity chain state carried across segments by fix_segment().
struct ChainFixer {
  uint64_t next_sequence = 1;
  struct Head {
    uint32_t clock = 0;
    Hash32 event_hash;
    uint64_t wall_ms = 0;
  };
  std::unordered_map<std::string, Head> heads;
};

// Rewrites a segment in place so that its checksums hold (level >= 1): the header's id and
// checksum and, for every frame that parses as far as its length, its checksum. At level 2
// every decodable record is also made to continue the chain (global sequence, clock, wall_ms,
// prev_hash, content_hash, event_hash) and to hold a plaintext payload (a sealed one would
// need a keys file) before its checksum is recomputed. Stops at the first
// frame it cannot follow.
inline void fix_segment(Bytes& seg, uint64_t segment_id, int level, ChainFixer& chain) {
  using namespace batpak::format;
  using util::load_le;
  using util::store_le;
  if (level <= 0 || seg.size() < kSegmentHeaderBytes) return;
  store_le<uint64_t>(seg.data() + kSegIdAt, segment_id);
  store_le<uint64_t>(seg.data() + kSegChecksumAt, util::checksum64({seg.data(), kSegChecksumAt}));
  for (uint64_t at = kSegmentHeaderBytes; at + kFrameHeaderBytes <= seg.size();) {
    uint8_t* frame = seg.data() + at;
    const uint32_t record_bytes = frame_record_bytes({frame, kFrameHeaderBytes});
    if (record_bytes < kRecordFixedBytes || at + kFrameHeaderBytes + record_bytes > seg.size()) return;
    uint8_t* rec = frame + kFrameHeaderBytes;
    if (level >= 2) {
      auto view = decode_record({rec, record_bytes});
      if (view) {
        const std::string entity(view->entity);
        ChainFixer::Head& head = chain.heads[entity];
        EventHeader h = view->header;
        h.global_sequence = chain.next_sequence++;
        h.clock = head.clock + 1;
        h.wall_ms = std::max(h.wall_ms, head.wall_ms);
        h.prev_hash = head.event_hash;
        h.content_hash = util::blake3(view->payload);
        h.payload_encrypted = false;
        h.event_hash = compute_event_hash(h, view->entity, view->scope);
        head = ChainFixer::Head{h.clock, h.event_hash, h.wall_ms};
        store_le<uint64_t>(rec + kRecGlobalSequenceAt, h.global_sequence);
        store_le<uint32_t>(rec + kRecStoreFlagsAt, 0);
        store_le<uint32_t>(rec + kRecClockAt, h.clock);
        store_le<uint64_t>(rec + kRecWallMsAt, h.wall_ms);
        std::memcpy(rec + kRecPrevHashAt, h.prev_hash.bytes.data(), 32);
        std::memcpy(rec + kRecContentHashAt, h.content_hash.bytes.data(), 32);
        std::memcpy(rec + kRecEventHashAt, h.event_hash.bytes.data(), 32);
      }
    }
    store_le<uint64_t>(frame + kFrameChecksumAt,
                       util::checksum64({frame + kFrameMagicAt, 8 + size_t{record_bytes}}));
    at += util::align8(kFrameHeaderBytes + record_bytes);
  }
}

// The clock of every fuzz store: fixed, so that a run depends on its input alone.
class FixedClock final : public Clock {
 public:
  int64_t now_us() override { return 1'767'225'600'000'000; }
};

// The XXH3-64 of a segment's first `end` bytes as checkpoints and footers record it.
inline uint64_t segment_prefix_checksum(const Bytes& segment, uint64_t end) {
  util::ChunkedChecksum64 checksum(segment::kChecksumChunkBytes);
  checksum.update({segment.data(), end});
  return checksum.digest();
}

// The options of every fuzz store: in `fs`, on the fixed clock, with small segments (so
// that a few events rotate), little preallocation, and the fewest open segment files (so
// that reads of a store of several segments close and reopen them).
inline StoreOptions memory_store_options(std::shared_ptr<Fs> fs) {
  StoreOptions o;
  o.fs = std::move(fs);
  o.clock = std::make_shared<FixedClock>();
  o.preallocate_bytes = 256;
  o.segment_bytes_max = 4096;
  o.open_segment_files_max = 2;
  return o;
}

// Rewrites the last 8 bytes of a checkpoint or footer as the XXH3-64 of the bytes before.
inline void forge_trailer_checksum(Bytes& file) {
  const size_t trailer_at = file.size() - 8;
  util::store_le<uint64_t>(file.data() + trailer_at, util::checksum64({file.data(), trailer_at}));
}

// Rewrites a segment footer's checksums so that they hold (docs/format.md, "Segment
// footers"): that of `segment`, when the footer's segment bytes are within it, then its own.
inline void forge_footer_checksums(Bytes& footer, const Bytes& segment) {
  constexpr size_t kHeaderBytes = 64;
  if (footer.size() < kHeaderBytes + 8) return;
  const uint64_t segment_bytes = util::load_le<uint64_t>(footer.data() + 24);
  if (segment_bytes <= segment.size()) {
    util::store_le<uint64_t>(footer.data() + 32, segment_prefix_checksum(segment, segment_bytes));
  }
  forge_trailer_checksum(footer);
}

// Rewrites an index checkpoint's checksums so that they hold (docs/format.md, "Index
// checkpoint"): each segment-table entry's, for the first `segments` it names with a covered
// end inside that segment, then the file's own. Lets the fuzzer reach what open does with a
// checkpoint it trusts.
inline void forge_checkpoint_checksums(Bytes& checkpoint, const std::vector<Bytes>& segments) {
  using util::load_le;
  constexpr size_t kTableAt = 48, kEntryBytes = 24, kTrailerBytes = 8;
  if (checkpoint.size() < kTableAt + kTrailerBytes) return;
  const uint32_t count = load_le<uint32_t>(checkpoint.data() + 24);
  for (size_t k = 0; k < count && k < segments.size(); ++k) {
    uint8_t* entry = checkpoint.data() + kTableAt + kEntryBytes * k;
    if (entry + kEntryBytes > checkpoint.data() + checkpoint.size() - kTrailerBytes) break;
    const uint64_t id = load_le<uint64_t>(entry);
    const uint64_t covered_end = load_le<uint64_t>(entry + 8);
    if (id == 0 || id > segments.size() || covered_end > segments[id - 1].size()) continue;
    util::store_le<uint64_t>(entry + 16, segment_prefix_checksum(segments[id - 1], covered_end));
  }
  forge_trailer_checksum(checkpoint);
}

}  // namespace batpak::fuzz
