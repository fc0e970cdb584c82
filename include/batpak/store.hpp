// The store: an append-only, hash-chained journal of events in one data directory.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "batpak/event.hpp"
#include "batpak/denial.hpp"
#include "batpak/fence.hpp"
#include "batpak/frontier.hpp"
#include "batpak/gate.hpp"
#include "batpak/import.hpp"
#include "batpak/options.hpp"
#include "batpak/projection.hpp"
#include "batpak/subscription.hpp"

namespace batpak {

// How Store::open rebuilt its index.
enum class IndexSource : uint8_t {
  kFullScan,    // Every frame of every segment was read and checked.
  kCheckpoint,  // The index checkpoint was loaded; only the frames after it were read.
};

// What Store::open found and did.
struct OpenReport {
  uint64_t events_recovered = 0;
  IndexSource index_source = IndexSource::kFullScan;
  // Why: the checkpoint loaded, or why it was not used ("no index checkpoint", a checksum
  // mismatch, a segment that changed since it was written, ...).
  std::string index_source_reason;
  uint64_t frames_scanned = 0;  // Frames read and checked by the scan (after the checkpoint).
  // Sealed segments loaded from their footers instead of scanned.
  uint64_t segments_from_footers = 0;
  // Why each sealed segment that the checkpoint does not cover wholly was scanned instead
  // ("segment 3: no footer", a checksum mismatch, ...), in segment order.
  std::vector<std::string> segment_footer_fallbacks;
  // Segment files found and scanned (a read-write open of a store without any then creates
  // the first one, not counted here).
  uint64_t segments = 0;
  // A torn (unacknowledged) write at the end of the newest segment. In kReadWrite mode it is
  // copied to `torn_tail_saved_as` and then truncated away; read-only modes just skip it.
  bool torn_tail = false;
  std::string torn_tail_file;
  uint64_t torn_tail_offset = 0;
  uint64_t torn_tail_bytes = 0;
  std::string torn_tail_saved_as;
  // A visibility fence was open when the store last stopped (a crash): its events are
  // hidden and the fence was recorded as cancelled (kReadWrite; read-only modes just hide).
  bool open_fence_cancelled = false;
  // Key records of the keys file whose checksum failed (a shred cut short by a crash, or
  // damage): their keys are treated as shredded, and kReadWrite rewrites them so. And the
  // bytes of a key record left unfinished at its end by a crash (kReadWrite cuts them).
  uint32_t damaged_keys = 0;
  uint64_t keys_partial_tail_bytes = 0;
  // kReadWrite: events that only the tail ring held (kBuffered appends acknowledged before a
  // process crash and not yet in their segment), written into their segments by this open.
  uint64_t events_from_tail_ring = 0;
  // kSalvage only: the damage at which reading stopped, if any.
  std::optional<Error> salvage_stopped_at;
  uint64_t elapsed_us = 0;
};

struct StoreStats {
  uint64_t event_count = 0;              // Visible events (hidden ones, of cancelled fences, not counted).
  uint64_t entity_count = 0;
  uint64_t segment_count = 0;
  // The history horizon: global sequences below it were dropped (Store::drop_history); 1
  // when none were.
  uint64_t first_global_sequence = 1;
  uint64_t last_global_sequence = 0;     // Highest visible (or hidden) global sequence (0 = empty).
  uint64_t durable_global_sequence = 0;  // Highest global sequence known to be durable.
  uint64_t data_bytes = 0;               // Segment bytes up to each visible end (headers + frames).
  // Index checkpoints written in the background since open (StoreOptions::
  // index_checkpoint_every_events; close writes one more).
  uint64_t index_checkpoints_written = 0;
  // Segment footers written since open (StoreOptions::segment_footers).
  uint64_t segment_footers_written = 0;
  // Payload encryption (docs/encryption.md): whether the store seals new payloads (it has a
  // keys file), and the keys that file holds, all of them and those shredded.
  bool encrypts_payloads = false;
  uint32_t payload_keys = 0;
  uint32_t payload_keys_shredded = 0;
  bool payload_keys_wrapped = false;  // Wrapped under a master key (StoreOptions::master_key).
};

// The first damage verify() found.
struct Damage {
  std::string file;
  uint64_t offset = 0;
  uint64_t global_sequence = 0;  // 0 when the damage is not inside a readable event.
  std::optional<EventId> event_id;
  std::string reason;
};

struct VerifyReport {
  uint64_t events_checked = 0;
  uint64_t segments_checked = 0;
  std::optional<Damage> damage;  // Empty when every frame and every link checked out.
  bool ok() const { return !damage.has_value(); }
};

// What Store::backup() copied.
struct BackupReport {
  uint64_t last_sequence = 0;  // The copy holds global sequences 1 .. last_sequence.
  uint64_t segments = 0;       // Segment files written.
  uint64_t bytes = 0;          // Segment bytes copied.
};

// How Store::backup() writes the copy.
struct BackupOptions {
  // For a store that encrypts payloads: false copies the payload keys wrapped as this store
  // wraps them; true wraps them under `master_key` instead (a new master key for off-site
  // copies), or leaves them unwrapped when it is nullopt, with a new file id either way. The
  // copy then opens only with that key (docs/encryption.md, "Backups").
  bool rewrap_keys = false;
  std::optional<MasterKey> master_key;  // Only with rewrap_keys.
};

// How Store::drop_history() opens the store and what it may drop.
struct DropHistoryOptions {
  // Seams (fs, clock), limits and fences for the store's open; access is ignored (the store
  // is opened read-only, and its files are then changed under its lock).
  StoreOptions store;
  // Drop events even when a durable cursor checkpoint (cursors/*.ckpt) has not consumed them;
  // that cursor then resumes at the horizon, without them.
  bool ignore_cursors = false;
  // A second bound, by time: the first visible event whose wall_ms is at or above this is
  // kept too, with everything after it (UINT64_MAX: no time bound). For retention by age,
  // pass it with before_sequence = UINT64_MAX.
  uint64_t before_wall_ms = UINT64_MAX;
};

// What Store::shred_namespace() did.
struct NamespaceShredReport {
  uint64_t entities = 0;       // Entities found in the namespace.
  uint32_t keys_shredded = 0;  // Their keys destroyed by this call.
};

// What Store::drop_history() did.
struct DropHistoryReport {
  uint64_t first_segment_id = 1;  // The oldest segment kept.
  uint64_t first_sequence = 1;    // The history horizon: global sequences below it are gone.
  uint64_t segments_removed = 0;  // By this call.
  uint64_t events_removed = 0;    // Visible events removed by this call (hidden ones not counted).
  uint64_t bytes_removed = 0;     // Segment bytes removed by this call.
};

// Thread safety: every method may be called concurrently from any number of threads, with
// one exception: close() must not race with other calls, except that threads blocked in
// wait_for_visible() or wait_for*() (or in watchers and cursors waiting through them) are woken by close()
// with kClosed. Calls made after close() fail with kClosed. The destructor must not race
// with any call. Appends from many threads are committed in
// one total order by the store's single writer thread.
class Store {
 public:
  // Opens (creating if needed, in kReadWrite mode) the store in `dir`, recovering as
  // described in docs/durability.md. A second open of the same directory, from this process
  // or another, fails with kStoreLocked until the first is closed.
  static Result<std::unique_ptr<Store>> open(const std::string& dir, StoreOptions options = {});

  ~Store();  // Calls close(); errors are dropped, so call close() to see them.
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Flushes and syncs pending events, stops the writer and releases the directory lock.
  // Idempotent. Every later call fails with kClosed.
  Status close();

  // Appends one event. Returns its receipt once durable (kSync) or written (kBuffered).
  // Errors: kInvalidArgument, kReservedKind, kTooLarge, kConflict, kReadOnly, kPoisoned,
  // kIo, kClosed. On any error nothing was written.
  Result<Receipt> append(const Coordinate& coordinate, EventKind kind,
                         std::span<const uint8_t> payload, const AppendOptions& options = {});

  // Typed append for a struct T that declares `static constexpr EventKind kKind` and its
  // MessagePack fields (MSGPACK_DEFINE_MAP): the payload is T encoded as a MessagePack map.
  // Defined in batpak/typed.hpp (included by batpak/batpak.hpp).
  template <TypedPayload T>
  Result<Receipt> append(const Coordinate& coordinate, const T& value,
                         const AppendOptions& options = {});

  // Appends all items atomically: after return, and after any crash, either every item is
  // committed or none is. Items for one entity get consecutive clocks in item order. An
  // empty batch writes nothing and returns no receipts (also while a fence is open).
  Result<std::vector<Receipt>> append_batch(std::span<const BatchItem> items);

  // Records that gates refused a proposed event: appends a reserved DENIAL event
  // (kDenialKind) to `coordinate`'s entity chain, whose payload (batpak/denial.hpp) holds
  // every gate's outcome, the proposed kind and the BLAKE3 hash of the proposed payload
  // (never the payload itself), and returns its receipt. It is queried, verified and
  // receipted like any event. REQUIRES: !verdict.allowed() (else kInvalidArgument).
  Result<Receipt> append_denial(const Coordinate& coordinate, const GateVerdict& verdict, EventKind proposed_kind,
                                std::span<const uint8_t> proposed_payload, const AppendOptions& options = {});

  // Commits `item` without evaluating gates, together with a reserved BYPASS audit event
  // (kBypassKind, same entity, causation = the item's event) in one atomic batch; returns
  // both receipts, the item's first. The audit payload (batpak/denial.hpp) records `audit`
  // plus the item's kind and the BLAKE3 of its payload. REQUIRES: audit.reason and
  // audit.justification non-empty (else kInvalidArgument).
  Result<std::vector<Receipt>> append_bypassing_gates(const BatchItem& item, const BypassAudit& audit);

  // Re-appends an event exported from another store (batpak export), keeping its event id,
  // correlation, causation, timestamp_us, wall_ms (raised if needed to stay monotone), flags,
  // payload version, kind and payload. The global sequence, clock and hashes are this
  // store's. An event id that is already committed returns its receipt (idempotent_replay),
  // so an interrupted import can be rerun. Importing a whole export into an empty store
  // reproduces it exactly, its DENIAL and BYPASS events too; other reserved kinds are
  // refused (check_importable_kind in batpak/denial.hpp), and so is an event whose payload
  // was shredded (kInvalidArgument: there is no payload to copy). Events are imported one at
  // a time: an import interrupted between a bypassed event and its BYPASS audit leaves the
  // audit missing until it is rerun.
  Result<Receipt> import_event(const Event& event);
  // Copies the events `selection` names from `source` (another open Store, in any access
  // mode: a kReadSnapshot open reads a store another process writes) into this one, in the
  // source's commit order, each as import_event copies it: ids, correlation, causation,
  // timestamps, flags, payload version, kind and payload are kept; the global sequence, clock
  // and hashes are this store's, and payloads are sealed under this store's keys when it
  // encrypts. Events go in as atomic batches of at most ImportOptions::chunk_events. The
  // source is read up to the visible watermark it had when the call began. An event whose id
  // is already here (committed and not dropped with the history) is counted, not copied: an
  // interrupted import can be rerun, and importing again after source_visible_sequence (with
  // source_visible_event_id) keeps a copy current. A shredded payload is skipped and counted
  // (the data is gone by design). Causation ids are kept even when the cause is not
  // imported. Errors: kInvalidArgument (source is this store, chunk_events out of range);
  // kConflict, nothing copied, when the selection resumes where the source no longer is:
  // after_global_sequence past its visible watermark, or an after_event_id it no longer
  // holds there (holds_event_at: a source never takes back a visible event, so it lost a tail
  // that was not yet synced, or is another store); for an event, import_event's (kTooLarge
  // for a payload above this store's payload_bytes_max, ...); the source's read errors. The
  // batches committed before an error stay committed. Thread-safe; `source` may take appends
  // meanwhile.
  Result<ImportReport> import_from(const Store& source, const ImportSelection& selection = {},
                                   const ImportOptions& options = {});

  // Crypto-shredding (docs/encryption.md): destroys, durably, every key that sealed a payload
  // of `entity`, and returns how many. From then on a read of one of those events returns it
  // with an empty payload and payload_shredded set; its header, hashes and receipts stay
  // valid, and verify() passes. New appends to `entity` are sealed under a new key. An append
  // racing the call may land under either key. Errors: kInvalidArgument (an invalid entity,
  // or a store without encryption: StoreOptions::encrypt_payloads), kReadOnly, kIo, kClosed;
  // after kIo the shred may or may not have taken effect: call it again. Thread-safe; reads
  // go on during it.
  Result<uint32_t> shred_entity(std::string_view entity);

  // shred_entity for every entity in namespace `prefix` (`prefix` itself and each
  // `prefix:*`, as Region::entity matches) that has a visible event now or had one before
  // the history horizon, with one sync for all their keys. Entities first appended during
  // the call, and an entity whose only events were cancelled in a fence, may be missed:
  // shred those by name. Errors: those of shred_entity; after kIo some of the entities may
  // be shredded: call it again. Thread-safe.
  Result<NamespaceShredReport> shred_namespace(std::string_view prefix);

  // Wraps every payload key under `master_key` from now on (docs/encryption.md, "Changing the
  // master key"): adds a master key to a store made without one, replaces it, or, with
  // nullopt, removes it. The keys file is rewritten under a new name, renamed over the old
  // one, and the old one's bytes are then overwritten with zeros. Once this returns OK, the
  // store opens only with `master_key` (only without one, for nullopt); a crash during the
  // call leaves a store that opens with the old master key or with the new one, all keys
  // kept. Appends that need new keys and shreds wait for it; reads go on. Errors:
  // kInvalidArgument (a store without encryption: StoreOptions::encrypt_payloads),
  // kReadOnly, kIo, kClosed; after kIo the change may or may not have taken effect: call it
  // again. Thread-safe.
  Status change_master_key(const std::optional<MasterKey>& master_key);

  // Makes every event appended so far durable.
  Status sync();
  // Returns once every event up to `global_sequence` is durable: at once when it already is
  // (always in kSync mode), and at once on a read-only store, which cannot sync (its
  // frontier().durable tells what is known durable); else after a sync as sync() does. For
  // readers that record a position in the journal (a cursor's checkpoint), which must never
  // run ahead of what a power cut keeps: kBuffered and kAsync events are visible before they
  // are durable. Errors: those of sync() (kPoisoned, kClosed).
  Status sync_through(uint64_t global_sequence) const;

  // The entities in namespace `prefix` (`prefix` itself and each `prefix:*`, as
  // Region::entity matches; every entity when it is empty) whose names sort after `after`
  // (bytewise; "": from the first), in name order, at most `limit`: pass a page's last entity
  // as `after` for the next page. An entity appears once it has a visible event, and stays
  // after its history is dropped. Errors: kInvalidArgument (a non-empty prefix that is not a
  // valid entity), kClosed. Thread-safe.
  Result<std::vector<EntitySummary>> list_entities(std::string_view prefix, std::string_view after,
                                                   size_t limit) const;

  // Reads one committed event. Unknown id: kNotFound. Every read re-checks the checksum.
  Result<Event> get(const EventId& event_id) const;
  // Whether this store still holds `event_id` as its event at `global_sequence`, which a
  // reader saw there earlier (in this or an earlier open): true when it does, or when the
  // sequence is now below the history horizon (dropped by Store::drop_history, not lost).
  // False when the store ends before it or holds another event there: it lost events it had
  // shown (a read-only or snapshot open can show events whose sync had not returned, and a
  // power cut takes them back), or the directory now holds another store. A reader resuming
  // after `global_sequence` should stop then, or it skips the events that took the lost
  // ones' places. REQUIRES: event_id not nil. Errors: kClosed. Thread-safe.
  Result<bool> holds_event_at(uint64_t global_sequence, const EventId& event_id) const;
  // The receipt of the visible event committed with `idempotency_key` (what an append with
  // that key would return as its replay), or nothing when there is none; appends nothing.
  // Signed when the store was opened with a signing seed, unsigned otherwise (signatures are
  // not stored). A key that is not 1..kIdempotencyKeyBytesMax bytes: kInvalidArgument.
  Result<std::optional<Receipt>> receipt_for_key(std::string_view idempotency_key) const;
  // All committed events matching `region`, in commit order.
  Result<std::vector<Event>> query(const Region& region) const;
  // At most `limit` matching events with global_sequence > after_global_sequence, in commit
  // order: a page. Pass the last returned global_sequence to get the next page.
  Result<std::vector<Event>> query_after(const Region& region, uint64_t after_global_sequence,
                                         size_t limit) const;
  // Calls `visit` with each committed event matching `region` with global_sequence >
  // after_global_sequence, in commit order, up to the last event visible when the call
  // starts; stops at the visitor's first error (returned as is). Reads segments in large
  // sequential runs and reuses one Event, which is valid only during the call: the way to
  // scan or export a whole store in constant memory. Each frame's checksum is checked.
  Status for_each_matching(const Region& region, uint64_t after_global_sequence,
                           const std::function<Status(const Event&)>& visit) const;
  // How many visible events match `region` with global_sequence > after_global_sequence,
  // counted from the index without reading a payload (events committed during the call may
  // or may not be counted). Without an entity prefix in `region` it reads one index row per
  // event after after_global_sequence. Errors: kClosed.
  Result<uint64_t> count_matching(const Region& region, uint64_t after_global_sequence = 0) const;
  // The event and its hash-chain ancestors within its entity, anchor first, then its
  // parent, and so on; at most `limit` events (none for 0). Unknown id: kNotFound.
  Result<std::vector<Event>> walk_ancestors(const EventId& event_id, size_t limit) const;
  // The number of committed events of `entity` (its current clock); 0 when unknown.
  uint64_t entity_generation(std::string_view entity) const;

  // Blocks until an event with a global sequence above `after_global_sequence` is visible
  // (returns the highest visible sequence), `timeout_ms` passes (kTimeout), or the store
  // closes (kClosed). A building block for watchers and followers.
  Result<uint64_t> wait_for_visible(uint64_t after_global_sequence, uint32_t timeout_ms) const;

  // ---- Watermarks (batpak/frontier.hpp) ----

  // All five watermarks, observed at one instant. A read-only store's stay where open left
  // them, all at its last event but durable: that one stops at the last event its files
  // prove durable, which leaves out the newest segment's last commit group while a writer
  // may still be waiting for its fdatasync (or crashed before it). Proof is that group's
  // place before a later frame's durable floor, or a clean close (docs/durability.md).
  Frontier frontier() const;
  // Block until watermark `which` reaches `point` (e.g. point_of(receipt)). Errors: kTimeout
  // (the message names the watermark and both points; a zero timeout just checks),
  // kPoisoned (the writer failed: waiting longer cannot help), kClosed.
  Status wait_for(Watermark which, HlcPoint point, uint32_t timeout_ms) const;
  Status wait_for_durable(HlcPoint point, uint32_t timeout_ms) const;
  Status wait_for_visible(HlcPoint point, uint32_t timeout_ms) const;
  Status wait_for_applied(HlcPoint point, uint32_t timeout_ms) const;
  // Registers a consumer whose progress holds the applied watermark back; it starts at the
  // current applied point. Errors: kConflict (the name is registered), kClosed.
  Result<Applier> register_applier(std::string name) const;

  // ---- Visibility fences (batpak/fence.hpp) ----

  // Opens a fence once every earlier append is durable and visible. Errors: kFenceActive
  // (one is open), kReadOnly, kPoisoned, kIo, kClosed.
  Result<Fence> begin_fence();
  // The global-sequence ranges hidden by cancelled fences, ascending.
  std::vector<SequenceRange> cancelled_ranges() const;

  StoreStats stats() const;
  const OpenReport& open_report() const;

  // Re-reads every segment, re-checking every frame checksum, content hash, event hash and
  // chain link. Damage is reported in the VerifyReport, not as an error; errors are for
  // failures to read at all.
  Result<VerifyReport> verify() const;

  // Copies the store into `destination_dir`, a directory that must not exist yet (its parent
  // must): a store of its own, opened like any other. The copy is what a power cut at the
  // moment of the call would leave of this store once every append that returned before the
  // call is durable (in kBuffered and kAsync mode the call first syncs, as sync() does): a
  // prefix of the commit order that holds each of those events, with the fences as they stood
  // at its end, so the events of a fence still open are in it but hidden for good. Appends go
  // on during the copy; only finding its end takes the writer's lock. The copy is built in
  // `destination_dir` + ".partial" and renamed into place once durable, so after a crash
  // `destination_dir` is complete or absent. It holds no cursor checkpoints, index checkpoint,
  // segment footers or tail ring (its first open scans its segments); projection caches live
  // outside the data directory. A read-only store copies what it opened. Errors:
  // kInvalidArgument (the destination or its ".partial" exists, or is this store's
  // directory; rewrap_keys on a store that does not encrypt payloads; a master key without
  // rewrap_keys), kUnsupported (a store opened in salvage mode), kIo, kPoisoned, kClosed.
  Result<BackupReport> backup(const std::string& destination_dir, const BackupOptions& options = {}) const;

  // Drops the oldest history of the store in `dir`, which must not be open: every sealed
  // segment (never the newest) before the one holding the first visible event with a global
  // sequence at or above `before_sequence` (or a wall_ms at or above
  // options.before_wall_ms), oldest first, so whole segments go and the first kept one may
  // still hold events below the bound. What is kept verifies as before: the horizon file
  // records, for each entity, its last event before the horizon, and the first kept event
  // of each entity must link to it (docs/retention.md). After the call, reads, queries,
  // cursors and projections see the journal from the horizon on: a dropped event is
  // kNotFound, an entity keeps its generation and its chain, walk_ancestors stops at the
  // horizon, and an idempotency key of a dropped event is forgotten (appending with it again
  // commits a new event). A crash during the call leaves the old history or the new one (a
  // read-write open, or the next call, finishes removing segments below the horizon). Errors: kInvalidArgument
  // (before_sequence 0), kCursorBehind (a durable cursor checkpoint is below the new horizon,
  // unless options.ignore_cursors; nothing is changed), kStoreLocked, and any error of a
  // read-only open (kCorruption, kNotFound, ...) or of the file system (kIo).
  static Result<DropHistoryReport> drop_history(const std::string& dir, uint64_t before_sequence,
                                                DropHistoryOptions options = {});

  // ---- Projections (templates defined in batpak/projection_flow.hpp) ----

  // Projects `entity` with projection P: a cache probe, then a fresh hit, an incremental
  // apply of the newer relevant events, or a full replay, as docs/projections.md describes.
  // Cache failures never fail the call; they show in the observation.
  template <Projection P>
  Result<Projected<typename P::State>> project(std::string_view entity,
                                               Freshness freshness = Freshness::consistent());
  // Projects `entity` with every P from one replay of the events relevant to any of them,
  // each read once; no cache is read or written. Every state reflects the same instant: all
  // relevant events committed when the call planned. The first error of an apply() fails
  // the call. REQUIRES: at least one P, all distinct (static_assert).
  template <Projection... P>
  Result<FusedProjected<typename P::State...>> project_fused(std::string_view entity) const;
  // Like project(), but returns nothing when the entity's generation still equals
  // `last_generation`. Always consistent: a stale row never travels with a newer generation.
  template <Projection P>
  Result<std::optional<Projected<typename P::State>>> project_if_changed(std::string_view entity,
                                                                         uint64_t last_generation);

  // The relevant events of `entity` (all kinds when `relevant_kinds` is empty) with a global
  // sequence above `after_global_sequence`, as of now; the watermark, generation and head
  // hash are the entity's whatever `after_global_sequence` is. Costs the events listed, not
  // the entity's length: UINT64_MAX lists none and just reads the rest.
  Result<ReplayPlan> replay_plan(std::string_view entity, std::span<const EventKind> relevant_kinds,
                                 uint64_t after_global_sequence = 0) const;
  // The event hash of the entity's event number `generation` (1 is its first event), read
  // from its segment and checked like every read. Through the hash chain it identifies the
  // entity's whole history up to that event. kNotFound when the entity has fewer events, or
  // when that event was dropped before the history horizon; the entity's last dropped event
  // is still answered, from the horizon (docs/retention.md).
  Result<Hash32> entity_hash_at(std::string_view entity, uint64_t generation) const;
  // Reads the events with the given global sequences, in the order given.
  Result<std::vector<Event>> read_sequences(std::span<const uint64_t> global_sequences) const;
  // Calls `visit` with each of those events in the order given, stopping at its first
  // error (returned as is). Faster than read_sequences for folds: the Event is reused, so
  // it is valid only during the call.
  Status for_each_event(std::span<const uint64_t> global_sequences,
                        const std::function<Status(const Event&)>& visit) const;
  // The cache projections use (StoreOptions::projection_cache; never null).
  ProjectionCache& projection_cache() const;
  // A lossy subscription to the events of `region` made visible from now on, with a queue of
  // `capacity` notifications (at least 1). See batpak/subscription.hpp. On a closed store
  // the subscription reports kClosed.
  std::unique_ptr<Subscription> subscribe(Region region, size_t capacity = 1024) const;
  // A file descriptor (eventfd, non-blocking) that becomes readable whenever new events
  // become visible and when the store closes: for poll/epoll loops. Read 8 bytes to reset
  // it, then read the new events (e.g. Cursor::poll_batch). The store owns and closes it;
  // do not use it after the Store is destroyed. Errors: kIo.
  Result<int> visibility_fd() const;

  // The store's clock, in microseconds since the Unix epoch.
  int64_t now_us() const;
  // The data directory, as passed to open().
  const std::string& dir() const;
  // The file system the store uses (StoreOptions::fs, or posix_fs()); never null.
  const std::shared_ptr<Fs>& fs() const;
  // How the store was opened.
  AccessMode access_mode() const;

  // Checks a receipt against the store: the event exists and every receipt field matches
  // it, and the signature (if the store signs: public_key() is set) is valid. Mismatch:
  // kInvalidSignature, whose message names the first field that differs. An unknown event
  // whose receipt names a global sequence below the history horizon: kNotFound
  // (docs/retention.md).
  Status verify_receipt(const Receipt& receipt) const;
  // The same check against a given public key, for a store opened without the signing seed
  // (an auditor's read-only open): every field must match the stored event, and the receipt
  // must carry a valid signature under `public_key` (an unsigned receipt is
  // kInvalidSignature). The key the store itself was opened with, if any, is not used.
  Status verify_receipt(const Receipt& receipt, const PublicKey& public_key) const;

  // The Ed25519 public key receipts are signed with: the signing seed's, or, for a store opened
  // without one, the key its signing record holds (StoreOptions::signing_seed). Nullopt for a
  // store that does not sign.
  std::optional<PublicKey> public_key() const;

  class Impl;

 private:
  friend class Fence;
  friend class Applier;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace batpak
