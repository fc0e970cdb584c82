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
#include "index/chain_check.hpp"
#include "index/horizon.hpp"
#include "index/index.hpp"
#include "index/index_checkpoint.hpp"
#include "index/segment_footer.hpp"
#include "segment/manifest.hpp"
#include "segment/segment_set.hpp"
#include "crypto/keyset.hpp"
#include "store/signer.hpp"
#include "writer/writer.hpp"

namespace batpak {

class Store::Impl {
 public:
  Impl(std::string dir_in, StoreOptions options_in)
      : dir(std::move(dir_in)),
        options(std::move(options_in)),
        fs(options.fs ? options.fs : posix_fs()),
        segments(dir, *fs, options.open_segment_files_max) {}
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status check_open() const;
  // check_open(), and in kBuffered mode (where an append returns before the writer thread
  // writes it) waits until every event sequenced before the call is written, so a read sees
  // the appends that returned before it. Every read of events or of the index starts with it.
  Status check_readable() const;
  Status check_writable() const;
  // check_writable(), and a store that encrypts (it has a keys file).
  Status check_keys_writable() const;
  // A valid entity name (or namespace), and check_keys_writable().
  Status check_shred(std::string_view entity) const;
  // Makes every committed event durable (the writer's sync), then nudges the background
  // work: in kAsync mode the last commits may have become visible only now.
  // REQUIRES: a writer.
  Status sync_writer();
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
  // A read-only open's durable watermark: up to the point of the last event it found
  // (`last`), or below when the newest segment ends in frames not known durable (neither
  // before its last visible frame's durable_floor nor before the manifest's clean_end).
  // REQUIRES: no writer in this Store (segments and index stay as open left them).
  Result<HlcPoint> known_durable_point(HlcPoint last, const std::optional<segment::Manifest>& recorded) const;
  // The id of the visible event at `global_sequence`; nil when there is none (0, past the
  // end, hidden by a cancelled fence, or dropped with the history).
  EventId event_id_at(uint64_t global_sequence) const;
  // Store::holds_event_at without the readable check.
  bool holds_event_at(uint64_t global_sequence, const EventId& event_id) const;
  // The index rows of the sequences; kNotFound for an unknown one.
  Result<std::vector<index::Located>> rows_of(std::span<const uint64_t> global_sequences) const;
  // kNotFound when the receipt's event was dropped; kInvalidSignature naming the first
  // field that differs from the stored event's. The signature is not checked.
  // REQUIRES: check_readable() passed.
  Status check_receipt_fields(const Receipt& receipt) const;
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
  // Everything an append needs before the writer's lock but the payload's seal and hash
  // (seal_and_hash()).
  writer::Prepared prepare(const Coordinate& coordinate, EventKind kind,
                           std::span<const uint8_t> payload, const AppendOptions& o) const;
  // What import_event commits for `event`: its id (keyed, so a repeat replays), correlation,
  // causation, timestamps, flags, payload version, kind and payload. The result points into
  // `event`, which must outlive it. kInvalidArgument for a nil id or a shredded payload, and
  // check_append_input's and check_importable_kind's refusals.
  Result<writer::Prepared> prepare_import(const Event& event) const;
  // Seals each payload when the store encrypts (a new entity's key is made durable first),
  // then fills each content_hash from the stored bytes. REQUIRES: the event ids are final
  // (the seal is bound to them).
  Status seal_and_hash(std::span<writer::Prepared> events) const;
  // Opens `event`'s sealed payload `sealed` into event.payload, or marks it shredded.
  // kCorruption (naming `file` and `offset`) when its key is missing or it does not open.
  Status unseal(std::span<const uint8_t> sealed, Event& event, const std::string& file, uint64_t offset) const;
  // The key record a sealed payload names (live or shredded); kCorruption saying why there is
  // none (too short to name one, no keys file, no such record).
  Result<crypto::KeyRecord> sealing_key(std::span<const uint8_t> sealed) const;

  const std::string dir;
  const StoreOptions options;
  const std::shared_ptr<Fs> fs;  // Never null.
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
  // The keys file (crypto/keyset.hpp), or null when the store has none. Set at open.
  std::unique_ptr<crypto::Keyset> keyset;
  // The key the store's signing record holds (store/signing_record.hpp), once a read-write
  // open with a seed has written it; nullopt for a store without one. Set at open, then
  // constant. A store with a record but no signer refuses every append (commit()), so that
  // no receipt of a signing store goes unsigned.
  std::optional<PublicKey> signing_record;
  // The key receipts verify under: the signer's, or, opened without a seed, the record's.
  std::optional<PublicKey> receipt_key() const {
    return signer ? std::optional<PublicKey>(signer->public_key()) : signing_record;
  }
  std::shared_ptr<ProjectionCache> projection_cache;  // Never null once open.
  OpenReport report;
  // Where the journal starts: history before it was dropped (Store::drop_history). Set
  // at open, then constant.
  index::Horizon horizon;
  // Open only: segment files below the horizon, left by a drop that did not finish.
  std::vector<uint64_t> segments_below_horizon;
  // What the last index checkpoint loaded or written covers: its segments (their checksums
  // are reused for bytes unchanged since) and its last global sequence. Only the thread
  // writing checkpoints (the periodic one, then close) touches them after open.
  std::vector<index::CoveredSegment> checkpoint_segments;
  uint64_t checkpoint_last_sequence = 0;
  // The background thread (store_background.cpp), when one runs: it writes index checkpoints
  // as they fall due and the footers of segments as they are sealed.
  struct Background {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;  // Guarded by mu.
    std::atomic<uint64_t> checkpoint_due_at_size{UINT64_MAX};  // index.size() that makes the next one due.
    std::atomic<uint64_t> checkpoints_written{0};
    std::vector<uint64_t> footers_due;  // Sealed segments still without a footer. Guarded by mu.
    // Every sealed segment below this id is in footers_due or was dealt with (UINT64_MAX:
    // footers are off).
    std::atomic<uint64_t> footers_known_below{UINT64_MAX};
    std::atomic<uint64_t> footers_written{0};
    std::atomic<bool> footers_due_from_open{false};  // Open left footers_due non-empty.
  } background;
  std::atomic<bool> closed{false};
};

// Opening and recovery (store_open.cpp).
Result<std::unique_ptr<Store::Impl>> open_store(const std::string& dir, StoreOptions options);
// Reads the horizon into s.horizon and returns the segment ids at or above it; those below it
// (what a crash or an I/O error left of a drop) go to s.segments_below_horizon
// (store_horizon.cpp).
Result<std::vector<uint64_t>> settle_horizon(Store::Impl& s, std::vector<uint64_t> ids);
// kReadWrite: removes s.segments_below_horizon, durably. REQUIRES: the journal from the
// horizon on was recovered, so that a damaged horizon (say, one naming a segment too new) has
// failed the open before anything is removed. Other modes leave them.
Status finish_interrupted_drop(Store::Impl& s);
// Where recovery found the journal's end.
struct Recovered {
  uint64_t newest_id = 0;
  std::shared_ptr<File> newest_file;
  uint64_t newest_data_end = 0;
  uint64_t wall_ms_max = 0;  // The hybrid clock's physical part at the last event.
};
// Puts sealed segment `segment_id` on the background thread's list for a footer when it has
// none (or an invalid one) and this open writes them.
Status note_footer_due(Store::Impl& s, uint64_t segment_id, bool footer_invalid);

// The tail ring (store_tail_ring.cpp). replay: in kReadWrite mode, writes the ring's
// records that continue the journal after `end` into their segments, durably, after
// `checker` (which has seen the whole journal) accepted them and the index took them; returns
// the new end. Other modes leave the ring alone. make: for kBuffered, the ring of this open
// (null when the file system cannot map files); otherwise removes any ring file, durably.
// REQUIRES: replay before make.
Result<Recovered> replay_tail_ring(Store::Impl& s, index::ChainChecker& checker, Recovered end);
Result<std::unique_ptr<writer::TailRing>> make_tail_ring(Store::Impl& s);

// The index checkpoint (store_checkpoint.cpp). load: fills `index` from a checkpoint that
// matches the segments `ids` and the fence file, and returns what it covers; otherwise
// leaves `index` empty and returns nothing. Both record the outcome in `report`.
std::optional<index::CheckpointMeta> load_index_checkpoint(Store::Impl& s, const std::vector<uint64_t>& ids);
// Writes the checkpoint of the index as it is now (a cut: appends may go on meanwhile), unless
// it covers no more than the last one. REQUIRES: one caller at a time, and not a poisoned
// writer (the index may hold events whose bytes did not reach the disk).
Status write_index_checkpoint(Store::Impl& s);
// Segment footers (store_footers.cpp). load: adds the rows of sealed segment `segment_id`
// (open as `file`, `segment_bytes` long) to the index from its footer, if that footer
// continues the index as it is now and the segment's bytes match it. write: writes the
// footer of a sealed segment from the index and its bytes; false when it gets none
// (docs/durability.md says which do not).
struct SegmentFooterLoad {
  bool loaded = false;
  uint64_t wall_ms_max = 0;  // Of its events, when loaded.
  std::string why_not;       // When not: "segment 3: no footer", ...
};
// Reused from segment to segment, so that loading footers faults in fresh memory only once.
struct FooterLoadBuffers {
  index::SegmentFooter footer;
  std::vector<uint8_t> bytes;
};
SegmentFooterLoad load_segment_footer(Store::Impl& s, uint64_t segment_id, File& file, uint64_t segment_bytes,
                                      FooterLoadBuffers& buffers);
Result<bool> write_segment_footer(Store::Impl& s, uint64_t segment_id);
Result<bool> segment_footer_exists(const Store::Impl& s, uint64_t segment_id);
// Whether the last index checkpoint loaded or written covers the whole segment (then open
// never reads its footer, so it needs none: footers are kept only for sealed segments after
// the checkpoint). REQUIRES: the thread that writes checkpoints, or open.
bool checkpoint_covers_segment(const Store::Impl& s, uint64_t segment_id);
// Removes the footers of segments [first_id, end_id) (a checkpoint now covers them); a
// footer that cannot be removed only takes space.
void remove_segment_footers(Store::Impl& s, uint64_t first_id, uint64_t end_id);

// The background thread (store_background.cpp). start arms it (REQUIRES: a writer, once,
// at the end of open, with Background::footers_due holding the sealed segments open found
// without a footer); every commit nudges (two atomic loads, and the index size when
// background checkpoints are on; unless a checkpoint is due or a segment was sealed: then
// it starts or wakes the thread); stop ends the thread, if any
// (idempotent; a checkpoint or footer being written is finished first; REQUIRES: before the
// writer closes). finish writes the footers still due (but not of segments the checkpoint
// covers), at close after the writer closed and the checkpoint was written.
void start_background_work(Store::Impl& s);
void nudge_background_work(Store::Impl& s);
void stop_background_work(Store::Impl& s);
void finish_background_work(Store::Impl& s);

// The event id an idempotency key stands for.
EventId event_id_for_key(std::string_view key);
// kInvalidArgument unless the key is 1..kIdempotencyKeyBytesMax bytes.
Status check_idempotency_key(std::string_view key);

// The event built from a decoded record.
Event event_from_record(const format::RecordView& record);
// The receipt fields of a committed event (unsigned, not a replay).
Receipt receipt_from_event(const Event& event);

}  // namespace batpak
