// Store open: option checks, the directory lock, recovery scan, writer start.
#include <algorithm>
#include <chrono>

#include "format/format.hpp"
#include "index/chain_check.hpp"
#include "segment/manifest.hpp"
#include "segment/scan.hpp"
#include "segment/segment_files.hpp"
#include "store/signing_record.hpp"
#include "store/store_impl.hpp"
#include "util/paths.hpp"
#include "util/wall_time.hpp"

namespace batpak {
namespace {

Status check_options(const StoreOptions& o) {
  auto bad = [](const std::string& why) { return make_error(ErrorCode::kInvalidArgument, why); };
  if (o.sync_every_events == 0) return bad("sync_every_events must be > 0");
  if (o.sync_every_ms == 0) return bad("sync_every_ms must be > 0");
  if (o.segment_bytes_max < 4096 || o.segment_bytes_max > (16ull << 30)) {
    return bad("segment_bytes_max must be within 4 KiB .. 16 GiB");
  }
  if (o.payload_bytes_max == 0 || o.payload_bytes_max > format::kPayloadBytesLimit) {
    return bad("payload_bytes_max must be within 1 .. 256 MiB");
  }
  if (o.batch_events_max == 0 || o.batch_events_max > 65536) {
    return bad("batch_events_max must be within 1 .. 65536");
  }
  if (o.batch_bytes_max == 0) return bad("batch_bytes_max must be > 0");
  if (o.open_segment_files_max < segment::kOpenSegmentFilesMaxMin) return bad("open_segment_files_max must be >= 2");
  if (o.tail_ring_bytes < writer::kTailRingBytesMin || o.tail_ring_bytes > writer::kTailRingBytesMax || o.tail_ring_bytes % 4096 != 0) {
    return bad("tail_ring_bytes must be a multiple of 4096 within 64 KiB .. 1 GiB");
  }
  if (o.async_queue_bytes_max < kAsyncQueueBytesMin || o.async_queue_bytes_max > kAsyncQueueBytesMax) {
    return bad("async_queue_bytes_max must be within 64 KiB .. 16 GiB");
  }
  return {};
}

// Copies the torn bytes of the newest segment beside it, durably, then cuts them off.
Status save_and_cut_torn_tail(Store::Impl& s, File& file, const std::string& path,
                              const segment::TornTail& torn, OpenReport& report) {
  std::vector<uint8_t> bytes(torn.end - torn.offset);
  auto got = file.pread(torn.offset, bytes);
  if (!got) return tl::unexpected(got.error());
  bytes.resize(*got);
  const std::string saved = path + format::kTornSuffix + "-" + std::to_string(torn.offset);
  auto out = s.fs->open(saved, Fs::OpenMode::kCreateReadWrite);
  if (!out) return tl::unexpected(out.error());
  if (auto st = (*out)->truncate(0); !st) return st;
  if (auto st = (*out)->pwrite(0, bytes); !st) return st;
  if (auto st = (*out)->sync_all(); !st) return st;
  if (auto st = s.fs->sync_dir(s.dir); !st) return st;
  if (auto st = file.truncate(torn.offset); !st) return st;
  if (auto st = file.sync_all(); !st) return st;
  report.torn_tail_saved_as = saved;
  return {};
}

}  // namespace

Status note_footer_due(Store::Impl& s, uint64_t segment_id, bool footer_invalid) {
  if (s.options.access != AccessMode::kReadWrite || !s.options.segment_footers) return {};
  if (!footer_invalid) {
    auto exists = segment_footer_exists(s, segment_id);
    if (!exists) return tl::unexpected(exists.error());
    if (*exists) return {};
  }
  s.background.footers_due.push_back(segment_id);
  return {};
}

namespace {

// After a clean close the newest segment's data reached the manifest's clean_end durably,
// and segments only grow: data that ends before it now (a cut file, or damage that would
// pass for a torn write) lost acknowledged events.
std::optional<Error> lost_before_clean_end(const std::string& path, uint64_t segment_id, const segment::SegmentScan& scan,
                                           const std::optional<segment::Manifest>& manifest) {
  if (!manifest || manifest->newest_segment_id != segment_id) return std::nullopt;
  const uint64_t end = scan.torn ? std::min(scan.torn->offset, scan.data_end) : scan.data_end;
  if (end >= manifest->clean_end) return std::nullopt;
  return Error{ErrorCode::kCorruption,
               "the newest segment's data ends at " + std::to_string(end) + ", before " +
                   std::to_string(manifest->clean_end) + " where it ended at the store's last clean close",
               path, end, {}};
}

// Where `ids`, which should run on from `first_id`, first skip one: the index of the first id
// after the gap, or ids.size() when there is no gap.
size_t first_gap(const std::vector<uint64_t>& ids, uint64_t first_id) {
  size_t i = 0;
  while (i < ids.size() && ids[i] == first_id + i) ++i;
  return i;
}

// Damage found in a sealed segment, noting when the manifest still names that segment as
// the newest: a rotation seals (and trims) a segment before it creates and records the next,
// so the segment files after it were not made by one (stray files, most likely).
Error noting_unrecorded_successors(Error e, uint64_t id, bool newest,
                                   const std::optional<segment::Manifest>& manifest) {
  if (!newest && manifest && manifest->newest_segment_id == id) {
    e.message += " (the manifest names segment " + std::to_string(id) +
                 " as the newest: no rotation recorded the segment files after it)";
  }
  return e;
}

// Scans every segment into the index, checking the chain with `checker`. Applies the
// torn-tail and salvage rules of docs/durability.md, and the manifest's clean end.
Result<Recovered> recover(Store::Impl& s, std::vector<uint64_t> ids, const std::optional<segment::Manifest>& manifest,
                          index::ChainChecker& checker) {
  const bool writable = s.options.access == AccessMode::kReadWrite;
  const bool salvage = s.options.access == AccessMode::kSalvage;
  Recovered rec;
  const uint64_t first_id = s.horizon.first_segment_id;
  if (s.horizon.dropped() && ids.empty()) {
    return tl::unexpected(Error{ErrorCode::kCorruption,
                                "segment " + std::to_string(first_id) + ", the first after the history horizon, is missing",
                                s.segments.path(first_id), 0, {}});
  }
  // A gap is damage found before anything is read (docs/durability.md), so it is named even
  // when the segment before it would fail first as sealed: other modes refuse; salvage opens
  // the segments before it, the last of them as the newest, and reports the gap.
  std::optional<Error> gap;
  if (const size_t gap_at = first_gap(ids, first_id); gap_at < ids.size()) {
    gap = Error{ErrorCode::kCorruption, "segment " + std::to_string(first_id + gap_at) + " is missing",
                s.segments.path(first_id + gap_at), 0, {}};
    if (!salvage) return tl::unexpected(std::move(*gap));
    ids.resize(gap_at);
  }
  // Dropped history (docs/retention.md): the index and the chain check start at the horizon.
  rec.wall_ms_max = s.horizon.wall_ms_max;
  checker.resume(s.horizon.first_sequence, s.horizon.heads);
  const std::optional<index::CheckpointMeta> checkpoint = load_index_checkpoint(s, ids);
  if (!checkpoint) s.index.start_after_horizon(s.horizon.first_sequence, s.horizon.heads);
  const size_t covered_count = checkpoint ? checkpoint->segments.size() : 0;
  bool checker_behind = false;  // Footers added events the checker has not seen.
  FooterLoadBuffers footer_buffers;
  if (checkpoint) {
    checker.resume(s.index.size() + 1, s.index.heads());
    rec.wall_ms_max = std::max(rec.wall_ms_max, checkpoint->wall_ms_max);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const uint64_t id = ids[i];
    const std::string path = s.segments.path(id);
    const bool newest = i + 1 == ids.size();
    auto corrupt_here = [&](uint64_t offset, std::string why) {
      return Error{ErrorCode::kCorruption, std::move(why), path, offset, {}};
    };
    // Salvage keeps what was read before the damage; other modes refuse to open.
    auto stop = [&](Error e, const std::shared_ptr<File>& file) -> Result<Recovered> {
      if (!salvage || e.code != ErrorCode::kCorruption) return tl::unexpected(std::move(e));
      if (file) s.segments.add(id, file, e.offset);
      s.report.salvage_stopped_at = std::move(e);
      return rec;
    };
    if (i + 1 < covered_count) {
      // Sealed and wholly covered by the checkpoint, whose load just read and checksummed
      // it: nothing to read, and no need to hold it open (SegmentSet opens it when read).
      // Never the newest segment: the last one the checkpoint covers is scanned below.
      const uint64_t end = checkpoint->segments[i].covered_end;
      s.segments.add(id, nullptr, end);
      rec = Recovered{id, nullptr, end, rec.wall_ms_max};
      ++s.report.segments;
      continue;
    }
    auto opened = s.fs->open(path, writable && newest ? Fs::OpenMode::kReadWrite : Fs::OpenMode::kRead);
    if (!opened) return tl::unexpected(opened.error());
    std::shared_ptr<File> file = std::move(*opened);
    auto size = file->size();
    if (!size) return tl::unexpected(size.error());
    if (!newest && i >= covered_count && s.options.segment_footers) {  // Sealed, not covered at all.
      const SegmentFooterLoad footer = load_segment_footer(s, id, *file, *size, footer_buffers);
      if (footer.loaded) {
        s.segments.add(id, file, *size);
        rec = Recovered{id, file, *size, std::max(rec.wall_ms_max, footer.wall_ms_max)};
        ++s.report.segments;
        ++s.report.segments_from_footers;
        checker_behind = true;
        continue;
      }
      s.report.segment_footer_fallbacks.push_back(footer.why_not);
      if (auto st = note_footer_due(s, id, /*footer_invalid=*/true); !st) return tl::unexpected(st.error());
    } else if (!newest) {  // Sealed, the checkpoint covers its start.
      if (auto st = note_footer_due(s, id, /*footer_invalid=*/false); !st) return tl::unexpected(st.error());
    }
    if (checker_behind) {
      checker.resume(s.index.size() + 1, s.index.heads());
      checker_behind = false;
    }
    const uint64_t start = i < covered_count ? checkpoint->segments[i].covered_end : 0;
    segment::ScanTarget target{file.get(), path, id, newest, *size, start};
    auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      const EventHeader& h = f.record.header;
      ++s.report.frames_scanned;
      if (auto broken = checker.check_and_advance(f.record)) {
        return tl::unexpected(corrupt_here(
            f.offset, *broken + " (global sequence " + std::to_string(h.global_sequence) + ")"));
      }
      rec.wall_ms_max = std::max(rec.wall_ms_max, h.wall_ms);
      if (checker.last_hidden()) {
        s.index.add_hidden();
        return {};
      }
      s.index.add_deferring_id(f.record.entity, f.record.scope,
                  index::Entry{h.event_id, id, f.offset, h.wall_ms, f.frame_bytes, h.clock, h.kind},
                  h.event_hash);
      return {};
    });
    if (!scan) return stop(noting_unrecorded_successors(scan.error(), id, newest, manifest), file);
    if (newest) {
      if (auto lost = lost_before_clean_end(path, id, *scan, manifest)) return stop(std::move(*lost), file);
    }
    if (scan->torn) {
      s.report.torn_tail = true;
      s.report.torn_tail_file = path;
      s.report.torn_tail_offset = scan->torn->offset;
      s.report.torn_tail_bytes = scan->torn->end - scan->torn->offset;
      if (writable) {
        if (auto st = save_and_cut_torn_tail(s, *file, path, *scan->torn, s.report); !st) {
          return tl::unexpected(st.error());
        }
      }
    }
    s.segments.add(id, file, scan->data_end);
    rec = Recovered{id, file, scan->data_end, rec.wall_ms_max};
    ++s.report.segments;
  }
  if (gap) s.report.salvage_stopped_at = std::move(gap);
  return rec;
}

// What the manifest says of the segment files found. Newer segments recorded than found, or
// a damaged manifest, refuse the open; kSalvage opens anyway and keeps the damage for its
// report.
struct ManifestCheck {
  std::optional<segment::Manifest> recorded;
  std::optional<Error> damage;  // kSalvage only.
};

// REQUIRES: `recorded` was read before `ids` were listed: a writer records a new segment in
// the manifest only after creating its file, so a snapshot never finds one missing.
Result<ManifestCheck> check_manifest(const Store::Impl& s, const std::vector<uint64_t>& ids,
                                     Result<std::optional<segment::Manifest>> recorded) {
  ManifestCheck out;
  // With history dropped and no segment at or above the horizon, recover() names the first
  // segment the horizon expects, which says more than the manifest's count of missing ones.
  const bool horizon_segment_missing = s.horizon.dropped() && ids.empty();
  if (recorded) {
    out.recorded = *recorded;
    if (*recorded && !horizon_segment_missing) {
      out.damage = segment::missing_newest_segments(s.dir, ids, (*recorded)->newest_segment_id);
    }
  } else if (recorded.error().code == ErrorCode::kCorruption) {
    out.damage = recorded.error();
  } else {
    return tl::unexpected(recorded.error());
  }
  if (out.damage && s.options.access != AccessMode::kSalvage) return tl::unexpected(*out.damage);
  return out;
}

// REQUIRES: `manifest` is what the manifest recorded before recovery.
Status start_writer(Store::Impl& s, const Recovered& rec, const std::optional<segment::Manifest>& manifest) {
  auto io = std::make_unique<writer::SegmentIo>(*s.fs, s.dir, s.segments, s.options.preallocate_bytes);
  const auto now_ms = util::wall_ms_of(s.clock->now_us());
  if (rec.newest_file == nullptr || rec.newest_data_end < format::kSegmentHeaderBytes) {
    // No segment yet, or the newest one's header was torn: (re)create it.
    if (auto st = io->create(rec.newest_file ? rec.newest_id : 1, now_ms); !st) return st;
  } else {
    // Recovered bytes may still sit in the page cache only: make them durable first.
    if (auto st = rec.newest_file->sync(); !st) return st;
    // A store from before manifests, or a crash between a segment's creation and its
    // manifest, has no manifest naming its newest segment yet.
    if (!manifest || manifest->newest_segment_id < rec.newest_id) {
      if (auto st = segment::write_manifest(*s.fs, s.dir, {rec.newest_id, 0}); !st) return st;
    }
    io->adopt(rec.newest_id, rec.newest_file, rec.newest_data_end);
  }
  writer::WriterConfig config{s.options.durability, s.options.sync_every_events,
                              s.options.sync_every_ms, s.options.segment_bytes_max,
                              s.options.async_queue_bytes_max, s.clock.get(),
                              s.notifier.get(), s.watermarks.get(), s.fence_log.get()};
  auto tail_ring = make_tail_ring(s);
  if (!tail_ring) return tl::unexpected(tail_ring.error());
  s.writer = std::make_unique<writer::Writer>(config, s.index, s.segments, std::move(io), std::move(*tail_ring));
  return {};
}

// Checks the fence file against the recovered journal, and cancels a fence a crash left
// open (its events are already hidden). A range past the journal's end means lost events
// the file says were durable: refuse, unless salvaging.
Status settle_fences(Store::Impl& s) {
  const uint64_t next_sequence = s.index.size() + 1;
  const std::vector<SequenceRange> cancelled = s.fence_log->cancelled();
  const bool beyond_end = s.fence_log->open_fence_start().value_or(0) > next_sequence ||
                          std::any_of(cancelled.begin(), cancelled.end(),
                                      [&](const SequenceRange& r) { return r.end > next_sequence; });
  if (beyond_end && s.options.access != AccessMode::kSalvage) {
    return tl::unexpected(Error{ErrorCode::kCorruption,
                                "the fence file covers global sequences beyond the journal's last event " +
                                    std::to_string(next_sequence - 1),
                                segment::join_path(s.dir, writer::kFenceFileName), 0, {}});
  }
  // A snapshot's open fence is a live one: its events stay hidden, and its writer ends it.
  if (!s.fence_log->open_fence_start() || s.options.access == AccessMode::kReadSnapshot) return {};
  s.report.open_fence_cancelled = true;
  if (s.options.access == AccessMode::kReadWrite) return s.fence_log->record_cancelled(next_sequence);
  return {};
}

// Reads the signing record into s.signing_record and checks the seed against it: another
// seed's key is refused in every mode.
Status load_signing_record(Store::Impl& s) {
  auto recorded = read_signing_record(*s.fs, s.dir);
  if (!recorded) return tl::unexpected(recorded.error());
  if (*recorded && s.signer && **recorded != s.signer->public_key()) {
    return tl::unexpected(Error{ErrorCode::kInvalidArgument,
                                "the signing seed's public key is not the one this store signs with",
                                segment::join_path(s.dir, kSigningRecordFileName), 0, {}});
  }
  s.signing_record = *recorded;
  return {};
}

// Opens the keys file, creating it for a read-write open that asks for encryption. Called
// after the scan, so that a snapshot holds the key of every event it read.
Status load_keyset(Store::Impl& s) {
  const bool writable = s.options.access == AccessMode::kReadWrite;
  crypto::KeysOpenReport found;
  const bool encrypt = s.options.encrypt_payloads || s.options.master_key.has_value();
  auto keyset = crypto::Keyset::open(s.fs, s.dir, writable, writable && encrypt, s.options.master_key, found);
  if (!keyset) return tl::unexpected(keyset.error());
  s.keyset = std::move(*keyset);
  s.report.damaged_keys = found.damaged_records;
  s.report.keys_partial_tail_bytes = found.partial_tail_bytes;
  return {};
}

// kReadSnapshot: the fence file, read before the scan, still holds (a fence begun or ended
// meanwhile would make the scan's hidden events wrong); else kConflict, and the open is tried
// again.
Status check_fences_unchanged(const Store::Impl& s) {
  if (s.options.access != AccessMode::kReadSnapshot) return {};
  auto now = writer::FenceLog::load(s.fs, s.dir);
  if (!now) return tl::unexpected(now.error());
  if ((*now)->contents() == s.fence_log->contents()) return {};
  return make_error(ErrorCode::kConflict, "a visibility fence began or ended while the snapshot was read");
}

Result<std::unique_ptr<Store::Impl>> open_store_once(const std::string& dir_as_given, StoreOptions options) {
  const auto started = std::chrono::steady_clock::now();
  const std::string dir = util::without_trailing_slashes(dir_as_given);
  if (auto st = check_options(options); !st) return tl::unexpected(st.error());
  if (!sodium_ready()) return make_error(ErrorCode::kIo, "libsodium failed to initialise");
  auto s = std::make_unique<Store::Impl>(dir, options);
  s->clock = options.clock ? options.clock : system_clock();
  s->projection_cache = options.projection_cache ? options.projection_cache : make_no_cache();
  if (options.signing_seed) {
    auto signer = Signer::from_seed(*options.signing_seed);
    if (!signer) return tl::unexpected(signer.error());
    s->signer = *signer;
  }
  const bool writable = options.access == AccessMode::kReadWrite;
  if (writable) {
    if (auto st = s->fs->create_dir(dir); !st) return tl::unexpected(st.error());
    // Nothing in the directory is durable until its own entry is. Syncing its parent at
    // every read-write open (not only when this open made it) also covers a process crash
    // between an earlier open's mkdir and that sync.
    if (auto st = s->fs->sync_dir(util::parent_dir(dir)); !st) return tl::unexpected(st.error());
  } else {
    auto exists = s->fs->exists(dir);
    if (!exists) return tl::unexpected(exists.error());
    if (!*exists) return make_error(ErrorCode::kNotFound, "no store at " + dir);
  }
  if (options.access != AccessMode::kReadSnapshot) {
    auto lock = s->fs->lock(segment::join_path(dir, format::kLockFileName));
    if (!lock) return tl::unexpected(lock.error());
    s->lock = std::move(*lock);
  }

  if (auto st = load_signing_record(*s); !st) return tl::unexpected(st.error());
  auto fence_log = writer::FenceLog::load(s->fs, dir);
  if (!fence_log) return tl::unexpected(fence_log.error());
  s->fence_log = std::move(*fence_log);
  auto recorded = segment::read_manifest(*s->fs, dir);
  auto listed = segment::list_segment_ids(*s->fs, dir);
  if (!listed) return tl::unexpected(listed.error());
  auto ids = settle_horizon(*s, std::move(*listed));
  if (!ids) return tl::unexpected(ids.error());
  auto manifest = check_manifest(*s, *ids, std::move(recorded));
  if (!manifest) return tl::unexpected(manifest.error());
  index::ChainChecker checker([&s = *s](uint64_t seq) { return s.fence_log->hidden(seq); });
  auto recovered = recover(*s, *ids, manifest->recorded, checker);
  if (!recovered) return tl::unexpected(recovered.error());
  if (auto st = check_fences_unchanged(*s); !st) return tl::unexpected(st.error());
  recovered = replay_tail_ring(*s, checker, std::move(*recovered));
  if (!recovered) return tl::unexpected(recovered.error());
  // As add() has always done, a repeated event id (no writer makes one) keeps the first.
  (void)s->index.index_ids();
  if (auto st = settle_fences(*s); !st) return tl::unexpected(st.error());
  if (auto st = finish_interrupted_drop(*s); !st) return tl::unexpected(st.error());
  if (auto st = load_keyset(*s); !st) return tl::unexpected(st.error());
  if (manifest->damage && !s->report.salvage_stopped_at) s->report.salvage_stopped_at = std::move(manifest->damage);
  const HlcPoint last{recovered->wall_ms_max, s->index.size()};
  // A read-write open synced what it recovered; a read-only one cannot.
  auto durable = writable ? Result<HlcPoint>(last) : s->known_durable_point(last, manifest->recorded);
  if (!durable) return tl::unexpected(durable.error());
  s->watermarks = std::make_unique<writer::Watermarks>(last, *durable);
  s->hub = std::make_unique<delivery::SubscriptionHub>(s->index, s->index.size());
  s->notifier = std::make_unique<writer::VisibilityNotifier>(s->index.size(), s->hub.get());
  if (writable) {
    // Recorded before the first append this store can sign, and only once the open succeeded.
    if (s->signer && !s->signing_record) {
      if (auto st = write_signing_record(*s->fs, dir, s->signer->public_key()); !st) return tl::unexpected(st.error());
      s->signing_record = s->signer->public_key();
    }
    if (auto st = start_writer(*s, *recovered, manifest->recorded); !st) return tl::unexpected(st.error());
    start_background_work(*s);
  }
  s->report.events_recovered = s->index.visible_count();
  s->report.elapsed_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                   std::chrono::steady_clock::now() - started)
                                                   .count());
  return s;
}

}  // namespace

// A snapshot whose fences changed while it was read is read again, a few times at most.
Result<std::unique_ptr<Store::Impl>> open_store(const std::string& dir, StoreOptions options) {
  constexpr int kSnapshotAttemptsMax = 8;
  for (int attempt = 1;; ++attempt) {
    auto opened = open_store_once(dir, options);
    if (opened || options.access != AccessMode::kReadSnapshot || opened.error().code != ErrorCode::kConflict ||
        attempt == kSnapshotAttemptsMax) {
      return opened;
    }
  }
}

}  // namespace batpak
