// Projection run evidence: one projection run's state together with a deterministic report
// of what the state is, what it reflects and how it was served.
//
//   auto run = batpak::project_run_evidence<OrderTotal>(store, "order:7",
//                                                       batpak::Freshness::consistent());
//   if (!run.ok()) log(run.error->to_string());           // A failed run still has a report.
//   std::string bytes = batpak::canonical_body_bytes(run.report);  // What body_hash covers.
//   nlohmann::json printable = batpak::to_json(run.report);
//
// The report has a hashed body and an unhashed observation (the cache status). The body
// holds everything that depends only on the store's contents and the request: the same
// store, projection and freshness give the same canonical bytes and the same body_hash
// across runs, reopen and cache backends. The cache status (hit, miss, bypassed,
// unavailable) describes the backend and how warm it was, so it is reported but not hashed.
// docs/projections.md ("Evidence") defines every field and the canonical bytes.
//
// Thread safety: the report types are plain values; project_run_evidence may be called
// from any thread, as Store::project may.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "batpak/codec.hpp"
#include "batpak/projection_flow.hpp"
#include "batpak/store.hpp"

namespace batpak {

inline constexpr uint16_t kProjectionRunReportSchemaVersion = 1;

// What the run read: the entity, and the kinds its projection folds (all kinds when the
// projection declares none).
struct ProjectionSourceRef {
  enum class Type : uint8_t { kEntity, kAllKinds, kRelevantKind };
  Type type = Type::kEntity;
  std::string entity;  // kEntity only.
  EventKind kind;      // kRelevantKind only.
  auto operator<=>(const ProjectionSourceRef&) const = default;
};

struct RunFreshness {
  enum class Status : uint8_t { kFresh, kStaleAllowed, kNotApplicable, kUnavailable };
  Status status = Status::kNotApplicable;
  std::string reason;  // kUnavailable only.
  bool operator==(const RunFreshness&) const = default;
};

// The last relevant event the state reflects.
struct RunInputFrontier {
  uint64_t global_sequence = 0;
  uint64_t wall_ms = 0;  // That event's commit wall time.
  bool operator==(const RunInputFrontier&) const = default;
};

struct RunOutputHash {
  enum class Status : uint8_t { kKnown, kNotApplicable, kUnavailable };
  Status status = Status::kNotApplicable;
  Hash32 blake3;       // kKnown: BLAKE3 of encode_payload(state).
  std::string reason;  // kUnavailable only.
  bool operator==(const RunOutputHash&) const = default;
};

struct RunCacheStatus {
  CacheStatus status = CacheStatus::kBypassed;
  std::string reason;  // Why the cache was unavailable or a row was refused; may be empty.
  bool operator==(const RunCacheStatus&) const = default;
};

// A structural finding about the run. Findings are sorted by (name, code, message).
struct RunFinding {
  enum class Type : uint8_t {
    kInputFrontierUnknown,          // The state's input frontier could not be determined.
    kObservedFreshnessUnavailable,  // The run failed, so no freshness was observed.
    kOutputHashUnavailable,         // The run failed, so there is no output to hash.
    kProjectionFailed,              // The projection returned an error (code and message).
    kStaleUsed,                     // A MaybeStale cache row older than the plan was served.
    // The state lacks the entity's events dropped before the history horizon
    // (ProjectionObservation::folded_from_horizon).
    kFoldedFromHorizon,
  };
  Type type = Type::kInputFrontierUnknown;
  std::string code;     // kProjectionFailed: error_code_name of the error.
  std::string message;  // kProjectionFailed: the error's message.
  bool operator==(const RunFinding&) const = default;
};

// A projection run's report. Every field but cache_status and body_hash is the hashed body.
struct ProjectionRunReport {
  uint16_t schema_version = kProjectionRunReportSchemaVersion;
  std::string projection_id;                     // "<name>@<schema version>:<entity>".
  std::vector<ProjectionSourceRef> source_refs;  // Sorted: entity, all kinds, kinds by value.
  Freshness requested_freshness;
  RunFreshness observed_freshness;
  std::optional<RunInputFrontier> input_frontier;  // None without state or on failure.
  RunOutputHash output_hash;
  std::vector<RunFinding> findings;  // Sorted.

  RunCacheStatus cache_status;  // Not hashed: it depends on the backend and its warmth.
  Hash32 body_hash;             // BLAKE3 of canonical_body_bytes(*this).
};

// The stable snake_case name of a finding, e.g. "stale_used" (its "type" in JSON).
std::string_view run_finding_name(RunFinding::Type type);

// The bytes body_hash covers: the body as JSON with sorted keys and no whitespace (UTF-8;
// invalid UTF-8 in a string is replaced by U+FFFD).
std::string canonical_body_bytes(const ProjectionRunReport& report);
// BLAKE3 of canonical_body_bytes(report).
Hash32 compute_body_hash(const ProjectionRunReport& report);
// {"body": {...}, "body_hash": "<hex>", "cache_status": {...}}: the body exactly as hashed.
nlohmann::json to_json(const ProjectionRunReport& report);

// One run's outcome: the state (when the run succeeded and there is one), its report, and
// the error when the run failed.
template <class State>
struct EvidenceRun {
  std::optional<State> state;
  uint64_t generation = 0;  // The entity generation the state reflects (0 on failure).
  ProjectionRunReport report;
  std::optional<Error> error;
  bool ok() const { return !error.has_value(); }
};

namespace evidence_detail {

// The request a report describes.
struct RunSubject {
  std::string_view name;
  uint64_t schema_version = 0;
  std::vector<EventKind> relevant_kinds;
  std::string_view entity;
  Freshness freshness;
};

// `state_bytes`: the state's MessagePack encoding, absent when there is no state.
ProjectionRunReport completed_run_report(const Store& store, const RunSubject& subject,
                                         const ProjectionObservation& observation,
                                         const std::optional<std::vector<uint8_t>>& state_bytes);
ProjectionRunReport failed_run_report(const RunSubject& subject, const Error& error);

}  // namespace evidence_detail

// Projects `entity` with P (Store::project) and reports the run. Never fails as a call: a
// failed projection returns its error together with a report that says so.
template <Projection P>
EvidenceRun<typename P::State> project_run_evidence(Store& store, std::string_view entity,
                                                    Freshness freshness = Freshness::consistent()) {
  const evidence_detail::RunSubject subject{P::kName, P::kSchemaVersion, P::relevant_kinds(), entity,
                                            freshness};
  EvidenceRun<typename P::State> run;
  auto projected = store.project<P>(entity, freshness);
  if (!projected) {
    run.report = evidence_detail::failed_run_report(subject, projected.error());
    run.error = projected.error();
    return run;
  }
  std::optional<std::vector<uint8_t>> bytes;
  if (projected->state) bytes = encode_payload(*projected->state);
  run.report = evidence_detail::completed_run_report(store, subject, projected->observation, bytes);
  run.state = std::move(projected->state);
  run.generation = projected->generation;
  return run;
}

}  // namespace batpak
