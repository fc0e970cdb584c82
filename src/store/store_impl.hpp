// Store::Impl: the state behind a Store handle. Internal.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "batpak/store.hpp"
#include "delivery/subscription_hub.hpp"
#include "index/index.hpp"
#include "index/index_checkpoint.hpp"
#include "segment/segment_set.hpp"
#include "store/signer.hpp"
#include "writer/writer.hpp"

namespace batpak {

class Store::Impl {
 public:
  Impl(std::string dir_in, StoreOptions options_in)
      : dir(std::move(dir_in)), options(std::move(options_in)), segments(dir) {}
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status check_open() const;
  Status check_writable() const;
  // Reads and decodes the event at `global_sequence` (checksum checked).
  Result<Event> read_event(uint64_t global_sequence) const;
  Result<std::vector<Event>> read_events(std::span<const uint64_t> global_sequences) const;
  // Reads the events of `rows` (in that order), one pread per run of nearby frames.
  Result<std::vector<Event>> read_events(const std::vector<index::Located>& rows) const;
  // Calls `visit` with each event of `rows` in order (one reused Event); stops at an error.
  Status visit_events(const std::vector<index::Located>& rows, const std::function<Status(const Event&)>& visit) const;
  // Checks that `frame` (read at row's position) holds row's event and decodes it into
  // `slot` (emplaced the first time, refilled after).
  Status decode_into(const index::Located& row, std::span<const uint8_t> frame, std::optional<Event>& slot) const;
  // The index rows of the sequences; kNotFound for an unknown one.
  Result<std::vector<index::Located>> rows_of(std::span<const uint64_t> global_sequences) const;
  // The receipt of a committed event, signed when the store signs.
  Result<Receipt> receipt_for(uint64_t global_sequence) const;
  // Turns writer outcomes into receipts: signs fresh ones, rebuilds replayed ones.
  Result<std::vector<Receipt>> finish(writer::Committed committed) const;
  Result<std::vector<Receipt>> commit(std::span<const writer::Prepared> events);
  // Kind (reserved categories only when `reserved_allowed`: library events such as
  // denials), payload size and idempotency key.
  Status check_append_input(EventKind kind, size_t payload_bytes, const AppendOptions& o,
                            bool reserved_allowed = false) const;
  // `fence`: the open fence appended through (Prepared::fence), 0 for none.
  Result<Receipt> append_one(const Coordinate& coordinate, EventKind kind, std::span<const uint8_t> payload,
                             const AppendOptions& append_options, bool reserved_allowed, uint64_t fence = 0);
  Result<std::vector<Receipt>> append_items(std::span<const BatchItem> items, uint64_t fence = 0);
  writer::Prepared prepare(const Coordinate& coordinate, EventKind kind,
                           std::span<const uint8_t> payload, const AppendOptions& o) const;

  const std::string dir;
  const StoreOptions options;
  std::shared_ptr<Fs> fs;
  std::shared_ptr<Clock> clock;
  std::unique_ptr<FileLock> lock;
  index::Index index;
  segment::SegmentSet segments;
  std::unique_ptr<writer::Writer> writer;  // Null unless kReadWrite.
  std::unique_ptr<delivery::SubscriptionHub> hub;         // Never null once open.
  std::unique_ptr<writer::VisibilityNotifier> notifier;  // Never null once open; tells hub.
  std::unique_ptr<writer::Watermarks> watermarks;        // Never null once open.
  std::unique_ptr<writer::FenceLog> fence_log;           // Never null once open.
  std::optional<Signer> signer;
  std::shared_ptr<ProjectionCache> projection_cache;  // Never null once open.
  OpenReport report;
  // What the last index checkpoint loaded or written covers: its segments (their checksums
  // are reused for bytes unchanged since) and its rows. Only the thread writing checkpoints
  // (the periodic one, then close) touches them after open.
  std::vector<index::CoveredSegment> checkpoint_segments;
  uint64_t checkpoint_rows = 0;
  // The background checkpoint thread (store_checkpoint.cpp), when one runs.
  struct PeriodicCheckpoints {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;  // Guarded by mu.
    std::atomic<uint64_t> due_at_size{UINT64_MAX};  // index.size() that makes the next one due.
    std::atomic<uint64_t> written{0};
  } periodic_checkpoints;
  std::atomic<bool> closed{false};
};

// Opening and recovery (store_open.cpp).
Result<std::unique_ptr<Store::Impl>> open_store(const std::string& dir, StoreOptions options);

// The index checkpoint (store_checkpoint.cpp). load: fills `index` from a checkpoint that
// matches the segments `ids` and the fence file, and returns what it covers; otherwise
// leaves `index` empty and returns nothing. Both record the outcome in `report`.
std::optional<index::CheckpointMeta> load_index_checkpoint(Store::Impl& s, const std::vector<uint64_t>& ids);
// Writes the checkpoint of the index as it is now (a cut: appends may go on meanwhile), unless
// it covers no more than the last one. REQUIRES: one caller at a time, and not a poisoned
// writer (the index may hold events whose bytes did not reach the disk).
Status write_index_checkpoint(Store::Impl& s);
// Background checkpoints as StoreOptions::index_checkpoint_every_events asks (none when it
// is 0 or checkpoints are off). start arms them (REQUIRES: a writer, once, at open); every
// commit nudges (an atomic load, unless one is due: then it starts or wakes the checkpoint
// thread); stop ends the thread, if any (idempotent; a checkpoint being written is finished
// first; REQUIRES: before the writer closes).
void start_periodic_checkpoints(Store::Impl& s);
void nudge_periodic_checkpoint(Store::Impl& s);
void stop_periodic_checkpoints(Store::Impl& s);

// The event built from a decoded record.
Event event_from_record(const format::RecordView& record);
// The receipt fields of a committed event (unsigned, not a replay).
Receipt receipt_from_event(const Event& event);

}  // namespace batpak
