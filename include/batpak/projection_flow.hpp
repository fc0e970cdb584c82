// Definitions of Store::project, Store::project_if_changed and Store::project_fused
// (declared in store.hpp). The flow: plan summary -> cache probe -> fresh hit | incremental
// apply | full replay. project_fused: one plan and one replay for several projections.
#pragma once

#include <algorithm>
#include <array>
#include <type_traits>
#include <utility>

#include "batpak/codec.hpp"
#include "batpak/store.hpp"

namespace batpak {
namespace projection_detail {

// One step of P's fold, then its state bound (check_state_bound): a state past it stops the
// fold at the event that took it there.
template <Projection P>
Status apply_bounded(typename P::State& state, const Event& event) {
  if (auto s = P::apply(state, event); !s) return s;
  return check_state_bound<P>(state);
}

// Applies the events with the given sequences, in order, to `state`.
template <Projection P>
Status apply_all(const Store& store, std::span<const uint64_t> global_sequences, typename P::State& state) {
  return store.for_each_event(global_sequences, [&state](const Event& event) { return apply_bounded<P>(state, event); });
}

// Folds the events with the given sequences from a default state. No events: no state.
template <Projection P>
Result<std::optional<typename P::State>> fold(const Store& store, std::span<const uint64_t> global_sequences) {
  if (global_sequences.empty()) return std::optional<typename P::State>();
  typename P::State state{};
  if (auto s = apply_all<P>(store, global_sequences, state); !s) return tl::unexpected(s.error());
  return std::optional<typename P::State>(std::move(state));
}

// Encodes the state and stores it, with observation.folded_from_horizon; a failure is
// observed, never returned.
template <Projection P>
void store_row(Store& store, std::span<const uint8_t> key, const typename P::State& state,
               const ReplayPlan& plan, ProjectionObservation& observation) {
  CacheRow row{plan.watermark, plan.generation, store.now_us(), encode_payload(state), plan.head_hash,
               observation.folded_from_horizon};
  if (auto s = store.projection_cache().put(key, encode_cache_row(key, row)); !s) {
    observation.cache_status = CacheStatus::kUnavailable;
    observation.cache_reason = "cache put failed: " + s.error().message;
  }
}

// One run of project(): the entity, its relevant kinds and its cache key.
struct Run {
  Store& store;
  std::string_view entity;
  std::span<const EventKind> kinds;
  std::span<const uint8_t> key;
};

// Plans every relevant event as of now and folds them; the result goes to the cache unless
// the run bypasses it.
template <Projection P>
Result<Projected<typename P::State>> full_replay(const Run& run, ProjectionObservation obs) {
  auto plan = run.store.replay_plan(run.entity, run.kinds);
  if (!plan) return tl::unexpected(plan.error());
  auto state = fold<P>(run.store, plan->global_sequences);
  if (!state) return tl::unexpected(state.error());
  // No state only when every relevant event was dropped.
  obs.freshness = *state ? ObservedFreshness::kFresh : ObservedFreshness::kNotApplicable;
  obs.input_frontier = plan->watermark;
  obs.folded_from_horizon = plan->dropped_generation > 0;
  if (*state && obs.cache_status != CacheStatus::kBypassed) store_row<P>(run.store, run.key, **state, *plan, obs);
  return Projected<typename P::State>{std::move(*state), plan->generation, std::move(obs)};
}

// Whether the row was folded from the log as it is: the entity's event number
// row.generation must be the event the row names. Costs one read unless the entity is
// still at that generation. REQUIRES: row.generation <= now.generation.
inline Result<bool> row_matches_log(const Run& run, const ReplayPlan& now, const CacheRow& row) {
  if (row.generation == now.generation) return row.head_hash == now.head_hash;
  auto hash = run.store.entity_hash_at(run.entity, row.generation);
  if (!hash) return tl::unexpected(hash.error());
  return *hash == row.head_hash;
}

// Serves or advances a decoded cache row; nothing when the row cannot be used (`reason`
// then says why, when it is not simply too old). `now` is the entity's plan summary.
template <Projection P>
Result<std::optional<Projected<typename P::State>>> use_row(const Run& run, const ReplayPlan& now,
                                                            const CacheRow& row, Freshness freshness,
                                                            std::string& reason) {
  using Out = std::optional<Projected<typename P::State>>;
  // Whether the row reflects every relevant event. When none is kept (now.watermark 0 with
  // history dropped), a row folded at the horizon or later has folded them all; the checks
  // below refuse any other row.
  const bool current = row.watermark == now.watermark || now.watermark == 0;
  const bool fresh = freshness.mode == Freshness::Mode::kConsistent
                         ? current
                         : std::max<int64_t>(0, run.store.now_us() - row.cached_at_us) <
                               static_cast<int64_t>(freshness.max_stale_ms) * 1000;
  if (!fresh && !P::kSupportsIncremental) return Out();
  if (row.generation < now.dropped_generation) {
    // Neither checkable against the log nor advanceable: events after it were dropped.
    reason = "cache row was folded before events that the history horizon dropped";
    return Out();
  }
  auto matches = row_matches_log(run, now, row);
  if (!matches) return tl::unexpected(matches.error());
  if (!*matches) {
    reason = "cache row was folded from events the log does not hold";
    return Out();
  }
  auto state = decode_payload<typename P::State>(row.state);
  if (!state) return Out();  // Undecodable state bytes are a miss.
  // A row folded under a looser bound than P's now: the log would give the same state.
  if (auto bound = check_state_bound<P>(*state); !bound) return tl::unexpected(bound.error());
  ProjectionObservation obs;
  obs.cache_status = CacheStatus::kHit;
  obs.folded_from_horizon = row.folded_from_horizon;
  if (fresh) {
    obs.freshness = current ? ObservedFreshness::kFresh : ObservedFreshness::kStaleAllowed;
    obs.input_frontier = row.watermark;
    return Out(Projected<typename P::State>{std::move(*state), current ? now.generation : row.generation,
                                            std::move(obs)});
  }
  // Incremental: plan only the relevant events after the row's watermark, as of now (events
  // committed since the summary are included, and the plan's generation says so).
  auto newer = run.store.replay_plan(run.entity, run.kinds, row.watermark);
  if (!newer) return tl::unexpected(newer.error());
  // Without a newer relevant event the plan's watermark is the last kept one (0 when every
  // relevant event was dropped); the row's own is then the frontier.
  newer->watermark = std::max(newer->watermark, row.watermark);
  if (auto s = apply_all<P>(run.store, newer->global_sequences, *state); !s) return tl::unexpected(s.error());
  obs.freshness = ObservedFreshness::kFresh;
  obs.input_frontier = newer->watermark;
  obs.incremental = true;
  store_row<P>(run.store, run.key, *state, *newer, obs);
  return Out(Projected<typename P::State>{std::move(*state), newer->generation, std::move(obs)});
}

// Whether a projection with these relevant kinds (empty: every kind) folds `kind`.
inline bool is_relevant(std::span<const EventKind> kinds, EventKind kind) {
  return kinds.empty() || std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

// The kinds relevant to any of the projections: empty (every kind) when one of them
// declares none, else their sorted union.
inline std::vector<EventKind> union_of_kinds(std::span<const std::vector<EventKind>> each) {
  std::vector<EventKind> all;
  for (const auto& kinds : each) {
    if (kinds.empty()) return {};
    all.insert(all.end(), kinds.begin(), kinds.end());
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());
  return all;
}

// Whether the types are pairwise distinct.
template <class... T>
struct Distinct : std::true_type {};
template <class T, class... Rest>
struct Distinct<T, Rest...> : std::bool_constant<(!std::is_same_v<T, Rest> && ...) && Distinct<Rest...>::value> {};

// Applies `event` to P's state when it is relevant to P, creating the state on P's first
// relevant event, and records it as P's frontier.
template <Projection P>
Status apply_if_relevant(std::span<const EventKind> kinds, const Event& event,
                         std::optional<typename P::State>& state, uint64_t& frontier) {
  if (!is_relevant(kinds, event.header.kind)) return {};
  if (!state) state.emplace();
  frontier = event.header.global_sequence;
  return apply_bounded<P>(*state, event);
}

// Folds the events with the given sequences into every projection's state, in order,
// stopping at the first error. `kinds[i]` are the relevant kinds of the i-th P.
template <Projection... P>
Status fold_fused(const Store& store, std::span<const uint64_t> global_sequences,
                  const std::array<std::vector<EventKind>, sizeof...(P)>& kinds,
                  FusedProjected<typename P::State...>& out) {
  return [&]<size_t... I>(std::index_sequence<I...>) {
    return store.for_each_event(global_sequences, [&](const Event& event) {
      Status status;  // Each projection in turn, until one fails.
      (void)((status = apply_if_relevant<P>(kinds[I], event, std::get<I>(out.states), out.input_frontiers[I])) &&
             ...);
      return status;
    });
  }(std::index_sequence_for<P...>{});
}

}  // namespace projection_detail

// The summary (watermark, generation, head hash; no events listed) costs a walk back to the
// last relevant event, so a fresh hit costs the same on an entity of any length; the
// events are listed only for the fold that needs them.
// A cache that advertises prefetch gets the hint for an entity with events before the summary
// is made, so that a backend fetching ahead overlaps its fetch with it (its result is only a
// hint and is ignored).
template <Projection P>
Result<Projected<typename P::State>> Store::project(std::string_view entity, Freshness freshness) {
  namespace d = projection_detail;
  const std::vector<EventKind> kinds = P::relevant_kinds();
  const std::vector<uint8_t> key = projection_cache_key(P::kName, P::kSchemaVersion, kinds, entity);
  ProjectionCache& cache = projection_cache();
  const CacheCapabilities capabilities = cache.capabilities();
  if (capabilities.supports_prefetch && entity_generation(entity) != 0) (void)cache.prefetch(key);
  auto now = replay_plan(entity, kinds, UINT64_MAX);
  if (!now) return tl::unexpected(now.error());
  ProjectionObservation obs;
  // No relevant event, and none dropped that a cache row could have folded: no state.
  if (now->watermark == 0 && now->dropped_generation == 0) return Projected<typename P::State>{std::nullopt, now->generation, obs};
  const d::Run run{*this, entity, kinds, key};
  if (capabilities.is_noop) return d::full_replay<P>(run, obs);

  obs.cache_status = CacheStatus::kMiss;
  auto found = cache.get(key);
  if (!found) {
    obs.cache_status = CacheStatus::kUnavailable;
    obs.cache_reason = "cache get failed: " + found.error().message;
    return d::full_replay<P>(run, obs);
  }
  if (!*found) return d::full_replay<P>(run, obs);
  auto row = decode_cache_row(key, **found);
  if (!row) {
    obs.cache_reason = "cache row refused: " + row.error().message;
    (void)cache.delete_prefix(key);  // Self-heal; the replay below rewrites it.
    return d::full_replay<P>(run, obs);
  }
  // (With every relevant event dropped, now->watermark is 0: the row's hash check decides.)
  const bool row_watermark_newer = now->watermark != 0 && row->watermark > now->watermark;
  if (row_watermark_newer || row->generation > now->generation) {
    obs.cache_reason = "cache row is newer than the plan";
    return d::full_replay<P>(run, obs);
  }
  auto served = d::use_row<P>(run, *now, *row, freshness, obs.cache_reason);
  if (!served) return tl::unexpected(served.error());
  if (*served) return std::move(**served);
  return d::full_replay<P>(run, obs);
}

template <Projection P>
Result<std::optional<Projected<typename P::State>>> Store::project_if_changed(std::string_view entity,
                                                                              uint64_t last_generation) {
  using Out = std::optional<Projected<typename P::State>>;
  if (entity_generation(entity) == last_generation) return Out();
  auto projected = project<P>(entity, Freshness::consistent());
  if (!projected) return tl::unexpected(projected.error());
  if (projected->generation == last_generation) return Out();
  return Out(std::move(*projected));
}

// One plan of the union of the kinds, so one instant for every state, and one replay.
template <Projection... P>
Result<FusedProjected<typename P::State...>> Store::project_fused(std::string_view entity) const {
  static_assert(sizeof...(P) > 0, "project_fused needs at least one projection");
  static_assert(projection_detail::Distinct<P...>::value, "project_fused needs distinct projection types");
  const std::array<std::vector<EventKind>, sizeof...(P)> kinds{P::relevant_kinds()...};
  auto plan = replay_plan(entity, projection_detail::union_of_kinds(kinds));
  if (!plan) return tl::unexpected(plan.error());
  FusedProjected<typename P::State...> out;
  out.generation = plan->generation;
  out.folded_from_horizon = plan->dropped_generation > 0;
  if (auto s = projection_detail::fold_fused<P...>(*this, plan->global_sequences, kinds, out); !s) {
    return tl::unexpected(s.error());
  }
  return out;
}

}  // namespace batpak
