#include "batpak/cursor.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

#include "delivery/checkpoint.hpp"

namespace batpak {

namespace {

constexpr size_t kCheckpointIdBytesMax = 200;  // Leaves room for ".ckpt.tmp" in a 255-byte name.

// kCheckpointMismatch when a checkpoint's position is beyond the journal's end.
Status check_within_journal(uint64_t position, uint64_t journal_end, const std::string& path) {
  if (position <= journal_end) return {};
  return tl::unexpected(Error{ErrorCode::kCheckpointMismatch,
                              "checkpoint position " + std::to_string(position) +
                                  " is beyond the journal's last global sequence " + std::to_string(journal_end) +
                                  ": it belongs to another store, or this one lost events",
                              path, 0, {}});
}

Status check_writable(const Store& store) {
  if (store.access_mode() == AccessMode::kReadWrite) return {};
  return make_error(ErrorCode::kReadOnly, "cursor checkpoints are written only on a read-write store");
}

Error no_checkpoint(std::string_view checkpoint_id, const std::string& path) {
  return Error{ErrorCode::kNotFound, "no cursor checkpoint \"" + std::string(checkpoint_id) + "\"", path, 0, {}};
}

// What remove_checkpoint and move_checkpoint check first: the id, then the access mode.
Status check_change(const Store& store, std::string_view checkpoint_id) {
  if (auto valid = Cursor::validate_checkpoint_id(checkpoint_id); !valid) return valid;
  return check_writable(store);
}

}  // namespace

Cursor::Cursor(const Store& store, Region region, uint64_t after_global_sequence)
    : store_(&store),
      region_(std::move(region)),
      position_(after_global_sequence),
      committed_position_(after_global_sequence) {}

Status Cursor::validate_checkpoint_id(std::string_view checkpoint_id) {
  if (checkpoint_id.size() > kCheckpointIdBytesMax) {
    return make_error(ErrorCode::kInvalidArgument,
                      "checkpoint id is longer than " + std::to_string(kCheckpointIdBytesMax) + " bytes");
  }
  return Coordinate::validate_component(checkpoint_id, "checkpoint id");
}

Result<Cursor> Cursor::resume(const Store& store, Region region, std::string checkpoint_id) {
  if (auto valid = validate_checkpoint_id(checkpoint_id); !valid) return tl::unexpected(valid.error());
  const std::string path = delivery::checkpoint_path(store.dir(), checkpoint_id);
  auto loaded = delivery::load_checkpoint(*store.fs(), path);
  if (!loaded) return tl::unexpected(loaded.error());
  Cursor cursor(store, std::move(region), 0);
  cursor.checkpoint_id_ = std::move(checkpoint_id);
  if (!*loaded) return cursor;  // No checkpoint yet: from the first event.
  const std::string expected = cursor.region_.identity();
  if ((*loaded)->region_identity != expected) {
    return tl::unexpected(Error{ErrorCode::kCheckpointMismatch,
                                "checkpoint was written for region \"" + (*loaded)->region_identity +
                                    "\", not \"" + expected + "\"",
                                path, 0, {}});
  }
  if (auto within = check_within_journal((*loaded)->position, store.stats().last_global_sequence, path); !within) {
    return tl::unexpected(within.error());
  }
  cursor.position_ = cursor.committed_position_ = (*loaded)->position;
  return cursor;
}

std::string Cursor::checkpoint_path() const {
  return checkpoint_id_.empty() ? std::string() : delivery::checkpoint_path(store_->dir(), checkpoint_id_);
}

Result<std::optional<Event>> Cursor::poll() {
  auto batch = poll_batch(1);
  if (!batch) return tl::unexpected(batch.error());
  if (batch->empty()) return std::optional<Event>();
  return std::optional<Event>(std::move(batch->front()));
}

Result<std::vector<Event>> Cursor::poll_batch(size_t max) {
  if (max == 0) return std::vector<Event>();
  auto page = store_->query_after(region_, position_, max);
  if (!page) return page;
  uint64_t expected = position_ + 1;
  for (const Event& e : *page) {
    if (gaps_capacity_ > 0 && e.header.global_sequence > expected) record_gap(expected, e.header.global_sequence);
    expected = e.header.global_sequence + 1;
  }
  if (!page->empty()) position_ = page->back().header.global_sequence;
  return page;
}

void Cursor::observe_gaps(size_t capacity) {
  gaps_capacity_ = capacity;
  while (gaps_.size() > gaps_capacity_) gaps_.pop_front();
}

std::vector<GapObservation> Cursor::take_gaps() {
  std::vector<GapObservation> out(std::make_move_iterator(gaps_.begin()), std::make_move_iterator(gaps_.end()));
  gaps_.clear();
  return out;
}

void Cursor::record_gap(uint64_t expected, uint64_t delivered) {
  GapObservation gap{expected, delivered, {}};
  for (const SequenceRange& r : store_->cancelled_ranges()) {
    const SequenceRange overlap{std::max(r.start, expected), std::min(r.end, delivered)};
    if (overlap.start < overlap.end) gap.cancelled_ranges.push_back(overlap);
  }
  if (gap.cancelled_ranges.empty()) return;  // Skipped only by the region filter: no gap.
  if (gaps_.size() == gaps_capacity_) gaps_.pop_front();
  gaps_.push_back(std::move(gap));
}

Result<std::vector<Event>> Cursor::wait_batch(size_t max, uint32_t timeout_ms) {
  using Steady = std::chrono::steady_clock;
  const Steady::time_point deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    // Sampled before the poll: an event indexed after it makes the wait return at once.
    const uint64_t seen = store_->stats().last_global_sequence;
    auto batch = poll_batch(max);
    if (!batch || !batch->empty()) return batch;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now());
    if (left.count() <= 0) return make_error(ErrorCode::kTimeout, "no matching event became visible in time");
    auto visible = store_->wait_for_visible(seen, static_cast<uint32_t>(left.count()));
    if (!visible) return tl::unexpected(visible.error());
  }
}

Status Cursor::commit() {
  if (checkpoint_id_.empty()) {
    committed_position_ = position_;  // In memory only.
    return {};
  }
  if (auto s = check_writable(*store_); !s) return s;
  if (position_ == committed_position_) return {};
  // A checkpoint ahead of the durable journal would outlive the events it passed in a power
  // cut, and skip the new events that then take their sequences.
  if (auto s = store_->sync_through(position_); !s) return s;
  delivery::CheckpointRecord record{position_, region_.identity()};
  if (auto s = delivery::save_checkpoint(*store_->fs(), store_->dir(), checkpoint_id_, record); !s) return s;
  committed_position_ = position_;
  return {};
}

void Cursor::rollback() { position_ = committed_position_; }

Result<std::vector<CursorCheckpointInfo>> Cursor::list_checkpoints(const Store& store) {
  auto ids = delivery::list_checkpoint_ids(*store.fs(), store.dir());
  if (!ids) return tl::unexpected(ids.error());
  const uint64_t journal_end = store.stats().last_global_sequence;
  std::vector<CursorCheckpointInfo> out;
  for (std::string& id : *ids) {
    const std::string path = delivery::checkpoint_path(store.dir(), id);
    auto loaded = delivery::load_checkpoint(*store.fs(), path);
    if (loaded && !*loaded) continue;  // Removed since the listing.
    CursorCheckpointInfo info;
    info.checkpoint_id = std::move(id);
    if (!loaded) {
      info.error = loaded.error();
    } else {
      info.position = (*loaded)->position;
      info.region_identity = std::move((*loaded)->region_identity);
      info.sequences_behind = journal_end > info.position ? journal_end - info.position : 0;
      if (auto within = check_within_journal(info.position, journal_end, path); !within) info.error = within.error();
      if (auto region = Region::from_identity(info.region_identity); region && !info.error) {
        auto pending = store.count_matching(*region, info.position);
        if (!pending) return tl::unexpected(pending.error());
        info.pending_events = *pending;
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

Result<uint64_t> Cursor::pending_events() const { return store_->count_matching(region_, position_); }

Status Cursor::remove_checkpoint(const Store& store, std::string_view checkpoint_id) {
  if (auto s = check_change(store, checkpoint_id); !s) return s;
  const std::string path = delivery::checkpoint_path(store.dir(), std::string(checkpoint_id));
  auto exists = store.fs()->exists(path);  // Not decoded: a damaged checkpoint is removed too.
  if (!exists) return tl::unexpected(exists.error());
  if (!*exists) return tl::unexpected(no_checkpoint(checkpoint_id, path));
  return delivery::remove_checkpoint(*store.fs(), store.dir(), std::string(checkpoint_id));
}

Result<uint64_t> Cursor::move_checkpoint(const Store& store, std::string_view checkpoint_id, uint64_t position) {
  if (auto s = check_change(store, checkpoint_id); !s) return tl::unexpected(s.error());
  const std::string path = delivery::checkpoint_path(store.dir(), std::string(checkpoint_id));
  auto loaded = delivery::load_checkpoint(*store.fs(), path);
  if (!loaded) return tl::unexpected(loaded.error());
  if (!*loaded) return tl::unexpected(no_checkpoint(checkpoint_id, path));
  const uint64_t journal_end = store.stats().last_global_sequence;
  if (position > journal_end) {
    return make_error(ErrorCode::kInvalidArgument, "position " + std::to_string(position) +
                                                       " is beyond the journal's last global sequence " +
                                                       std::to_string(journal_end));
  }
  // Never ahead of the durable journal, for the reason commit() gives.
  if (auto s = store.sync_through(position); !s) return tl::unexpected(s.error());
  const uint64_t previous = std::exchange((*loaded)->position, position);
  if (auto s = delivery::save_checkpoint(*store.fs(), store.dir(), std::string(checkpoint_id), **loaded); !s) {
    return tl::unexpected(s.error());
  }
  return previous;
}

}  // namespace batpak
