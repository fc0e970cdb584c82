#include "writer/writer.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <unordered_set>

#include "format/format.hpp"
#include "format/record.hpp"

namespace batpak::writer {

Writer::Writer(WriterConfig config, index::Index& index, segment::SegmentSet& segments,
               std::unique_ptr<SegmentIo> io, std::unique_ptr<TailRing> tail_ring)
    : config_(config), index_(index), segments_(segments), io_(std::move(io)), tail_ring_(std::move(tail_ring)) {
  assert(config_.clock != nullptr && config_.notifier != nullptr && config_.watermarks != nullptr &&
         config_.fence_log != nullptr);
  next_sequence_ = index_.size() + 1;
  visible_sequence_ = written_sequence_ = durable_sequence_ = index_.size();
  sequenced_atomic_ = written_atomic_ = index_.size();
  accepted_point_ = written_point_ = durable_point_ = visible_point_ = config_.watermarks->frontier().visible;
  group_durable_ = durable_sequence_;
  active_segment_ = durable_segment_ = io_->active_id();
  next_offset_ = durable_offset_ = io_->data_end();
  thread_ = std::thread([this] { run(); });
}

Writer::~Writer() {
  if (thread_.joinable()) (void)close();
}

uint64_t Writer::now_ms() const { return static_cast<uint64_t>(config_.clock->now_us() / 1000); }

Status Writer::check_writable() const {
  if (closed_ || closing_) return make_error(ErrorCode::kClosed, "the store is closed");
  if (poisoned_) {
    Error e = *poisoned_;
    e.code = ErrorCode::kPoisoned;
    e.message = "an earlier write or sync failed (" + poisoned_->message + "); reopen the store";
    return tl::unexpected(e);
  }
  return {};
}

Status Writer::check_fence(const Prepared& first) const {
  if (first.fence != 0 && first.condition != nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "append conditions are not accepted inside a visibility fence");
  }
  if ((fence_ || fence_starting_) && first.fence == 0) {
    return make_error(ErrorCode::kFenceActive, "a visibility fence is open: append through it, or after it ends");
  }
  if (first.fence != 0 && (!fence_ || fence_->first_sequence != first.fence || fence_->ending)) {
    return make_error(ErrorCode::kFenceNotActive, "the fence was already committed or cancelled");
  }
  return {};
}

void Writer::poison(const Error& error) {
  if (!poisoned_) poisoned_ = error;
  announce();
  Error e = error;
  e.code = ErrorCode::kPoisoned;
  e.message = "the writer failed: " + error.message;
  config_.watermarks->fail(e);
}

void Writer::advance_marks() {
  config_.watermarks->advance(accepted_point_, written_point_, durable_point_, visible_point_);
}

void Writer::announce() {
  publish_group();
  group_epoch_.advance();
}

void Writer::publish_group() {
  advance_marks();
  group_durable_.store(durable_sequence_);
  group_failed_.store(poisoned_.has_value());
  done_cv_.notify_all();
}

uint64_t Writer::durable_sequence() const {
  std::lock_guard lock(mu_);
  return durable_sequence_;
}

bool Writer::poisoned() const {
  std::lock_guard lock(mu_);
  return poisoned_.has_value();
}

index::EntityHead& Writer::head_of(const std::string& entity) {
  auto it = heads_.find(entity);
  if (it != heads_.end()) return it->second;
  return heads_.emplace(entity, index_.head(entity).value_or(index::EntityHead{})).first->second;
}

Result<std::optional<std::vector<uint64_t>>> Writer::replay_if_duplicate(
    std::unique_lock<std::mutex>& lock, std::span<const Prepared> events) {
  std::unordered_set<EventId, index::EventIdHash> seen;
  std::vector<uint64_t> replays;
  uint64_t newest = 0;
  for (const Prepared& e : events) {
    if (!e.keyed) continue;
    if (!seen.insert(e.event_id).second) {
      return make_error(ErrorCode::kInvalidArgument, "the same idempotency key twice in one batch");
    }
    if (fence_ && fence_->keyed_ids.contains(e.event_id)) {
      return make_error(ErrorCode::kConflict, "an idempotency key of this batch was already used in the open fence");
    }
    std::optional<uint64_t> seq = index_.find(e.event_id);
    if (!seq) {
      if (auto it = unpublished_ids_.find(e.event_id); it != unpublished_ids_.end()) seq = it->second;
    }
    if (!seq) continue;
    newest = std::max(newest, *seq);
    replays.push_back(*seq);
  }
  if (replays.empty()) return std::optional<std::vector<uint64_t>>();
  if (replays.size() != events.size()) {
    return make_error(ErrorCode::kConflict,
                      "some, but not all, idempotency keys of the batch were already committed");
  }
  done_cv_.wait(lock, [&] { return visible_sequence_ >= newest || poisoned_; });
  if (visible_sequence_ < newest) return tl::unexpected(*poisoned_);
  return std::optional<std::vector<uint64_t>>(std::move(replays));
}

Status Writer::wait_until_all_visible_if_conditional(std::unique_lock<std::mutex>& lock,
                                                     std::span<const Prepared> events) {
  auto stopped = [&] { return poisoned_.has_value() || closing_ || closed_; };
  const bool conditional = std::any_of(events.begin(), events.end(), [](const Prepared& e) { return e.condition; });
  if (!conditional) {
    // Plain commits let waiting conditional ones go first, so a steady stream of appends
    // cannot starve them.
    if (conditional_waiting_ == 0) return {};
    done_cv_.wait(lock, [&] { return conditional_waiting_ == 0 || stopped(); });
    return check_writable();
  }
  // Events sequenced but not yet published are not in the index: wait until there are none,
  // then (still under mu_) nothing can be sequenced before this commit.
  ++conditional_waiting_;
  done_cv_.wait(lock, [&] { return visible_sequence_ + 1 == next_sequence_ || stopped(); });
  if (--conditional_waiting_ == 0) done_cv_.notify_all();
  return check_writable();
}

Status Writer::check_conditions(std::span<const Prepared> events) const {
  for (const Prepared& e : events) {
    if (!e.condition) continue;
    const std::vector<index::Located> newer = index_.select(e.condition->region, e.condition->after_global_sequence, 1);
    if (!newer.empty()) {
      return tl::unexpected(Error{ErrorCode::kConflict,
                                  "append condition failed: event " + std::to_string(newer.front().global_sequence) +
                                      " matches the region and is after " +
                                      std::to_string(e.condition->after_global_sequence),
                                  {}, 0, e.coordinate->entity()});
    }
  }
  return {};
}

Status Writer::check_expected_clocks(std::span<const Prepared> events) {
  const bool expectations = std::any_of(events.begin(), events.end(), [](const Prepared& e) { return e.expected_clock; });
  // Each event adds 1 to one entity's clock, so no clock exceeds the sequences taken; without
  // expectations only an exhausted clock can fail, and none can be while sequences are far
  // from UINT32_MAX.
  if (!expectations && next_sequence_ + events.size() <= UINT32_MAX) return {};
  std::unordered_map<std::string, uint32_t> clocks;  // Clock after the batch's earlier items.
  for (const Prepared& e : events) {
    const std::string& entity = e.coordinate->entity();
    auto it = events.size() == 1 ? clocks.end() : clocks.find(entity);
    const uint32_t current = it != clocks.end() ? it->second : head_of(entity).clock;
    if (e.expected_clock && *e.expected_clock != current) {
      Error err{ErrorCode::kConflict,
                "expected clock " + std::to_string(*e.expected_clock) + ", entity is at " +
                    std::to_string(current),
                {}, 0, entity};
      return tl::unexpected(std::move(err));
    }
    if (current == UINT32_MAX) return make_error(ErrorCode::kTooLarge, "entity clock exhausted");
    if (events.size() > 1) clocks[entity] = current + 1;
  }
  return {};
}

std::vector<Receipt> Writer::sequence(std::span<const Prepared> events, Chunk& chunk) {
  std::vector<Receipt> out;
  out.reserve(events.size());
  const uint64_t now = now_ms();
  const uint64_t floor = config_.durability == Durability::kSync ? chunk.start_offset
                         : durable_segment_ == chunk.segment_id  ? durable_offset_
                                                                 : format::kSegmentHeaderBytes;
  for (size_t i = 0; i < events.size(); ++i) {
    const Prepared& e = events[i];
    const std::string& entity = e.coordinate->entity();
    const std::string& scope = e.coordinate->scope();
    index::EntityHead& head = head_of(entity);
    EventHeader h;
    h.event_id = e.event_id;
    h.correlation_id = e.correlation_id.is_nil() ? e.event_id : e.correlation_id;
    h.causation_id = e.causation_id;
    h.global_sequence = next_sequence_++;
    h.clock = head.clock + 1;
    h.wall_ms = std::max(e.wall_ms.value_or(now), head.wall_ms);
    accepted_point_ = HlcPoint{std::max(accepted_point_.wall_ms, h.wall_ms), h.global_sequence};
    h.timestamp_us = e.timestamp_us;
    h.kind = e.kind;
    h.flags = e.flags;
    h.payload_version = e.payload_version;
    h.content_hash = e.content_hash;
    h.prev_hash = head.event_hash;
    h.event_hash = format::compute_event_hash(h, entity, scope);

    const size_t before = chunk.bytes.size();
    const format::FrameContext ctx{static_cast<uint32_t>(events.size()), static_cast<uint32_t>(i), floor};
    format::encode_frame(h, ctx, entity, scope, e.payload, chunk.bytes);
    const auto frame_bytes = static_cast<uint32_t>(chunk.bytes.size() - before);
    index::Entry entry{h.event_id, chunk.segment_id, next_offset_, h.wall_ms, frame_bytes, h.clock, h.kind};
    next_offset_ += frame_bytes;
    head = index::EntityHead{h.clock, h.event_hash, h.wall_ms};
    chunk.events.push_back(PendingEvent{entry, h.event_hash, entity, scope});
    chunk.last_point = accepted_point_;

    out.push_back(format::receipt_of(h, entity, scope));
  }
  return out;
}

Writer::Chunk& Writer::chunk_for(uint64_t frame_bytes_total) {
  const bool rotate = next_offset_ > format::kSegmentHeaderBytes &&
                      next_offset_ + frame_bytes_total > config_.segment_bytes_max;
  if (rotate) {
    ++active_segment_;
    next_offset_ = format::kSegmentHeaderBytes;
  }
  if (chunks_.empty() || chunks_.back().segment_id != active_segment_) {
    Chunk& fresh = chunks_.emplace_back(std::move(spare_));  // With the spare's capacity.
    spare_ = Chunk{};
    fresh.segment_id = active_segment_;
    fresh.start_offset = next_offset_;
    fresh.last_point = {};
    fresh.ring_end = 0;
  }
  return chunks_.back();
}

void Writer::recycle(Chunk& written) {
  constexpr size_t kSpareBytesMax = 1u << 20;  // A huge batch's buffer is not kept.
  if (spare_.bytes.capacity() > 0 || written.bytes.capacity() > kSpareBytesMax) return;
  written.bytes.clear();
  written.events.clear();
  spare_ = std::move(written);
}

void Writer::publish(Chunk& chunk) {
  {
    index::Index::Adder adder = index_.adder();  // A chunk holds whole batches: all visible at once.
    for (const PendingEvent& p : chunk.events) adder.add(p.entity, p.scope, p.entry, p.event_hash);
  }
  segments_.set_visible_end(chunk.segment_id, chunk.start_offset + chunk.bytes.size());
}

void Writer::publish_or_hold(Chunk& chunk) {
  if (!fence_) return publish(chunk);
  fence_->segment_ends.emplace_back(chunk.segment_id, chunk.start_offset + chunk.bytes.size());
  std::move(chunk.events.begin(), chunk.events.end(), std::back_inserter(fence_->held));
}

Result<std::optional<Committed>> Writer::admit(std::unique_lock<std::mutex>& lock,
                                               std::span<const Prepared> events) {
  if (auto s = check_writable(); !s) return tl::unexpected(s.error());
  if (auto s = check_fence(events.front()); !s) return tl::unexpected(s.error());
  if (auto s = wait_until_all_visible_if_conditional(lock, events); !s) return tl::unexpected(s.error());
  if (auto s = check_fence(events.front()); !s) return tl::unexpected(s.error());  // Began while waiting?
  auto replay = replay_if_duplicate(lock, events);
  if (!replay) return tl::unexpected(replay.error());
  if (*replay) return Committed{{}, std::move(**replay)};
  if (auto s = check_conditions(events); !s) return tl::unexpected(s.error());
  if (auto s = check_expected_clocks(events); !s) return tl::unexpected(s.error());
  return std::optional<Committed>();
}

Result<Committed> Writer::commit(std::span<const Prepared> events) {
  std::unique_lock lock(mu_);
  if (events.empty()) {
    if (auto s = check_writable(); !s) return tl::unexpected(s.error());
    return Committed{};
  }
  uint64_t total = 0;
  for (const Prepared& e : events) {
    total += format::frame_bytes(e.coordinate->entity().size(), e.coordinate->scope().size(),
                                 e.payload.size());
  }
  const bool in_ring = tail_ring_ != nullptr && tail_ring_->fits(total);
  while (true) {
    auto admitted = admit(lock, events);
    if (!admitted) return tl::unexpected(admitted.error());
    if (*admitted) return std::move(**admitted);
    if (!in_ring || tail_ring_->has_room(total)) break;
    // The ring is full until the writer thread writes what it holds. Waiting releases mu_,
    // so every check is made again.
    done_cv_.wait(lock, [&] { return tail_ring_->has_room(total) || poisoned_ || closing_ || closed_; });
  }

  Chunk& chunk = chunk_for(total);
  const size_t chunk_bytes_before = chunk.bytes.size();
  Committed out{sequence(events, chunk), {}};
  const uint64_t last = out.receipts.back().global_sequence;
  sequenced_atomic_.store(last, std::memory_order_release);
  assert(chunk.bytes.size() - chunk_bytes_before == total);  // The room asked for is what was encoded.
  if (in_ring) copy_to_ring(chunk, chunk_bytes_before, out.receipts.front().global_sequence, events.size());
  if (fence_) {
    for (const Prepared& e : events) {
      if (e.keyed) fence_->keyed_ids.insert(e.event_id);
    }
  }
  advance_marks();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].keyed) unpublished_ids_[events[i].event_id] = out.receipts[i].global_sequence;
  }
  // Wake the writer for a new group, or once the group is as large as the last one; the
  // writer is not woken for every event in between. It is woken after mu_ is released, so
  // it does not wake only to block on mu_ again.
  const uint64_t queued = queued_events_in(chunks_);
  const bool wake_writer = queued == events.size() || queued >= group_target_;
  lock.unlock();
  if (wake_writer) work_cv_.notify_one();
  if (config_.durability == Durability::kAsync || in_ring) return out;
  if (auto s = await_commit(lock, last); !s) return tl::unexpected(s.error());
  return out;
}

void Writer::copy_to_ring(Chunk& chunk, size_t bytes_before, uint64_t first_sequence, size_t events) {
  const TailRecord record{first_sequence, static_cast<uint32_t>(events), chunk.segment_id,
                          chunk.start_offset + bytes_before, std::span<const uint8_t>(chunk.bytes).subspan(bytes_before)};
  const std::optional<uint64_t> ring_end = tail_ring_->append(record);
  assert(ring_end.has_value());  // has_room() said so, under mu_.
  chunk.ring_end = ring_end.value_or(chunk.ring_end);
}

Status Writer::await_commit(std::unique_lock<std::mutex>& lock, uint64_t last) {
  if (config_.durability == Durability::kBuffered) {
    wait_until_written(last);
    lock.lock();
    if (written_sequence_ >= last) return {};
    return tl::unexpected(poisoned_.value_or(Error{ErrorCode::kClosed, "the store closed", {}, 0, {}}));
  }
  // kSync. Wait without the writer mutex, so a whole group wakes without queueing on it.
  util::WakeEpoch::Waiter waiter(group_epoch_);
  for (uint32_t epoch = waiter.epoch(); group_durable_.load() < last && !group_failed_.load();
       epoch = waiter.epoch()) {
    waiter.wait(epoch);
  }
  if (group_durable_.load() >= last) return {};
  lock.lock();
  return tl::unexpected(*poisoned_);
}

void Writer::wait_until_written(uint64_t sequence) {
  if (written_atomic_.load(std::memory_order_acquire) >= sequence) return;
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return written_sequence_ >= sequence || poisoned_ || closed_; });
}

Status Writer::sync() {
  std::unique_lock lock(mu_);
  if (auto s = check_writable(); !s) return s;
  return sync_locked(lock);
}

Status Writer::sync_locked(std::unique_lock<std::mutex>& lock) {
  const uint64_t target = next_sequence_ - 1;
  sync_requested_ = std::max(sync_requested_, target);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return durable_sequence_ >= target || poisoned_; });
  if (durable_sequence_ < target) return tl::unexpected(*poisoned_);
  return {};
}

Status Writer::wait_until_all_written(std::unique_lock<std::mutex>& lock) {
  done_cv_.wait(lock, [&] { return written_sequence_ + 1 == next_sequence_ || poisoned_ || closed_; });
  return check_writable();
}

Result<uint64_t> Writer::begin_fence() {
  std::unique_lock lock(mu_);
  if (auto s = check_writable(); !s) return tl::unexpected(s.error());
  if (fence_ || fence_starting_) {
    return make_error(ErrorCode::kFenceActive, "a visibility fence is already open (one at a time)");
  }
  // From here no plain commit is sequenced (check_fence), so once the earlier ones are
  // written and durable, a crash can lose nothing below the fence's start.
  fence_starting_ = true;
  Status ready = wait_until_all_written(lock);
  if (ready) ready = sync_locked(lock);
  if (ready) ready = config_.fence_log->record_open(next_sequence_);
  fence_starting_ = false;
  if (!ready) {
    // A failed fence-file write leaves the file's state unknown; the writer stops.
    if (ready.error().code == ErrorCode::kIo) poison(ready.error());
    return tl::unexpected(ready.error());
  }
  assert(written_sequence_ + 1 == next_sequence_ && durable_sequence_ == written_sequence_);
  const uint64_t first = next_sequence_;
  fence_.emplace(first);
  return first;
}

Status Writer::commit_fence(uint64_t fence) { return end_fence(fence, /*commit=*/true); }

Status Writer::cancel_fence(uint64_t fence) { return end_fence(fence, /*commit=*/false); }

Status Writer::end_fence(uint64_t fence, bool commit) {
  std::unique_lock lock(mu_);
  if (!fence_ || fence_->first_sequence != fence || fence_->ending) {
    return make_error(ErrorCode::kFenceNotActive, "the fence was already committed or cancelled");
  }
  if (auto s = check_writable(); !s) return s;
  fence_->ending = true;  // No more events through it, and no second end, also if this call fails.
  // Durable before visible, and before the outcome is recorded: a recorded cancel must not
  // cover sequences a crash could still lose and then reuse.
  if (auto s = wait_until_all_written(lock); !s) return s;
  if (auto s = sync_locked(lock); !s) return s;
  assert(durable_sequence_ == written_sequence_ && written_sequence_ + 1 == next_sequence_);
  Status recorded = commit ? config_.fence_log->record_committed() : config_.fence_log->record_cancelled(next_sequence_);
  if (!recorded) {
    poison(recorded.error());  // Whether the file changed is unknown: reopen decides.
    return recorded;
  }
  {
    index::Index::Adder adder = index_.adder();
    for (const PendingEvent& p : fence_->held) {
      if (commit) {
        adder.add(p.entity, p.scope, p.entry, p.event_hash);
      } else {
        adder.add_hidden();
      }
    }
  }
  for (const auto& [segment_id, end] : fence_->segment_ends) segments_.set_visible_end(segment_id, end);
  if (!commit) heads_.clear();  // Cancelled events are no entity's head: the index's are.
  fence_.reset();
  visible_sequence_ = written_sequence_;
  visible_point_ = written_point_;
  config_.notifier->publish(visible_sequence_);
  advance_marks();
  done_cv_.notify_all();
  return {};
}

Status Writer::close() {
  std::optional<uint64_t> open_fence;
  {
    std::lock_guard lock(mu_);
    if (closed_) return {};
    if (fence_ && !poisoned_) open_fence = fence_->first_sequence;
  }
  // An open fence is cancelled, as if its owner had dropped it.
  if (open_fence) (void)cancel_fence(*open_fence);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  work_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  closed_ = true;
  done_cv_.notify_all();
  if (poisoned_) return tl::unexpected(*poisoned_);
  return {};
}

void Writer::run() {
  std::unique_lock lock(mu_);
  switch (config_.durability) {
    case Durability::kSync: return run_sync_mode(lock);
    case Durability::kBuffered:
    case Durability::kAsync: return run_async_mode(lock);
  }
}

Status Writer::write_chunks(std::deque<Chunk>& chunks) {
  for (Chunk& chunk : chunks) {
    if (auto s = io_->write(chunk.segment_id, chunk.start_offset, chunk.bytes, now_ms()); !s) return s;
  }
  return {};
}

Status Writer::write_and_publish(std::deque<Chunk>& chunks, bool fenced) {
  if (auto s = write_chunks(chunks); !s) return s;
  if (auto s = io_->sync(); !s) return s;
  if (!fenced) {
    for (Chunk& chunk : chunks) publish(chunk);
  }
  return {};
}

uint64_t Writer::retire(std::deque<Chunk>& taken, bool fenced) {
  uint64_t events = 0;
  for (Chunk& chunk : taken) {
    for (const PendingEvent& p : chunk.events) unpublished_ids_.erase(p.entry.event_id);
    events += chunk.events.size();
    if (!chunk.events.empty()) written_point_ = chunk.last_point;
    if (fenced) publish_or_hold(chunk);  // Holds: the fence stays open while chunks are in flight.
  }
  written_sequence_ += events;
  written_atomic_.store(written_sequence_, std::memory_order_release);
  if (!fenced) {
    visible_sequence_ = written_sequence_;
    visible_point_ = written_point_;
    config_.notifier->publish(visible_sequence_);
  }
  return events;
}

void Writer::run_async_mode(std::unique_lock<std::mutex>& lock) {
  const auto period = std::chrono::milliseconds(config_.sync_every_ms);
  auto last_sync_at = std::chrono::steady_clock::now();
  while (true) {
    work_cv_.wait_for(lock, period, [&] {
      return closing_ || !chunks_.empty() || sync_requested_ > durable_sequence_;
    });
    std::deque<Chunk> taken;
    taken.swap(chunks_);
    const bool fenced = fence_.has_value();
    const uint64_t taken_events = queued_events_in(taken);
    const bool unsynced = taken_events > 0 || written_sequence_ > durable_sequence_;
    const bool sync_due = unsynced && (closing_ || sync_requested_ > durable_sequence_ ||
                                       unsynced_events_ + taken_events >= config_.sync_every_events ||
                                       std::chrono::steady_clock::now() - last_sync_at >= period);
    lock.unlock();
    Status s = write_chunks(taken);
    if (s && sync_due) s = io_->sync();
    if (s && !fenced) {
      for (Chunk& chunk : taken) publish(chunk);
    }
    lock.lock();
    if (!s) {
      poison(s.error());
      return;
    }
    unsynced_events_ += retire(taken, fenced);
    release_ring(taken);
    if (sync_due) {
      durable_sequence_ = written_sequence_;
      durable_point_ = written_point_;
      durable_segment_ = io_->active_id();
      durable_offset_ = io_->data_end();
      unsynced_events_ = 0;
      last_sync_at = std::chrono::steady_clock::now();
    }
    announce();
    if (!taken.empty()) recycle(taken.back());
    if (closing_ && chunks_.empty() && durable_sequence_ == written_sequence_) return;
  }
}

void Writer::release_ring(const std::deque<Chunk>& written) {
  if (tail_ring_ == nullptr) return;
  for (auto it = written.rbegin(); it != written.rend(); ++it) {
    if (it->ring_end == 0) continue;
    tail_ring_->release_to(it->ring_end);
    return;
  }
}

uint64_t Writer::queued_events_in(const std::deque<Chunk>& chunks) {
  uint64_t n = 0;
  for (const Chunk& chunk : chunks) n += chunk.events.size();
  return n;
}

void Writer::run_sync_mode(std::unique_lock<std::mutex>& lock) {
  std::chrono::microseconds last_sync{0};
  while (true) {
    work_cv_.wait(lock, [&] { return closing_ || !chunks_.empty(); });
    if (chunks_.empty()) return;  // Closing with nothing left to write.
    // Group forming: the target is the number of appenders in flight at the end of the last
    // sync (that group's size plus the events queued meanwhile). A smaller queue usually means
    // the last group's appenders are about to append again; waiting for them, at most one sync
    // time, lets them share this sync instead of paying for the next one. Counting the queued
    // events too keeps two half-groups from alternating forever, each paying for a sync.
    if (queued_events_in(chunks_) < group_target_) {
      work_cv_.wait_for(lock, last_sync,
                        [&] { return closing_ || queued_events_in(chunks_) >= group_target_; });
    }
    std::deque<Chunk> taken;
    taken.swap(chunks_);
    const bool fenced = fence_.has_value();
    lock.unlock();
    const auto started = std::chrono::steady_clock::now();
    Status s = write_and_publish(taken, fenced);
    last_sync = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    lock.lock();
    if (!s) {
      poison(s.error());
      return;
    }
    group_target_ = retire(taken, fenced) + queued_events_in(chunks_);
    durable_sequence_ = written_sequence_;
    durable_point_ = written_point_;
    durable_segment_ = taken.back().segment_id;
    durable_offset_ = taken.back().start_offset + taken.back().bytes.size();
    publish_group();
    recycle(taken.back());
    // The group is woken without mu_ held: a woken appender often preempts this thread at
    // once, and would otherwise only block on mu_ and hand the CPU back.
    lock.unlock();
    group_epoch_.advance();
    lock.lock();
  }
}

}  // namespace batpak::writer
