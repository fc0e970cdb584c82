// The writer's commit path: sequencing, framing into chunks, waiting for durability; its
// state and close(). The checks before sequencing are in writer_admit.cpp, fences in
// writer_fence.cpp, and the writer thread in writer_loop.cpp.
#include "writer/writer.hpp"

#include <algorithm>
#include <cassert>
#include <iterator>

#include "format/format.hpp"
#include "format/record.hpp"
#include "util/wall_time.hpp"

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

uint64_t Writer::now_ms() const { return util::wall_ms_of(config_.clock->now_us()); }

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
    h.payload_encrypted = e.payload_encrypted;
    h.content_hash = e.content_hash;
    h.prev_hash = head.event_hash;
    h.event_hash = format::compute_event_hash(h, entity, scope);

    const size_t before = chunk.bytes.size();
    const format::FrameContext ctx{static_cast<uint32_t>(events.size()), static_cast<uint32_t>(i), floor};
    format::encode_frame(h, ctx, entity, scope, e.stored_payload(), chunk.bytes);
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

Result<Committed> Writer::commit(std::span<const Prepared> events) {
  std::unique_lock lock(mu_);
  if (events.empty()) {
    if (auto s = check_writable(); !s) return tl::unexpected(s.error());
    return Committed{};
  }
  uint64_t total = 0;
  for (const Prepared& e : events) {
    total += format::frame_bytes(e.coordinate->entity().size(), e.coordinate->scope().size(),
                                 e.stored_payload().size());
  }
  const bool in_ring = tail_ring_ != nullptr && tail_ring_->fits(total);
  while (true) {
    auto admitted = admit(lock, events);
    if (!admitted) return tl::unexpected(admitted.error());
    if (*admitted) return std::move(**admitted);
    if (has_room(total, in_ring)) break;
    // The ring or the queue is full until the writer thread writes what it holds. Waiting
    // releases mu_, so every check is made again.
    done_cv_.wait(lock, [&] { return has_room(total, in_ring) || poisoned_ || closing_ || closed_; });
  }

  Chunk& chunk = chunk_for(total);
  const size_t chunk_bytes_before = chunk.bytes.size();
  Committed out{sequence(events, chunk), {}};
  const uint64_t last = out.receipts.back().global_sequence;
  sequenced_atomic_.store(last, std::memory_order_release);
  assert(chunk.bytes.size() - chunk_bytes_before == total);  // The room asked for is what was encoded.
  queued_bytes_ += total;
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

bool Writer::has_room(uint64_t frame_bytes_total, bool in_ring) const {
  if (in_ring) return tail_ring_->has_room(frame_bytes_total);
  if (config_.durability != Durability::kAsync || queued_bytes_ == 0) return true;
  return queued_bytes_ + frame_bytes_total <= config_.async_queue_bytes_max;
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

Result<DurableCut> Writer::durable_cut() {
  std::unique_lock lock(mu_);
  if (auto s = check_writable(); !s) return tl::unexpected(s.error());
  if (auto s = sync_locked(lock); !s) return tl::unexpected(s.error());
  return DurableCut{durable_sequence_, durable_segment_, durable_offset_, config_.fence_log->contents()};
}

std::pair<uint64_t, uint64_t> Writer::durable_end() const {
  std::lock_guard lock(mu_);
  return {durable_segment_, durable_offset_};
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
  done_cv_.notify_all();  // Commits waiting for room give up (kClosed).
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mu_);
  closed_ = true;
  done_cv_.notify_all();
  if (poisoned_) return tl::unexpected(*poisoned_);
  assert(queued_bytes_ == 0);  // The writer thread wrote every sequenced frame before it ended.
  return {};
}

}  // namespace batpak::writer
