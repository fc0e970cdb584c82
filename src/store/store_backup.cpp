// Store::backup: a copy of the journal up to one durable cut, built beside the destination
// and renamed into place (docs/durability.md, "Backups").
#include <sodium.h>

#include <algorithm>
#include <span>
#include <vector>

#include "segment/manifest.hpp"
#include "segment/segment_files.hpp"
#include "store/signing_record.hpp"
#include "store/store_impl.hpp"
#include "util/paths.hpp"

namespace batpak {
namespace {

constexpr size_t kCopyChunkBytes = 1u << 20;

// One segment's share of the copy: its first `bytes` bytes.
struct SegmentPart {
  uint64_t segment_id = 0;
  uint64_t bytes = 0;
};

// Where the copy ends: the journal's bytes up to it, and the fences as they stood there.
struct Cut {
  uint64_t last_sequence = 0;
  std::vector<SegmentPart> parts;
  writer::FenceFileContents fences;
};

// The cut of a store with a writer: the durable end, after a sync. Segments below the one
// holding it are sealed (the writer seals a segment before it writes the next one), so they
// are copied whole; the bytes before the durable end never change again.
Result<Cut> writer_cut(const Store::Impl& s) {
  auto durable = s.writer->durable_cut();
  if (!durable) return tl::unexpected(durable.error());
  Cut cut{durable->last_sequence, {}, std::move(durable->fences)};
  for (const segment::SegmentSet::Snapshot& segment : s.segments.snapshot()) {
    if (segment.segment_id > durable->segment_id) break;
    uint64_t bytes = durable->segment_end;
    if (segment.segment_id < durable->segment_id) {
      auto file = s.segments.file(segment.segment_id);
      if (!file) return tl::unexpected(file.error());
      auto size = (*file)->size();
      if (!size) return tl::unexpected(size.error());
      bytes = *size;
    }
    cut.parts.push_back({segment.segment_id, bytes});
  }
  return cut;
}

// The cut of a read-only store: everything it opened. Open set each segment's visible end
// to the end of its checked frames, hidden ones included.
Cut read_only_cut(const Store::Impl& s) {
  Cut cut{s.index.size(), {}, s.fence_log->contents()};
  for (const segment::SegmentSet::Snapshot& segment : s.segments.snapshot()) {
    cut.parts.push_back({segment.segment_id, segment.visible_end});
  }
  return cut;
}

Status copy_segment(Fs& fs, const segment::SegmentSet& segments, const SegmentPart& part, const std::string& to_path) {
  auto from = segments.file(part.segment_id);
  if (!from) return tl::unexpected(from.error());
  auto to = fs.open(to_path, Fs::OpenMode::kCreateReadWrite);
  if (!to) return tl::unexpected(to.error());
  std::vector<uint8_t> buffer(static_cast<size_t>(std::min<uint64_t>(kCopyChunkBytes, part.bytes)));
  for (uint64_t at = 0; at < part.bytes;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), part.bytes - at));
    auto got = (*from)->pread(at, {buffer.data(), want});
    if (!got) return tl::unexpected(got.error());
    if (*got == 0) {
      return make_error(ErrorCode::kIo, "segment " + std::to_string(part.segment_id) + " ended at " +
                                            std::to_string(at) + " before the backup's cut at " +
                                            std::to_string(part.bytes));
    }
    if (auto st = (*to)->pwrite(at, {buffer.data(), *got}); !st) return st;
    at += *got;
  }
  return (*to)->sync_all();
}

// A small file of the copy, written in place and fsynced: `partial` is renamed into place
// only after it is whole, and its directory is synced once for every file in it.
Status write_small_file(Fs& fs, const std::string& to_path, std::span<const uint8_t> bytes) {
  auto to = fs.open(to_path, Fs::OpenMode::kCreateReadWrite);
  if (!to) return tl::unexpected(to.error());
  if (auto st = (*to)->pwrite(0, bytes); !st) return st;
  return (*to)->sync_all();
}

Status write_fences(Fs& fs, const writer::FenceFileContents& fences, const std::string& to_path) {
  if (!fences.open_fence_start && fences.cancelled.empty()) return {};  // No file, as in a new store.
  return write_small_file(fs, to_path, writer::encode_fence_file(fences));
}

// The copy's keys file: every key the cut's events were sealed under is in it already.
Status write_keys(const crypto::Keyset& keyset, const BackupOptions& options, Fs& fs, const std::string& to_path) {
  std::vector<uint8_t> bytes = options.rewrap_keys ? keyset.encode_file_under(options.master_key) : keyset.encode_file();
  Status written = write_small_file(fs, to_path, bytes);
  sodium_memzero(bytes.data(), bytes.size());  // Unwrapped keys, when nothing wraps them.
  return written;
}

// Writes the copy into `partial`, durably, then renames it to `destination`.
Status write_copy(const Store::Impl& s, const Cut& cut, const BackupOptions& options, const std::string& partial,
                  const std::string& destination) {
  Fs& fs = *s.fs;
  if (auto st = fs.create_dir(partial); !st) return st;
  for (const SegmentPart& part : cut.parts) {
    const std::string path = segment::join_path(partial, segment::segment_file_name(part.segment_id));
    if (auto st = copy_segment(fs, s.segments, part, path); !st) return st;
  }
  if (auto st = write_fences(fs, cut.fences, segment::join_path(partial, writer::kFenceFileName)); !st) return st;
  if (s.horizon.dropped()) {  // The copy starts where this store does.
    const std::string path = segment::join_path(partial, index::kHorizonFileName);
    if (auto st = write_small_file(fs, path, index::encode_horizon(s.horizon)); !st) return st;
  }
  if (s.signing_record) {  // The copy signs as this store does.
    const std::string path = segment::join_path(partial, kSigningRecordFileName);
    if (auto st = write_small_file(fs, path, encode_signing_record(*s.signing_record)); !st) return st;
  }
  if (s.keyset) {
    if (auto st = write_keys(*s.keyset, options, fs, segment::join_path(partial, crypto::kKeysFileName)); !st) return st;
  }
  if (!cut.parts.empty()) {  // The copy is durable and whole: its own clean close.
    const segment::Manifest manifest{cut.parts.back().segment_id, cut.parts.back().bytes};
    const std::string path = segment::join_path(partial, segment::kManifestFileName);
    if (auto st = write_small_file(fs, path, segment::encode_manifest(manifest)); !st) return st;
  }
  if (auto st = fs.sync_dir(partial); !st) return st;
  if (auto st = fs.rename(partial, destination); !st) return st;
  return fs.sync_dir(util::parent_dir(destination));
}

Status check_options(const Store::Impl& s, const BackupOptions& options) {
  if (options.master_key && !options.rewrap_keys) {
    return make_error(ErrorCode::kInvalidArgument, "a master key for the backup needs rewrap_keys");
  }
  if (options.rewrap_keys && !s.keyset) {
    return make_error(ErrorCode::kInvalidArgument, "the store does not encrypt payloads: it has no keys to rewrap");
  }
  return {};
}

Status check_destination(const Store::Impl& s, const std::string& destination, const std::string& partial) {
  if (destination.empty()) return make_error(ErrorCode::kInvalidArgument, "the backup destination is empty");
  for (const std::string& path : {destination, partial}) {
    auto exists = s.fs->exists(path);
    if (!exists) return tl::unexpected(exists.error());
    if (*exists) {
      return make_error(ErrorCode::kInvalidArgument,
                        path + " exists: a backup goes to a new directory (remove a .partial one left by a "
                               "failed or interrupted backup)");
    }
  }
  return {};
}

}  // namespace

Result<BackupReport> Store::backup(const std::string& destination_dir, const BackupOptions& options) const {
  const Impl& s = *impl_;
  if (auto st = s.check_open(); !st) return tl::unexpected(st.error());
  if (s.options.access == AccessMode::kSalvage) {
    return make_error(ErrorCode::kUnsupported,
                      "a store opened in salvage mode is not backed up: export its events and import them "
                      "into a new store (docs/cli.md)");
  }
  const std::string destination = util::without_trailing_slashes(destination_dir);
  const std::string partial = destination + ".partial";
  if (auto st = check_options(s, options); !st) return tl::unexpected(st.error());
  if (auto st = check_destination(s, destination, partial); !st) return tl::unexpected(st.error());
  Result<Cut> cut = s.writer ? writer_cut(s) : read_only_cut(s);
  if (!cut) return tl::unexpected(cut.error());
  if (auto st = write_copy(s, *cut, options, partial, destination); !st) return tl::unexpected(st.error());
  BackupReport report{cut->last_sequence, cut->parts.size(), 0};
  for (const SegmentPart& part : cut->parts) report.bytes += part.bytes;
  return report;
}

}  // namespace batpak
