#include <chrono>

#include "delivery/subscription_hub.hpp"

namespace batpak {

using delivery::SubscriberQueue;

Subscription::Subscription(std::shared_ptr<SubscriberQueue> queue) : queue_(std::move(queue)) {}

Subscription::~Subscription() {
  delivery::SubscriptionHub* hub = nullptr;
  {
    std::lock_guard lock(queue_->mu);
    hub = queue_->hub;
    queue_->hub = nullptr;
  }
  if (hub) hub->unsubscribe(queue_.get());  // Without queue mu: the hub locks it under its own.
}

namespace {

// REQUIRES: q.mu held and q.items empty.
Error ended(const SubscriberQueue& q) {
  if (q.pruned) {
    return Error{ErrorCode::kPruned, "the subscriber fell more than " + std::to_string(q.capacity) +
                                         " notifications behind and was pruned; resume with a Cursor",
                 {}, 0, {}};
  }
  return Error{ErrorCode::kClosed, "the store is closed", {}, 0, {}};
}

}  // namespace

Result<Notification> Subscription::recv(uint32_t timeout_ms) {
  std::unique_lock lock(queue_->mu);
  queue_->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return !queue_->items.empty() || queue_->pruned || queue_->closed; });
  if (queue_->items.empty()) {
    if (queue_->pruned || queue_->closed) return tl::unexpected(ended(*queue_));
    return make_error(ErrorCode::kTimeout, "no notification in time");
  }
  Notification n = std::move(queue_->items.front());
  queue_->items.pop_front();
  last_global_sequence_ = n.global_sequence;
  return n;
}

Result<std::optional<Notification>> Subscription::try_recv() {
  auto n = recv(0);
  if (n) return std::optional<Notification>(std::move(*n));
  if (n.error().code == ErrorCode::kTimeout) return std::optional<Notification>();
  return tl::unexpected(n.error());
}

bool Subscription::pruned() const {
  std::lock_guard lock(queue_->mu);
  return queue_->pruned;
}

const Region& Subscription::region() const { return queue_->region; }

NotificationStream<Notification> stream(std::unique_ptr<Subscription> subscription) {
  std::shared_ptr<Subscription> owned = std::move(subscription);
  return NotificationStream<Notification>([owned](uint32_t timeout_ms) -> Result<std::optional<Notification>> {
    auto n = owned->recv(timeout_ms);
    if (!n) return tl::unexpected(n.error());
    return std::optional<Notification>(std::move(*n));
  });
}

}  // namespace batpak
