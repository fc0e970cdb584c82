// Lossy subscriptions: a live feed of notifications about newly visible events of a Region.
//
//   auto sub = store.subscribe(batpak::Region::entity("order"), 1024);
//   while (true) {
//     auto n = sub->recv(1000);
//     if (!n && n.error().code == batpak::ErrorCode::kTimeout) continue;
//     if (!n) break;  // kPruned: fell behind (catch up with a Cursor); kClosed: store closed.
//     auto event = store.get(n->event_id);  // Always readable: notified after visibility.
//   }
//
// Delivery rules:
// - Each subscriber has a bounded queue (`capacity` notifications) filled, in commit order,
//   when events become visible, so a receiver can always read the event it was told about.
//   The writer never waits for a subscriber.
// - A subscriber whose queue is full when a new matching event becomes visible is pruned:
//   it gets no more notifications. recv() still returns the ones queued before, then fails
//   with kPruned, so a subscriber always learns it lost events. last_global_sequence() says
//   where to resume with a Cursor (Region and position), which cannot lose events.
// - Only events made visible after subscribe() returned are notified.
// - After the store closes, recv() returns what is queued, then kClosed.
//
// The notifier runs on the thread that makes events visible (the writer thread, or the
// appender in kBuffered mode), under the writer's mutex, so subscriptions cost every commit
// a region match and a queue push per subscriber. Use a Cursor for bulk consumption.
//
// Thread safety: a Subscription (and a NotificationStream) is used by one thread at a time;
// any number of subscriptions may exist on one store. Destroying a subscription unsubscribes
// it. The Store must outlive its subscriptions.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "batpak/status.hpp"
#include "batpak/types.hpp"

namespace batpak {

// What a subscriber learns about one visible event. Read the payload with Store::get.
struct Notification {
  EventId event_id;
  uint64_t global_sequence = 0;
  std::string entity;
  std::string scope;
  EventKind kind;
  uint32_t clock = 0;
  uint64_t wall_ms = 0;
};

namespace delivery {
struct SubscriberQueue;  // Internal: shared by the subscription and the store's notifier.
}

class Subscription {
 public:
  explicit Subscription(std::shared_ptr<delivery::SubscriberQueue> queue);
  ~Subscription();  // Unsubscribes.
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // The next notification, waiting up to `timeout_ms`. Errors: kTimeout (nothing yet; still
  // subscribed), kPruned (the queue overflowed; see the header comment), kClosed.
  Result<Notification> recv(uint32_t timeout_ms);
  // The next notification if one is queued now; nullopt otherwise. Errors as recv().
  Result<std::optional<Notification>> try_recv();

  // The global sequence of the last notification returned (0 before the first).
  uint64_t last_global_sequence() const { return last_global_sequence_; }
  // True once the subscriber was pruned (recv() may still return queued notifications).
  bool pruned() const;
  const Region& region() const;

 private:
  std::shared_ptr<delivery::SubscriberQueue> queue_;
  uint64_t last_global_sequence_ = 0;
};

// A pull pipeline over a subscription: filter, map and take, all still lossy.
//
//   auto totals = batpak::stream(std::move(sub))
//                     .filter([](const batpak::Notification& n) { return n.kind == kPaid; })
//                     .map([](const batpak::Notification& n) { return n.entity; })
//                     .take(10);
//   auto entity = totals.recv(1000);  // Result<std::string>; kClosed after 10 items.
template <class T>
class NotificationStream {
 public:
  // Pulls one candidate: a value, nullopt (skipped by a filter or map), or an error.
  using Pull = std::function<Result<std::optional<T>>(uint32_t timeout_ms)>;
  explicit NotificationStream(Pull pull, std::optional<uint64_t> remaining = std::nullopt)
      : pull_(std::move(pull)), remaining_(remaining) {}

  // The next value, waiting up to `timeout_ms` in total. After take(n) has delivered n
  // values: kClosed.
  Result<T> recv(uint32_t timeout_ms);

  // Keeps the values for which `keep` returns true.
  NotificationStream filter(std::function<bool(const T&)> keep) &&;
  // Maps each value with `fn`, which returns U or std::optional<U> (nullopt skips it).
  template <class F>
  auto map(F fn) &&;
  // Ends the stream after `n` more values.
  NotificationStream take(uint64_t n) && { return NotificationStream(std::move(pull_), n); }

 private:
  Pull pull_;
  std::optional<uint64_t> remaining_;
};

// Turns a subscription into a NotificationStream<Notification>; the stream owns it.
NotificationStream<Notification> stream(std::unique_ptr<Subscription> subscription);

template <class T>
Result<T> NotificationStream<T>::recv(uint32_t timeout_ms) {
  using Steady = std::chrono::steady_clock;
  if (remaining_ && *remaining_ == 0) return make_error(ErrorCode::kClosed, "the stream took all it was told to");
  const auto deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now());
    auto next = pull_(static_cast<uint32_t>(std::max<int64_t>(0, left.count())));
    if (!next) return tl::unexpected(next.error());
    if (*next) {
      if (remaining_) --*remaining_;
      return std::move(**next);
    }
    if (Steady::now() >= deadline) return make_error(ErrorCode::kTimeout, "no matching notification in time");
  }
}

template <class T>
NotificationStream<T> NotificationStream<T>::filter(std::function<bool(const T&)> keep) && {
  return NotificationStream([pull = std::move(pull_), keep = std::move(keep)](uint32_t timeout_ms)
                                -> Result<std::optional<T>> {
    auto next = pull(timeout_ms);
    if (!next || !*next || keep(**next)) return next;
    return std::optional<T>();
  }, remaining_);
}

namespace stream_detail {
template <class X>
struct Unwrapped {
  using type = X;
};
template <class X>
struct Unwrapped<std::optional<X>> {
  using type = X;
};
}  // namespace stream_detail

template <class T>
template <class F>
auto NotificationStream<T>::map(F fn) && {
  using U = typename stream_detail::Unwrapped<std::remove_cvref_t<std::invoke_result_t<F&, const T&>>>::type;
  return NotificationStream<U>([pull = std::move(pull_), fn = std::move(fn)](uint32_t timeout_ms)
                                   -> Result<std::optional<U>> {
    auto next = pull(timeout_ms);
    if (!next) return tl::unexpected(next.error());
    if (!*next) return std::optional<U>();
    return std::optional<U>(fn(**next));
  }, remaining_);
}

}  // namespace batpak
