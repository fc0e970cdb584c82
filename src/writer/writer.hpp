// The single writer: sequences events, links their hash chains, frames them into the
// active segment with group commit, and publishes them to the index. Internal.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "batpak/event.hpp"
#include "batpak/options.hpp"
#include "index/index.hpp"
#include "batpak/frontier.hpp"
#include "util/usable_cpus.hpp"
#include "util/wake_epoch.hpp"
#include "writer/fence_log.hpp"
#include "writer/segment_io.hpp"
#include "writer/tail_ring.hpp"
#include "writer/visibility.hpp"
#include "writer/watermarks.hpp"

namespace batpak::writer {

// An event checked and hashed by the caller, ready to be sequenced.
struct Prepared {
  const Coordinate* coordinate = nullptr;
  EventKind kind;
  std::span<const uint8_t> payload;
  Hash32 content_hash;
  EventId event_id;
  bool keyed = false;  // event_id came from an idempotency key (or an import).
  EventId correlation_id;
  EventId causation_id;
  std::optional<uint32_t> expected_clock;
  const AppendCondition* condition = nullptr;  // Points into the caller's AppendOptions.
  int64_t timestamp_us = 0;
  std::optional<uint64_t> wall_ms;  // Imports keep their original wall time.
  uint16_t flags = 0;
  uint16_t payload_version = 0;
  uint64_t fence = 0;  // The open fence this event is appended through (its first sequence); 0: none.
  // The payload was sealed (docs/encryption.md) into `sealed`, which is what gets stored.
  bool payload_encrypted = false;
  std::vector<uint8_t> sealed;
  std::span<const uint8_t> stored_payload() const {
    return payload_encrypted ? std::span<const uint8_t>(sealed) : payload;
  }
};

// The outcome of commit(): a fresh receipt (unsigned) per event, in order; or, when every
// event's idempotency key matched an earlier commit, nothing was written and `replays_of`
// holds those commits' global sequences, in order (the caller rebuilds their receipts).
struct Committed {
  std::vector<Receipt> receipts;
  std::vector<uint64_t> replays_of;
};

// The end of the durable journal at one instant, with the fence file's contents then
// (Writer::durable_cut). Segments below `segment_id` end where their files end.
struct DurableCut {
  uint64_t last_sequence = 0;   // Every event up to it is durable (hidden ones included).
  uint64_t segment_id = 0;      // The segment holding the durable end...
  uint64_t segment_end = 0;     // ...and the offset where its durable bytes end.
  FenceFileContents fences;
};

struct WriterConfig {
  Durability durability = Durability::kSync;
  uint32_t sync_every_events = 1000;
  uint32_t sync_every_ms = 50;
  uint64_t segment_bytes_max = 64ull << 20;
  uint64_t async_queue_bytes_max = 64ull << 20;  // kAsync: see StoreOptions.
  Clock* clock = nullptr;
  VisibilityNotifier* notifier = nullptr;  // Told after every publish.
  Watermarks* watermarks = nullptr;        // Told whenever a watermark moves.
  FenceLog* fence_log = nullptr;           // Where fences are recorded.
};

// Thread safety: commit(), sync() and the fence calls may be called from any number of
// threads; close() must be called once, after which every call fails with kClosed.
// Lock order: mu_ before the index's lock; the writer thread never holds mu_ during I/O
// in kSync mode. In kBuffered mode an appender copies its frames into the tail ring under
// mu_ and returns; the writer thread writes them to the segment, as in kAsync mode.
class Writer {
 public:
  // REQUIRES: `io` has an active segment whose data ends where the index's last event ends;
  // `tail_ring` is empty, or null. Without a ring (or for a commit too large for it) a
  // kBuffered commit waits until the writer thread has written it.
  Writer(WriterConfig config, index::Index& index, segment::SegmentSet& segments,
         std::unique_ptr<SegmentIo> io, std::unique_ptr<TailRing> tail_ring);
  ~Writer();

  // Commits `events` atomically, in order. Returns when durable (kSync), written or stored
  // in the tail ring (kBuffered), or queued (kAsync). A kAsync commit first waits while its
  // frames would take the bytes queued for the writer thread past async_queue_bytes_max
  // (unless nothing is queued), and a kBuffered one while the ring lacks room for them. On
  // error nothing was committed, except after a failed write or sync, which poisons the
  // writer: the events' fate is unknown until reopen.
  Result<Committed> commit(std::span<const Prepared> events);
  Status sync();
  // Cancels an open fence, flushes and syncs pending events and stops the writer thread.
  Status close();

  // Visibility fences (docs/gates.md): begin_fence() waits until every event sequenced so
  // far is durable and visible, records the fence durably and returns its id (its first
  // global sequence). Until it ends, only commits with Prepared::fence == that id are
  // accepted (others: kFenceActive); their events are written but not published. Ending it
  // makes them durable, records the outcome, then publishes them (commit) or hides them for
  // good (cancel). A wrong or ended id: kFenceNotActive.
  Result<uint64_t> begin_fence();
  Status commit_fence(uint64_t fence);
  Status cancel_fence(uint64_t fence);

  uint64_t durable_sequence() const;
  // Makes every event sequenced before the call durable (as sync() does), then returns the
  // durable end and the fences as they stood there, read together under mu_ (no commit or
  // fence change falls between them). The bytes before the end never change again.
  Result<DurableCut> durable_cut();
  // The segment holding the durable end, and the offset where its durable bytes end. After
  // a successful close() every written byte is durable, so this is where the data ends.
  std::pair<uint64_t, uint64_t> durable_end() const;
  // The last global sequence handed out (0: none yet). Lock-free.
  uint64_t sequenced() const { return sequenced_atomic_.load(std::memory_order_acquire); }
  // Waits until every event up to `sequence` is written, and so visible unless a fence holds
  // it, or the writer failed or closed. Returns at once, without mu_, when they are.
  void wait_until_written(uint64_t sequence);
  // Whether a failed write or sync has stopped the writer (every later write fails).
  bool poisoned() const;

 private:
  struct PendingEvent {
    index::Entry entry;
    Hash32 event_hash;
    std::string entity;
    std::string scope;
  };
  // Frames written together: one pwrite and (in kSync mode) one fdatasync.
  struct Chunk {
    uint64_t segment_id = 0;
    uint64_t start_offset = 0;
    std::vector<uint8_t> bytes;
    std::vector<PendingEvent> events;
    HlcPoint last_point;  // The accepted point after its last event.
    uint64_t ring_end = 0;  // The tail ring's position after this chunk's last record; 0: none.
  };
  // An open visibility fence: its events are written, then held here until it ends.
  struct FenceState {
    explicit FenceState(uint64_t first) : first_sequence(first) {}
    uint64_t first_sequence;
    bool ending = false;  // commit or cancel under way: no more events.
    std::vector<PendingEvent> held;
    std::vector<std::pair<uint64_t, uint64_t>> segment_ends;  // (segment id, visible end) to publish.
    std::unordered_set<EventId, index::EventIdHash> keyed_ids;
  };

  // All REQUIRE mu_ held.
  Status check_writable() const;
  Status check_fence(const Prepared& first) const;
  // Waits until the writer has written every sequenced event (or failed or is closing).
  Status wait_until_all_written(std::unique_lock<std::mutex>& lock);
  Status sync_locked(std::unique_lock<std::mutex>& lock);
  // Ends the open fence `fence` (commit: publish; else hide), after making it durable.
  Status end_fence(uint64_t fence, bool commit);
  // Written events: published (no fence), or held by the open fence.
  void publish_or_hold(Chunk& chunk);
  // Tells config_.watermarks the current points.
  void advance_marks();
  // With any conditional event: waits until every sequenced event is visible (REQUIRES mu_).
  Status wait_until_all_visible_if_conditional(std::unique_lock<std::mutex>& lock, std::span<const Prepared> events);
  // kConflict if an event matching a condition's region is after its sequence. REQUIRES: mu_
  // and every sequenced event visible.
  Status check_conditions(std::span<const Prepared> events) const;
  // The global sequences the batch's keys matched when all did (after they are visible);
  // nothing when none did; kConflict when some did.
  Result<std::optional<std::vector<uint64_t>>> replay_if_duplicate(
      std::unique_lock<std::mutex>& lock, std::span<const Prepared> events);
  // kConflict when an event's expected clock is not its entity's clock (counting the batch's
  // earlier events); kTooLarge when an entity's clock would pass UINT32_MAX.
  Status check_expected_clocks(std::span<const Prepared> events);
  index::EntityHead& head_of(const std::string& entity);
  Chunk& chunk_for(uint64_t frame_bytes_total);
  // Whether a commit of `frame_bytes_total` may be sequenced now: the tail ring has room for
  // it (`in_ring`), or, in kAsync mode, the queue has (or is empty). REQUIRES: mu_.
  bool has_room(uint64_t frame_bytes_total, bool in_ring) const;
  // Keeps a written chunk's buffers (emptied) for the next chunk_for(). REQUIRES: mu_.
  void recycle(Chunk& written);
  std::vector<Receipt> sequence(std::span<const Prepared> events, Chunk& chunk);
  // Every check before a commit is sequenced; a replay when all its keys were committed.
  // May wait (releasing mu_). REQUIRES: mu_.
  Result<std::optional<Committed>> admit(std::unique_lock<std::mutex>& lock, std::span<const Prepared> events);
  uint64_t now_ms() const;

  void run();          // The writer thread.
  static uint64_t queued_events_in(const std::deque<Chunk>& chunks);
  void run_sync_mode(std::unique_lock<std::mutex>& lock);
  void run_async_mode(std::unique_lock<std::mutex>& lock);
  // kSync group forming: waits at most `limit` until group_target_ events are queued. With
  // more than one usable CPU it first spins (at most kGroupSpinMax, yielding to any thread
  // ready on its CPU), so the group's last appender finds this thread running instead of
  // having to wake it on an idle CPU; a spin that ends without the group skips spinning for
  // the next kGroupSpinBackoff groups.
  // REQUIRES: mu_ held by `lock` (released while waiting); called by the writer thread.
  void wait_for_group(std::unique_lock<std::mutex>& lock, std::chrono::microseconds limit);
  // Spins until group_target_ events are queued (true) or `deadline` passes (false).
  // Called by the writer thread, without mu_.
  bool spin_until_group(std::chrono::steady_clock::time_point deadline) const;
  Status write_chunks(std::deque<Chunk>& chunks);
  Status write_and_publish(std::deque<Chunk>& chunks, bool fenced);
  // Records written chunks as written, no longer queued, and visible unless fenced (then
  // their events are moved to the fence); returns their event count. REQUIRES: mu_.
  uint64_t retire(std::deque<Chunk>& taken, bool fenced);
  void publish(Chunk& chunk);
  // Copies the frames `chunk` gained from `bytes_before` on (one commit) into the tail ring.
  // REQUIRES: mu_, and the ring has room for them.
  void copy_to_ring(Chunk& chunk, size_t bytes_before, uint64_t first_sequence, size_t events);
  // Waits until the commit ending at `last` is durable (kSync) or written (kBuffered without
  // the ring). REQUIRES: `lock` released; on return it may be held again.
  Status await_commit(std::unique_lock<std::mutex>& lock, uint64_t last);
  // Frees the tail ring's records of written chunks. REQUIRES: mu_.
  void release_ring(const std::deque<Chunk>& written);
  void poison(const Error& error);
  // Publishes durable_sequence_ and poison to group waiters and wakes them. REQUIRES: mu_.
  void announce();
  // announce() without the wake-up: the caller advances group_epoch_ later. REQUIRES: mu_.
  void publish_group();

  const WriterConfig config_;
  index::Index& index_;
  segment::SegmentSet& segments_;
  std::unique_ptr<SegmentIo> io_;
  std::unique_ptr<TailRing> tail_ring_;  // kBuffered only; used under mu_.

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // Writer thread: chunks queued, sync wanted, closing.
  std::condition_variable done_cv_;  // sync() and replays: watermarks moved, or poisoned.
  // kSync appenders wait for their group on group_epoch_ (a futex), not on mu_ or any other
  // mutex, so a whole group wakes at once: publish_group(), under mu_, copies the durable
  // watermark and the poison flag here; advancing the epoch then wakes every waiter.
  std::atomic<uint64_t> group_durable_{0};
  std::atomic<bool> group_failed_{false};
  util::WakeEpoch group_epoch_;
  std::unordered_map<std::string, index::EntityHead> heads_;  // Sequenced (maybe unpublished).
  std::unordered_map<EventId, uint64_t, index::EventIdHash> unpublished_ids_;
  std::deque<Chunk> chunks_;         // Sequenced, not yet taken by the writer thread; back() is open.
  // Frame bytes sequenced and not yet written: in chunks_, or taken and being written. At
  // most config_.async_queue_bytes_max in kAsync mode, unless one commit alone is larger.
  uint64_t queued_bytes_ = 0;
  Chunk spare_;                      // Empty; its buffers' capacity serves the next chunk.
  uint64_t next_sequence_ = 1;
  uint64_t active_segment_ = 0;      // Segment the sequencer assigns offsets in.
  uint64_t next_offset_ = 0;         // Where the next frame goes in that segment.
  uint64_t durable_segment_ = 0;     // Segment and offset below which all bytes are durable.
  uint64_t durable_offset_ = 0;
  uint64_t visible_sequence_ = 0;    // Published to the index (or hidden by a cancelled fence).
  uint64_t written_sequence_ = 0;    // Written to the segment (published or held by a fence).
  uint64_t durable_sequence_ = 0;
  std::atomic<uint64_t> sequenced_atomic_{0};  // next_sequence_ - 1 and written_sequence_, for
  std::atomic<uint64_t> written_atomic_{0};    // lock-free reads.
  // The watermarks' points (the writer's four), kept with the sequences above.
  HlcPoint accepted_point_;
  HlcPoint written_point_;
  HlcPoint durable_point_;
  HlcPoint visible_point_;
  std::optional<FenceState> fence_;
  bool fence_starting_ = false;  // begin_fence() is draining earlier events: plain commits refused.
  uint64_t sync_requested_ = 0;      // Highest sequence a sync() caller waits for.
  uint64_t unsynced_events_ = 0;
  uint64_t group_target_ = 0;        // kSync: appenders in flight after the last sync; the next group waits for them.
  static constexpr std::chrono::microseconds kGroupSpinMax{200};
  static constexpr uint32_t kGroupSpinBackoff = 64;
  const bool group_spin_allowed_ = util::usable_cpu_count() > 1;
  uint32_t groups_before_spinning_ = 0;  // Writer thread only: groups left to form without spinning.
  std::optional<Error> poisoned_;
  uint32_t conditional_waiting_ = 0;  // Conditional commits waiting for visibility.
  bool closing_ = false;
  bool closed_ = false;
  std::thread thread_;
};

}  // namespace batpak::writer
