// The in-memory index of committed, visible events, rebuilt at open. Internal.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "batpak/fence.hpp"
#include "batpak/types.hpp"
#include "index/id_table.hpp"
#include "util/page_array.hpp"

namespace batpak::index {

struct SegmentFooter;

// One committed event as the index knows it: where its frame is and what a query filters
// on. No payload, no hashes (the frame has them; the index keeps only each entity's last
// event hash, for the next append's link), so a row is 64 bytes.
struct Entry {
  EventId event_id;
  uint64_t segment_id = 0;
  uint64_t offset = 0;      // Frame start within the segment.
  uint64_t wall_ms = 0;
  uint32_t frame_bytes = 0;
  uint32_t clock = 0;
  EventKind kind;
};

// An entry with its coordinate. The views stay valid for the index's lifetime.
struct Located {
  Entry entry;
  uint64_t global_sequence = 0;
  std::string_view entity;
  std::string_view scope;
};

// The last committed event of an entity: what the next append links to.
struct EntityHead {
  uint32_t clock = 0;
  Hash32 event_hash;
  uint64_t wall_ms = 0;
  friend bool operator==(const EntityHead&, const EntityHead&) = default;
};

// Thread safety: every method is safe to call concurrently (an internal shared_mutex;
// readers share it, add() takes it exclusively).
class Index {
 public:
  // Publishes one event whose event hash is `event_hash`. REQUIRES: its global_sequence ==
  // size() + 1 and entry.clock is the entity's next clock (the caller checked the chain).
  void add(std::string_view entity, std::string_view scope, const Entry& entry, const Hash32& event_hash);
  // As add(), but the event id goes into the id table only at the next index_ids() (or
  // add()): a bulk load (open's scan) then inserts its ids together, their cache misses
  // overlapped. REQUIRES: index_ids() before the next find().
  void add_deferring_id(std::string_view entity, std::string_view scope, const Entry& entry, const Hash32& event_hash);
  // Puts the ids of the rows added by add_deferring_id() into the id table. False when one
  // of them was already there (that row is then not found by its id; the first one is).
  bool index_ids();
  // Takes the next global sequence for an event hidden by a cancelled visibility fence: no
  // lookup, query or plan returns it, and its entity's chain continues without it.
  // REQUIRES: its global_sequence == size() + 1.
  void add_hidden();

  // Holds the index's lock exclusively while one group of events is added, so that no
  // reader (a checkpoint cut among them) sees part of a batch. Its add() and add_hidden()
  // are the Index's, except that the group's ids go into the id table together when the
  // Adder is dropped (their cache misses overlapped), before the lock is released. Not
  // thread-safe itself: one thread adds through it, then drops it.
  class Adder {
   public:
    Adder(const Adder&) = delete;
    Adder& operator=(const Adder&) = delete;
    ~Adder();
    void add(std::string_view entity, std::string_view scope, const Entry& entry, const Hash32& event_hash);
    void add_hidden();

   private:
    friend class Index;
    explicit Adder(Index& index) : index_(index), lock_(index.mu_) {}
    Index& index_;
    std::unique_lock<std::shared_mutex> lock_;
  };
  Adder adder() { return Adder(*this); }

  // The highest global sequence taken (hidden events included).
  uint64_t size() const;
  // size() as of the end of the last Adder or index_ids() call, read without the lock (so it
  // may lag size()). For callers on a hot path that must not wait for a publishing writer.
  uint64_t published_size() const { return published_rows_.load(std::memory_order_acquire); }
  uint64_t hidden_count() const;
  uint64_t entity_count() const;
  // Up to `limit` entities named `prefix` or `prefix:*` (every entity when `prefix` is
  // empty) whose names sort after `after`, in name order: each with a visible event now or
  // before the history horizon (an entity whose only events are hidden is not one).
  std::vector<EntitySummary> list_entities(std::string_view prefix, std::string_view after, size_t limit) const;
  std::optional<uint64_t> find(const EventId& id) const;  // Global sequence of an event.
  // Nothing for an unknown or hidden sequence.
  std::optional<Located> at(uint64_t global_sequence) const;
  // The rows of `global_sequences` under one lock, in order; the first unknown (or hidden)
  // sequence instead when there is one.
  std::variant<std::vector<Located>, uint64_t> at_all(std::span<const uint64_t> global_sequences) const;
  std::optional<EntityHead> head(std::string_view entity) const;
  uint64_t entity_generation(std::string_view entity) const;

  // Matching events with global_sequence > after, ascending, at most `limit`.
  std::vector<Located> select(const Region& region, uint64_t after, size_t limit) const;
  // How many visible events match with global_sequence > after. Without an entity prefix it
  // reads every row after `after`, taking the lock a window of rows at a time so that a long
  // count does not hold back the writer's publishing (index_count.cpp).
  uint64_t count(const Region& region, uint64_t after) const;
  // The entity's events whose kind is in `kinds` (all when empty) and whose global sequence
  // is above `after`, in clock order; with the last such event's sequence of all (however
  // old), the entity's generation and its last event hash, read under one lock. Costs the
  // events listed, a binary search, and (when none is listed) a walk back to the last
  // relevant event.
  struct EntityPlan {
    std::vector<uint64_t> global_sequences;
    uint64_t watermark = 0;  // The entity's last relevant global sequence; 0: none.
    uint64_t generation = 0;
    Hash32 head_hash;
    uint64_t dropped_generation = 0;  // The entity's clock at the history horizon.
  };
  EntityPlan plan(std::string_view entity, std::span<const EventKind> kinds, uint64_t after = 0) const;
  // The entity's last event before the history horizon; clock 0 when none was dropped (or
  // the entity has no event).
  EntityHead horizon_head(std::string_view entity) const;
  // The entity's events with clock <= `clock`, newest first, at most `limit`.
  std::vector<Located> chain_back(std::string_view entity, uint32_t clock, size_t limit) const;
  // The visible rows of one segment in global order, and whether a hidden row lies between
  // the first and the last of them. Empty when no visible row is in that segment. The lock
  // is taken a piece at a time: REQUIRES the segment is sealed (its rows no longer change).
  struct SegmentRows {
    std::vector<Located> rows;
    bool hidden_among = false;
  };
  SegmentRows segment_rows(uint64_t segment_id) const;
  // Every entity's last visible event, for resuming a chain check after a checkpoint.
  std::vector<std::pair<std::string, EntityHead>> heads() const;
  // Empties the index, history horizon included (a checkpoint that failed to load leaves
  // the way clear for a scan).
  void clear();

  // Starts the index after dropped history (docs/retention.md): the next event added is
  // `first_sequence`, and each entity of `heads` continues from that head (its last event
  // before the horizon), which head(), entity_generation() and chain links report until the
  // entity has a newer event. REQUIRES: the index is empty; first_sequence >= 1.
  void start_after_horizon(uint64_t first_sequence, const std::vector<std::pair<std::string, EntityHead>>& heads);
  // The lowest global sequence the index can hold: 1, or the history horizon.
  uint64_t first_sequence() const;
  // Visible events held (hidden ones, and dropped history, not counted).
  uint64_t visible_count() const;

 private:
  friend class CheckpointCodec;  // Writes and rebuilds the tables below (index_checkpoint.cpp).
  friend void add_footer_rows(Index& index, const SegmentFooter& footer);  // segment_footer.cpp

  struct EntityState {
    std::string name;
    // The entity's last event before the history horizon (clock 0: none dropped).
    EntityHead horizon;
    std::vector<uint64_t> sequences;  // Ascending; index i holds clock horizon.clock + i + 1.
    std::vector<EventKind> kinds;     // kinds[i]: the kind of sequences[i] (plans scan it).
    Hash32 head_hash;                 // The event hash of its last (visible) event.
    uint64_t generation() const { return horizon.clock + sequences.size(); }
  };
  struct Row {
    Entry entry;
    uint32_t entity = 0;  // kHiddenEntity for a hidden event (its other fields are unset).
    uint32_t scope = 0;
  };
  static constexpr uint32_t kHiddenEntity = UINT32_MAX;

  // The row of a global sequence. REQUIRES: mu_ held; first_sequence_ <= global_sequence
  // < end_sequence().
  const Row& row(uint64_t global_sequence) const { return rows_[global_sequence - first_sequence_]; }
  uint64_t end_sequence() const { return first_sequence_ + rows_.size(); }  // REQUIRES: mu_ held.
  // REQUIRES: mu_ held, sequence valid and not hidden.
  Located locate(uint64_t global_sequence) const;
  bool visible_row(uint64_t global_sequence) const;  // REQUIRES: mu_ held.
  // The row is visible and its event matches `region`. REQUIRES: mu_ held, sequence valid.
  bool row_matches(uint64_t global_sequence, const Region& region) const;
  // The first visible global sequence >= `global_sequence`, or size() + 1. REQUIRES: mu_ held.
  uint64_t visible_at_or_after(uint64_t global_sequence) const;
  // The first global sequence from which every visible row is in `segment_id` or a later
  // segment (size() + 1 when none is). REQUIRES: mu_ held.
  uint64_t first_sequence_of_segment_or_later(uint64_t segment_id) const;
  uint32_t intern_scope(std::string_view scope);    // REQUIRES: mu_ held exclusively.
  // start_after_horizon(). REQUIRES: mu_ held exclusively.
  void start_after_horizon_locked(uint64_t first_sequence, const std::vector<std::pair<std::string, EntityHead>>& heads);
  // The entity's id, or nothing when it has no event. REQUIRES: mu_ held.
  std::optional<uint32_t> entity_id(std::string_view entity) const;
  // Registers a new entity and returns its id, or nothing when it is already known.
  // REQUIRES: mu_ held exclusively.
  std::optional<uint32_t> add_entity(std::string_view entity);
  std::vector<const EntityState*> matching_entities(const Region& region) const;
  // add() without the id table. REQUIRES: mu_ held exclusively.
  void add_row(std::string_view entity, std::string_view scope, const Entry& entry, const Hash32& event_hash);
  bool index_ids_locked();  // REQUIRES: mu_ held exclusively.
  void add_hidden_locked();  // REQUIRES: mu_ held exclusively.
  EntityHead head_of(const EntityState& state) const;  // REQUIRES: mu_ held.

  mutable std::shared_mutex mu_;
  uint64_t first_sequence_ = 1;   // The history horizon: global sequences below it were dropped.
  util::ChunkedArray<Row> rows_;  // rows_[global_sequence - first_sequence_]
  IdTable by_id_{[this](uint64_t global_sequence) -> const EventId& { return row(global_sequence).entry.event_id; }};
  std::map<std::string, uint32_t, std::less<>> entity_ids_;  // Sorted, for prefix ranges.
  // The same ids hashed, for the exact lookup of every add (keys view entity_ids_'s keys).
  std::unordered_map<std::string_view, uint32_t> entity_lookup_;
  std::deque<EntityState> entities_;
  std::unordered_map<std::string_view, uint32_t> scope_ids_;  // Keys view scopes_.
  std::deque<std::string> scopes_;
  uint64_t hidden_count_ = 0;
  std::vector<SequenceRange> hidden_ranges_;  // The hidden rows, merged, ascending.
  uint64_t rows_with_ids_ = 0;  // The first this many rows have their ids in by_id_ (hidden rows have none).
  std::atomic<uint64_t> published_rows_{0};  // Set with rows_with_ids_, under the lock.
};

}  // namespace batpak::index
