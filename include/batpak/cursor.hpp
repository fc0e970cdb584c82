// Cursors: ordered, at-least-once pull over a Region, optionally resumable from a durable
// checkpoint.
//
//   auto cursor = batpak::Cursor::resume(store, batpak::Region::entity("order"), "billing");
//   if (!cursor) return cursor.error();   // kCorruption or kCheckpointMismatch: fail closed.
//   while (running) {
//     auto batch = cursor->wait_batch(64, 1000);
//     if (!batch) { if (batch.error().code == batpak::ErrorCode::kTimeout) continue; break; }
//     handle(*batch);                       // Must be idempotent: see "Delivery" below.
//     if (auto s = cursor->commit(); !s) break;
//   }
//
// Delivery. A cursor returns the committed events matching its region in commit (global
// sequence) order, each once per cursor object, and sees events appended after it was
// created. Without a checkpoint it is at-least-once within the process: its position lives
// in memory. With a checkpoint, commit() makes the position durable, and resume() after a
// restart (or a crash) starts right after the last committed position: events delivered
// but not committed are delivered again. Never exactly-once: that would need the
// checkpoint and the handler's side effect in one atomic write.
//
// Checkpoints live in `<store dir>/cursors/<checkpoint id>.ckpt` (docs/format.md,
// "Cursor checkpoints"), written to a temporary file, fsync'd, renamed over the old one and
// the directory fsync'd, so a crash leaves the old or the new position, never a mix. Each
// checkpoint records the identity of its region (Region::identity()); resuming it with
// another region fails with kCheckpointMismatch, and a damaged file fails with kCorruption:
// a consumer never silently restarts from the beginning or skips events. A checkpoint never
// runs ahead of the durable journal (commit() first makes the events up to its position
// durable, which in kBuffered and kAsync mode may cost a sync), so a power cut cannot leave
// it past the journal's end, where it would skip the new events taking those sequences; a
// checkpoint found beyond the end anyway (copied from another store) is kCheckpointMismatch.
// A missing file starts a fresh cursor.
//
// Thread safety: a Cursor is used by one thread at a time. Any number of cursors may read
// one store while other threads append. The Store must outlive its cursors. The static
// checkpoint functions may run on any thread, but not two at once for one checkpoint id.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batpak/store.hpp"

namespace batpak {

// Events a cursor skipped because a cancelled visibility fence hid them: it expected
// `expected_sequence` next and delivered `delivered_sequence`; `cancelled_ranges` are the
// cancelled ranges clipped to [expected, delivered).
struct GapObservation {
  uint64_t expected_sequence = 0;
  uint64_t delivered_sequence = 0;
  std::vector<SequenceRange> cancelled_ranges;
};

// One durable cursor checkpoint as stored (Cursor::list_checkpoints). A plain value.
struct CursorCheckpointInfo {
  std::string checkpoint_id;
  // position, region_identity and sequences_behind are set when the file decoded.
  uint64_t position = 0;        // The last committed global sequence (0: none).
  std::string region_identity;  // Region::identity() of the region it was written for.
  // Global sequences committed after `position`, in any region: how far the cursor is from
  // the end of the journal, an upper bound on the events it has still to deliver.
  uint64_t sequences_behind = 0;
  // The events of its region after `position` (Store::count_matching): what a resume() with
  // that region would deliver now. Nullopt when the file does not decode, `error` is set, or
  // its region identity does not read back (Region::from_identity).
  std::optional<uint64_t> pending_events;
  // Why resume() would refuse this checkpoint with any region: the file does not decode
  // (kCorruption, kUnsupported, kIo), or its position is beyond the journal's last global
  // sequence (kCheckpointMismatch). Error::file is the checkpoint's path.
  std::optional<Error> error;
};

class Cursor {
 public:
  // A cursor over `region` delivering the events with global_sequence >
  // after_global_sequence (0: from the first event). No checkpoint.
  Cursor(const Store& store, Region region, uint64_t after_global_sequence = 0);

  // A cursor bound to the durable checkpoint `checkpoint_id`: it starts after the checkpoint's
  // position, or from the first event when there is no checkpoint yet. Errors:
  // kInvalidArgument (a bad id: see validate_checkpoint_id), kCorruption (a damaged or
  // truncated checkpoint file), kUnsupported (a newer checkpoint format),
  // kCheckpointMismatch (written for another region, or its position is beyond the journal's
  // last global sequence), kIo.
  static Result<Cursor> resume(const Store& store, Region region, std::string checkpoint_id);

  // A checkpoint id is a file name: 1 to 200 bytes of UTF-8 without control bytes, '/' or "..".
  static Status validate_checkpoint_id(std::string_view checkpoint_id);

  // ---- Managing durable checkpoints (docs/delivery.md, "Managing checkpoints") ----
  // These read and change the files under `<store dir>/cursors` directly. REQUIRES for
  // remove_checkpoint and move_checkpoint: no Cursor bound to `checkpoint_id` commits during
  // the call; one that commits later writes its own position over the change.

  // Every durable checkpoint of `store`, sorted by id; empty when there is none. A file that
  // does not decode is listed with its error, not skipped. Errors: kIo (listing the directory).
  static Result<std::vector<CursorCheckpointInfo>> list_checkpoints(const Store& store);
  // Deletes the checkpoint `checkpoint_id` durably (a crash leaves it or nothing), so that it
  // no longer holds back Store::drop_history; a later resume() with the id starts from the
  // first event. A damaged checkpoint can be removed too. Errors: kInvalidArgument (a bad
  // id), kNotFound (no such checkpoint), kReadOnly (the store is not open read-write), kIo.
  static Status remove_checkpoint(const Store& store, std::string_view checkpoint_id);
  // Sets the position of the existing checkpoint `checkpoint_id` to `position` (back, to
  // deliver events again, or ahead, to skip them), keeping its region, atomically and
  // durably as commit() does; the events up to `position` are made durable first. Returns
  // the position it had. Errors:
  // kInvalidArgument (a bad id, or `position` beyond the journal's last global sequence),
  // kNotFound, kCorruption / kUnsupported (the checkpoint does not decode: remove it
  // instead), kReadOnly, kIo, kPoisoned.
  static Result<uint64_t> move_checkpoint(const Store& store, std::string_view checkpoint_id, uint64_t position);

  // The next matching event after position(), if one is visible now; advances position().
  Result<std::optional<Event>> poll();
  // Up to `max` matching events after position(), in commit order; advances position() to
  // the last one. Empty when nothing new is visible.
  Result<std::vector<Event>> poll_batch(size_t max);
  // Like poll_batch, but first waits up to `timeout_ms` for a matching event to become
  // visible: kTimeout if none did, kClosed if the store closed.
  Result<std::vector<Event>> wait_batch(size_t max, uint32_t timeout_ms);

  // Marks every event up to position() as handled: rollback() returns here. For a cursor made
  // by resume() it also makes position() the durable checkpoint (atomic: the old or the new
  // position survives a crash), after making every event up to it durable
  // (Store::sync_through); that needs a store opened read-write (else kReadOnly), and after
  // an error (kIo, kPoisoned) the committed position is unchanged.
  Status commit();
  // Moves position() back to committed_position(): the events after it are delivered again.
  void rollback();

  // Gap observation (off by default): from now on, each delivery that skips global sequences
  // hidden by a cancelled fence is recorded, the newest `capacity` kept (0: off). Sequences
  // skipped only because they are outside the region are not gaps. Hidden sequences after
  // the last delivered event show up with the next delivery.
  void observe_gaps(size_t capacity);
  // The recorded gaps, oldest first; clears them.
  std::vector<GapObservation> take_gaps();

  // How many matching events follow position() now (Store::count_matching): the cursor's
  // backlog. Errors: kClosed.
  Result<uint64_t> pending_events() const;
  // The global sequence of the last event delivered (or the starting point).
  uint64_t position() const { return position_; }
  // The position of the last successful commit() or the loaded checkpoint (the starting
  // point for a cursor without a checkpoint).
  uint64_t committed_position() const { return committed_position_; }
  const Region& region() const { return region_; }
  // Empty for a cursor without a checkpoint.
  const std::string& checkpoint_id() const { return checkpoint_id_; }
  // The checkpoint file's path; empty for a cursor without a checkpoint.
  std::string checkpoint_path() const;

 private:
  const Store* store_;
  Region region_;
  std::string checkpoint_id_;
  void record_gap(uint64_t expected, uint64_t delivered);

  uint64_t position_ = 0;
  uint64_t committed_position_ = 0;
  size_t gaps_capacity_ = 0;
  std::deque<GapObservation> gaps_;
};

}  // namespace batpak
