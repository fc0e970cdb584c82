// Projection watchers: block until an entity's generation advances, then deliver the
// projected state at that generation.
//
//   auto watcher = batpak::watch<OrderTotal>(store, "order:7");
//   while (true) {
//     auto update = watcher.recv(1000);
//     if (!update && update.error().code == batpak::ErrorCode::kTimeout) continue;
//     if (!update) break;                      // kClosed: the store closed; or a read error.
//     use(update->generation, update->state);  // Each generation at most once, increasing.
//   }
//
// Delivery rules:
// - recv() returns only a generation strictly greater than the last one it returned, so no
//   generation is delivered twice. Deduplication is by generation, not by state: an append
//   the projection ignores still advances the generation, and recv() returns the same state
//   at the newer generation.
// - Each delivery is the newest generation at the time recv() projects. Generations that
//   were committed and superseded between two recv() calls are coalesced into the newer one
//   (the state reflects them all); a caller that must see every event reads the journal.
// - The generation is honest: it is the one the state reflects (Store::project_if_changed,
//   always consistent), never a later one. A MaybeStale freshness is upgraded to consistent
//   for the same reason.
// - No startup race: watch() records the entity's generation when it is called and the
//   first recv() checks for a change before it blocks, so an append committed in between
//   is delivered.
//
// Why there is no "pruned" error: the watcher subscribes to nothing. It sleeps on the
// store's visibility notifier (Store::wait_for_visible), which holds one number, the highest
// visible global sequence, and buffers no events; then it re-reads the entity's generation.
// A slow watcher therefore cannot lag behind a queue or be pruned; it only coalesces. The
// durable-cursor equivalent is watch_from(): persist the last delivered generation and
// resume from it after a restart; generations are dense (one per event), so nothing
// committed in between is missed.
//
// Errors from recv(): kTimeout when nothing changed within timeout_ms (the watcher stays
// usable); kClosed once the store is closed, including for a recv() blocked at the time of
// close(); any error of Store::project (the watcher stays usable).
//
// Thread safety: a watcher is used by one thread at a time (recv() mutates it); use one
// watcher per thread. Any number of watchers may watch one store. The Store must outlive its
// watchers; closing it from another thread while recv() blocks is supported.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "batpak/projection_flow.hpp"
#include "batpak/store.hpp"

namespace batpak {

template <Projection P>
class ProjectionWatcher {
 public:
  using State = typename P::State;

  struct Update {
    uint64_t generation = 0;    // The entity generation the state reflects.
    std::optional<State> state;  // Empty while the entity has no relevant event.
  };

  // Blocks until the entity's generation exceeds the last delivered one (or, before the
  // first delivery, the one the watcher started from), up to `timeout_ms` in total.
  Result<Update> recv(uint32_t timeout_ms);

  // The last generation delivered (or the starting one): persist it to resume with watch_from.
  uint64_t last_generation() const { return last_generation_; }
  const std::string& entity() const { return entity_; }

 private:
  template <Projection Q>
  friend ProjectionWatcher<Q> watch_from(Store& store, std::string_view entity, Freshness freshness,
                                         uint64_t last_generation);

  ProjectionWatcher(Store& store, std::string_view entity, uint64_t last_generation)
      : store_(&store), entity_(entity), last_generation_(last_generation) {}

  // Delivers a change newer than last_generation_, if there is one now.
  Result<std::optional<Update>> check();

  Store* store_;
  std::string entity_;
  uint64_t last_generation_;
};

// A watcher that delivers the generations after `last_generation` (e.g. one persisted from
// last_generation() before a restart; 0 delivers the current state first if there is one).
template <Projection P>
ProjectionWatcher<P> watch_from(Store& store, std::string_view entity, Freshness freshness,
                                uint64_t last_generation) {
  (void)freshness;  // Always consistent: see the header comment.
  return ProjectionWatcher<P>(store, entity, last_generation);
}

// A watcher that delivers the generations after the entity's current one.
template <Projection P>
ProjectionWatcher<P> watch(Store& store, std::string_view entity,
                           Freshness freshness = Freshness::consistent()) {
  return watch_from<P>(store, entity, freshness, store.entity_generation(entity));
}

template <Projection P>
Result<std::optional<typename ProjectionWatcher<P>::Update>> ProjectionWatcher<P>::check() {
  using Out = std::optional<Update>;
  auto changed = store_->project_if_changed<P>(entity_, last_generation_);
  if (!changed) return tl::unexpected(changed.error());
  // The honest generation can equal an already delivered one (e.g. a row at that
  // generation); only a strictly newer one is delivered.
  if (!*changed || (*changed)->generation <= last_generation_) return Out();
  last_generation_ = (*changed)->generation;
  return Out(Update{last_generation_, std::move((*changed)->state)});
}

template <Projection P>
Result<typename ProjectionWatcher<P>::Update> ProjectionWatcher<P>::recv(uint32_t timeout_ms) {
  using Steady = std::chrono::steady_clock;
  const Steady::time_point deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
  bool expired = false;
  while (true) {
    // Sample the visible sequence BEFORE checking: an event indexed after this sample has a
    // higher sequence, so the wait below returns at once instead of missing it.
    const uint64_t seen = store_->stats().last_global_sequence;
    auto update = check();
    if (!update) return tl::unexpected(update.error());
    if (*update) return std::move(**update);
    // After the deadline, one last check (above) and no further waiting, so a stream of
    // appends to other entities cannot keep recv() past its timeout.
    if (expired) return make_error(ErrorCode::kTimeout, "the watched entity did not change in time");
    // Rounded up, so recv() never reports kTimeout before timeout_ms have passed.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Steady::now());
    expired = left.count() <= 0;
    auto visible = store_->wait_for_visible(seen, static_cast<uint32_t>(std::max<int64_t>(0, left.count())));
    if (!visible) return tl::unexpected(visible.error());  // kTimeout or kClosed.
  }
}

}  // namespace batpak
