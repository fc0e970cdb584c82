// The writer thread: group forming and one fdatasync per group (kSync), or writes with a
// periodic sync (kBuffered, kAsync); then retiring what was written and waking waiters.
#include "writer/writer.hpp"

#include <sched.h>

#include <algorithm>
#include <cassert>
#include <chrono>

namespace batpak::writer {

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
    assert(queued_bytes_ >= chunk.bytes.size());
    queued_bytes_ -= chunk.bytes.size();
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

bool Writer::spin_until_group(std::chrono::steady_clock::time_point deadline) const {
  // Only this thread changes written_sequence_ and group_target_, so it reads them without
  // mu_; appenders publish sequenced_atomic_ after they sequence. sched_yield, not a `pause`
  // loop: an appender woken onto this CPU runs at once instead of waiting out the spin.
  while (sequenced_atomic_.load(std::memory_order_acquire) - written_sequence_ < group_target_) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    sched_yield();
  }
  return true;
}

void Writer::wait_for_group(std::unique_lock<std::mutex>& lock, std::chrono::microseconds limit) {
  // In kSync mode nothing is taken while a group forms, so every event sequenced and not
  // yet written is queued.
  assert(sequenced_atomic_.load() - written_sequence_ == queued_events_in(chunks_));
  if (limit.count() <= 0) return;
  const auto started = std::chrono::steady_clock::now();
  if (group_spin_allowed_ && groups_before_spinning_ == 0) {
    lock.unlock();
    const bool filled = spin_until_group(started + std::min(limit, kGroupSpinMax));
    lock.lock();
    if (filled) return;
    groups_before_spinning_ = kGroupSpinBackoff;
  } else if (groups_before_spinning_ > 0) {
    --groups_before_spinning_;
  }
  work_cv_.wait_until(lock, started + limit, [&] { return closing_ || queued_events_in(chunks_) >= group_target_; });
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
    if (queued_events_in(chunks_) < group_target_) wait_for_group(lock, last_sync);
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
