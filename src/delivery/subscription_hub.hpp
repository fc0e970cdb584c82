// The store side of lossy subscriptions: one bounded queue per subscriber, filled when the
// visible sequence moves (docs: include/batpak/subscription.hpp). Internal.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "batpak/subscription.hpp"
#include "index/index.hpp"
#include "writer/visibility.hpp"

namespace batpak::delivery {

class SubscriptionHub;

// One subscriber's queue. Guarded by mu; region and capacity are immutable.
struct SubscriberQueue {
  SubscriberQueue(Region r, size_t c, SubscriptionHub* h) : region(std::move(r)), capacity(c), hub(h) {}
  const Region region;
  const size_t capacity;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Notification> items;
  bool pruned = false;
  bool closed = false;
  SubscriptionHub* hub;  // Null once the hub is gone (store closed). Guarded by mu.
};

// Thread safety: every method may be called concurrently; on_visible() is called by one
// thread at a time (VisibilityObserver). Lock order: hub mu_, then the index's shared lock
// or one queue's mu (never both). A queue's mu is never held while taking hub mu_.
class SubscriptionHub final : public writer::VisibilityObserver {
 public:
  SubscriptionHub(const index::Index& index, uint64_t visible) : index_(index), published_(visible) {}
  ~SubscriptionHub() override;

  // A queue notified of the events made visible from now on. REQUIRES: capacity >= 1.
  std::shared_ptr<SubscriberQueue> subscribe(Region region, size_t capacity);
  // Stops notifying `queue` (idempotent).
  void unsubscribe(SubscriberQueue* queue);
  // Closes every queue: receivers drain them, then get kClosed.
  void close();

  void on_visible(uint64_t visible) override;

 private:
  // Queues a notification of `located` on `q` if it matches q's region; returns false when
  // the queue was full, so `q` is now pruned.
  static bool offer(SubscriberQueue& q, const index::Located& located);

  const index::Index& index_;
  std::mutex mu_;
  std::vector<std::shared_ptr<SubscriberQueue>> queues_;
  uint64_t published_;  // Highest sequence offered to the queues. Guarded by mu_.
  bool closed_ = false;
};

}  // namespace batpak::delivery
