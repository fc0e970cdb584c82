// The background thread: index checkpoints as StoreOptions::index_checkpoint_every_events
// makes them due, and segment footers as segments are sealed (docs/durability.md). It starts
// with the first piece of work: most stores never need it.
#include <algorithm>
#include <chrono>

#include "store/store_impl.hpp"

namespace batpak {
namespace {

// How many events after the last background checkpoint (or failed try) the next one is due.
uint64_t events_between_checkpoints(const Store::Impl& s) {
  return std::max(s.options.index_checkpoint_every_events, s.checkpoint_last_sequence);
}

// Reads the index's size without its lock, which the writer thread holds while it publishes
// (kBuffered and kAsync appenders would wait for it on every commit).
bool checkpoint_due(const Store::Impl& s) {
  const uint64_t due_at_size = s.background.checkpoint_due_at_size.load(std::memory_order_relaxed);
  return due_at_size != UINT64_MAX && s.index.published_size() >= due_at_size;  // MAX: none are written.
}

// Puts the segments sealed since the last call in footers_due. REQUIRES: b.mu held.
void learn_sealed_segments(Store::Impl& s) {
  Store::Impl::Background& b = s.background;
  const uint64_t below = b.footers_known_below.load(std::memory_order_relaxed);
  const uint64_t newest = s.segments.newest_id();
  if (below == UINT64_MAX || newest <= below) return;
  for (uint64_t id = below; id < newest; ++id) b.footers_due.push_back(id);
  b.footers_known_below.store(newest, std::memory_order_relaxed);
}

void write_due_checkpoint(Store::Impl& s) {
  // A failure (a full disk, say) only leaves more to scan after a crash; an empty cut (all
  // new events hidden) writes nothing. Either way: wait for as many events again.
  const uint64_t size = s.index.size();
  const uint64_t last_before = s.checkpoint_last_sequence;
  const bool written = write_index_checkpoint(s) && s.checkpoint_last_sequence != last_before;
  if (written) s.background.checkpoints_written.fetch_add(1, std::memory_order_relaxed);
  s.background.checkpoint_due_at_size.store((written ? s.checkpoint_last_sequence : size) + events_between_checkpoints(s));
}

// The thread. REQUIRES: b.mu held by `lock`.
void run(Store::Impl& s, std::unique_lock<std::mutex>& lock) {
  // Commits wake it when work is due (nudge_background_work); the timeout only bounds how
  // late a kAsync commit, published after its call returned, can make it.
  constexpr auto kWakeAtLeastEvery = std::chrono::seconds(1);
  Store::Impl::Background& b = s.background;
  while (!b.stop) {
    if (s.writer->poisoned()) return;  // Its index may be ahead of the disk.
    learn_sealed_segments(s);
    if (!b.footers_due.empty()) {
      const uint64_t segment_id = b.footers_due.front();
      lock.unlock();
      // A segment that gets no footer, or whose footer fails to be written, is scanned at
      // open: either way it is not tried again in this session.
      if (!checkpoint_covers_segment(s, segment_id)) (void)write_segment_footer(s, segment_id);
      lock.lock();
      b.footers_due.erase(b.footers_due.begin());
      continue;
    }
    if (checkpoint_due(s)) {
      lock.unlock();
      write_due_checkpoint(s);
      lock.lock();
      continue;
    }
    b.cv.wait_for(lock, kWakeAtLeastEvery, [&] {
      return b.stop || checkpoint_due(s) || s.segments.newest_id() > b.footers_known_below.load();
    });
  }
}

}  // namespace

void start_background_work(Store::Impl& s) {
  Store::Impl::Background& b = s.background;
  if (s.options.segment_footers) b.footers_known_below.store(std::max<uint64_t>(s.segments.newest_id(), 1));
  if (s.options.index_checkpoint && s.options.index_checkpoint_every_events != 0) {
    b.checkpoint_due_at_size.store(s.checkpoint_last_sequence + events_between_checkpoints(s));
  }
  // Footers open found missing wait for the first commit, so an open that only reads (or
  // fails) starts no thread.
  b.footers_due_from_open.store(!b.footers_due.empty());
}

void nudge_background_work(Store::Impl& s) {
  Store::Impl::Background& b = s.background;
  const bool sealed = s.segments.newest_id() > b.footers_known_below.load(std::memory_order_relaxed);
  if (!sealed && !checkpoint_due(s) && !b.footers_due_from_open.load(std::memory_order_relaxed)) return;
  {
    std::lock_guard lock(b.mu);  // The thread is waiting or working, not between the two.
    b.footers_due_from_open.store(false, std::memory_order_relaxed);
    if (!b.thread.joinable() && !b.stop) {
      b.thread = std::thread([&s] {
        std::unique_lock thread_lock(s.background.mu);
        run(s, thread_lock);
      });
    }
  }
  b.cv.notify_one();
}

void stop_background_work(Store::Impl& s) {
  Store::Impl::Background& b = s.background;
  {
    std::lock_guard lock(b.mu);
    b.stop = true;
  }
  b.cv.notify_all();
  if (b.thread.joinable()) b.thread.join();
}

void finish_background_work(Store::Impl& s) {
  Store::Impl::Background& b = s.background;
  std::lock_guard lock(b.mu);
  learn_sealed_segments(s);
  for (uint64_t segment_id : b.footers_due) {
    if (!checkpoint_covers_segment(s, segment_id)) (void)write_segment_footer(s, segment_id);
  }
  b.footers_due.clear();
}

}  // namespace batpak
