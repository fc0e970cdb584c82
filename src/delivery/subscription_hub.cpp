#include "delivery/subscription_hub.hpp"

#include <algorithm>

namespace batpak::delivery {

namespace {

Notification notification_of(const index::Located& located) {
  const index::Entry& e = located.entry;
  return Notification{e.event_id, located.global_sequence, std::string(located.entity),
                      std::string(located.scope), e.kind, e.clock, e.wall_ms};
}

void close_queue(SubscriberQueue& q) {
  {
    std::lock_guard lock(q.mu);
    q.closed = true;
    q.hub = nullptr;
  }
  q.cv.notify_all();
}

}  // namespace

SubscriptionHub::~SubscriptionHub() { close(); }

std::shared_ptr<SubscriberQueue> SubscriptionHub::subscribe(Region region, size_t capacity) {
  auto queue = std::make_shared<SubscriberQueue>(std::move(region), std::max<size_t>(capacity, 1), this);
  std::lock_guard lock(mu_);
  if (closed_) {
    queue->closed = true;
    queue->hub = nullptr;
  } else {
    queues_.push_back(queue);
  }
  return queue;
}

void SubscriptionHub::unsubscribe(SubscriberQueue* queue) {
  std::lock_guard lock(mu_);
  std::erase_if(queues_, [&](const std::shared_ptr<SubscriberQueue>& q) { return q.get() == queue; });
}

void SubscriptionHub::close() {
  std::vector<std::shared_ptr<SubscriberQueue>> queues;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    queues.swap(queues_);
  }
  for (const auto& q : queues) close_queue(*q);
}

bool SubscriptionHub::offer(SubscriberQueue& q, const index::Located& located) {
  if (!q.region.matches(located.entity, located.scope, located.entry.kind, located.entry.clock)) return true;
  bool kept = true;
  {
    std::lock_guard lock(q.mu);
    if (q.items.size() >= q.capacity) {
      q.pruned = true;
      q.hub = nullptr;
      kept = false;
    } else {
      q.items.push_back(notification_of(located));
    }
  }
  q.cv.notify_one();
  return kept;
}

void SubscriptionHub::on_visible(uint64_t visible) {
  std::lock_guard lock(mu_);
  const uint64_t from = published_;
  published_ = std::max(published_, visible);
  if (queues_.empty() || visible <= from) return;
  const std::vector<index::Located> fresh = index_.select(Region::all(), from, visible - from);
  std::erase_if(queues_, [&](const std::shared_ptr<SubscriberQueue>& q) {
    for (const index::Located& located : fresh) {
      if (!offer(*q, located)) return true;  // Pruned: dropped from the hub.
    }
    return false;
  });
}

}  // namespace batpak::delivery
