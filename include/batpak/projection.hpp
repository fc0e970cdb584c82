// Projections: deterministic folds of an entity's events into state, with caches,
// freshness rules and incremental apply.
//
// A projection type declares its identity and its fold:
//
//   struct OrderTotal {
//     struct State { int64_t total = 0; MSGPACK_DEFINE_MAP(total) };
//     static constexpr std::string_view kName = "order-total";  // Stable across builds.
//     static constexpr uint64_t kSchemaVersion = 1;             // Bump when State changes.
//     static constexpr bool kSupportsIncremental = true;        // apply over a suffix == fold.
//     static std::vector<batpak::EventKind> relevant_kinds() { return {OrderPlaced::kKind}; }
//     static batpak::Status apply(State& state, const batpak::Event& event);
//   };
//
// The full fold starts from a default State and applies every relevant event in the
// entity's order; no relevant event means no state.
//
// A projection may bound its state (BoundedState below), so that a fold whose state grows
// past what its author planned for (a map keyed by something unbounded) fails instead of
// eating memory:
//
//     static constexpr uint64_t kStateEntriesMax = 10'000;
//     static uint64_t state_entries(const State& state) { return state.by_customer.size(); }
//
// Thread safety: the types here are plain values; projection_cache_key is a pure function.
// A projection's apply() may run on any thread that calls Store::project, several at once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "batpak/event.hpp"
#include "batpak/projection_cache.hpp"

namespace batpak {

template <class P>
concept Projection = requires(typename P::State& state, const Event& event) {
  { P::kName } -> std::convertible_to<std::string_view>;
  { P::kSchemaVersion } -> std::convertible_to<uint64_t>;
  { P::kSupportsIncremental } -> std::convertible_to<bool>;
  { P::relevant_kinds() } -> std::convertible_to<std::vector<EventKind>>;
  { P::apply(state, event) } -> std::same_as<Status>;
};

// A projection that declares a bound on its state: state_entries(state) (whatever the
// projection counts: map entries, list items) may not pass kStateEntriesMax. The bound is
// checked after every apply() and on every state read from a cache; past it the run fails
// with kStateBoundExceeded and nothing is cached. Not part of the cache key: lowering a bound
// makes the rows past it fail, it does not hide them.
template <class P>
concept BoundedState = Projection<P> && requires(const typename P::State& state) {
  { P::kStateEntriesMax } -> std::convertible_to<uint64_t>;
  { P::state_entries(state) } -> std::convertible_to<uint64_t>;
};

// kStateBoundExceeded when P is a BoundedState and `state` is past its bound; else success
// (always, for a projection without a bound).
template <Projection P>
Status check_state_bound(const typename P::State& state) {
  if constexpr (BoundedState<P>) {
    const uint64_t entries = P::state_entries(state);
    if (entries > static_cast<uint64_t>(P::kStateEntriesMax)) {
      return make_error(ErrorCode::kStateBoundExceeded,
                        "projection '" + std::string(P::kName) + "' state holds " + std::to_string(entries) +
                            " entries, past its bound of " + std::to_string(static_cast<uint64_t>(P::kStateEntriesMax)));
    }
  }
  return {};
}

// How fresh a projected state must be.
struct Freshness {
  enum class Mode : uint8_t { kConsistent, kMaybeStale };
  Mode mode = Mode::kConsistent;
  uint64_t max_stale_ms = 0;  // kMaybeStale: a cache row younger than this may be served.

  // Reflects every relevant event committed when the call started.
  static Freshness consistent() { return {}; }
  // May serve a cache row whose age is strictly below max_stale_ms (0 never serves one).
  static Freshness maybe_stale(uint64_t max_stale_ms) { return {Mode::kMaybeStale, max_stale_ms}; }
};

enum class CacheStatus : uint8_t {
  kHit,          // The state came from (or was advanced from) a cache row.
  kMiss,         // No usable row: full replay (the result was stored).
  kBypassed,     // The cache stores nothing, or there was nothing to project.
  kUnavailable,  // The cache failed; see ProjectionObservation::cache_reason.
};

enum class ObservedFreshness : uint8_t {
  kFresh,          // Reflects every relevant event of the plan.
  kStaleAllowed,   // A MaybeStale row older than the plan was served.
  kNotApplicable,  // No relevant events: no state.
};

// What a projection run observed. Deterministic for the same store contents and cache.
struct ProjectionObservation {
  CacheStatus cache_status = CacheStatus::kBypassed;
  std::string cache_reason;  // Why the cache was unavailable or a row was refused.
  ObservedFreshness freshness = ObservedFreshness::kNotApplicable;
  // Global sequence of the last relevant event the state reflects (0 = none).
  uint64_t input_frontier = 0;
  bool incremental = false;  // True when a cached state was advanced by apply().
  // True when the entity's early events were dropped (Store::drop_history) and the state
  // was folded without them, from the events kept after the history horizon. Whether any
  // dropped event was relevant is not known. False for a state carried by a cache row that
  // was folded before the drop, up to the horizon or later.
  bool folded_from_horizon = false;
};

template <class State>
struct Projected {
  std::optional<State> state;  // Empty when the entity has no relevant event.
  // The entity generation the state reflects: never a generation whose relevant events the
  // state lacks.
  uint64_t generation = 0;
  ProjectionObservation observation;
};

// Several projections of one entity folded from one replay (Store::project_fused); index i
// is the i-th projection of the call.
template <class... State>
struct FusedProjected {
  std::tuple<std::optional<State>...> states;  // Element i empty when projection i has no relevant event.
  uint64_t generation = 0;                     // Entity generation (all kinds) at plan time.
  // input_frontiers[i]: global sequence of the last event relevant to projection i (0 = none).
  std::array<uint64_t, sizeof...(State)> input_frontiers{};
  bool folded_from_horizon = false;  // As in ProjectionObservation, for every state alike.
};

// The events a projection of one entity must fold, as of one instant.
struct ReplayPlan {
  std::vector<uint64_t> global_sequences;  // Relevant events (after the asked sequence), in order.
  uint64_t watermark = 0;                  // Last relevant global sequence (0 = none).
  uint64_t generation = 0;                 // Entity generation (all kinds) at plan time.
  Hash32 head_hash;                        // Event hash of the entity's last event (zero: none).
  // The entity's events 1 .. dropped_generation were dropped with the history before the
  // horizon (Store::drop_history); 0 when none was.
  uint64_t dropped_generation = 0;
};

// The cache key of a projection of one entity: projection name, schema version and the
// relevant kinds isolate rows, so changing any of them never reads an old row.
std::vector<uint8_t> projection_cache_key(std::string_view name, uint64_t schema_version,
                                          std::span<const EventKind> relevant_kinds,
                                          std::string_view entity);

}  // namespace batpak
