// Assembly of projection run reports: source refs, observed freshness, input frontier,
// output hash and findings, sorted, then hashed.
#include <algorithm>
#include <array>
#include <string>
#include <tuple>

#include "batpak/evidence.hpp"
#include "util/hash.hpp"

namespace batpak::evidence_detail {
namespace {

constexpr std::string_view kFailedReason = "projection_failed";

std::string projection_id(const RunSubject& subject) {
  return std::string(subject.name) + "@" + std::to_string(subject.schema_version) + ":" +
         std::string(subject.entity);
}

std::vector<ProjectionSourceRef> source_refs(const RunSubject& subject) {
  std::vector<ProjectionSourceRef> refs;
  refs.push_back({ProjectionSourceRef::Type::kEntity, std::string(subject.entity), EventKind()});
  if (subject.relevant_kinds.empty()) refs.push_back({ProjectionSourceRef::Type::kAllKinds, {}, EventKind()});
  for (EventKind kind : subject.relevant_kinds) {
    refs.push_back({ProjectionSourceRef::Type::kRelevantKind, {}, kind});
  }
  std::sort(refs.begin(), refs.end());
  refs.erase(std::unique(refs.begin(), refs.end()), refs.end());
  return refs;
}

RunFreshness observed(ObservedFreshness freshness) {
  switch (freshness) {
    case ObservedFreshness::kFresh: return {RunFreshness::Status::kFresh, {}};
    case ObservedFreshness::kStaleAllowed: return {RunFreshness::Status::kStaleAllowed, {}};
    case ObservedFreshness::kNotApplicable: break;
  }
  return {RunFreshness::Status::kNotApplicable, {}};
}

// The frontier's wall time comes from the event itself; an unreadable event leaves the
// frontier unknown (reported as a finding), never a guessed time.
std::optional<RunInputFrontier> input_frontier(const Store& store, uint64_t global_sequence) {
  if (global_sequence == 0) return std::nullopt;
  const std::array<uint64_t, 1> sequences{global_sequence};
  auto events = store.read_sequences(sequences);
  if (!events || events->size() != 1) return std::nullopt;
  return RunInputFrontier{global_sequence, events->front().header.wall_ms};
}

// Derives the findings the body's fields imply, then sorts them.
void add_findings(ProjectionRunReport& r) {
  using S = RunFreshness::Status;
  if (r.observed_freshness.status == S::kUnavailable) {
    r.findings.push_back({RunFinding::Type::kObservedFreshnessUnavailable, {}, {}});
  }
  if (r.observed_freshness.status == S::kStaleAllowed) r.findings.push_back({RunFinding::Type::kStaleUsed, {}, {}});
  if (!r.input_frontier && r.observed_freshness.status != S::kNotApplicable) {
    r.findings.push_back({RunFinding::Type::kInputFrontierUnknown, {}, {}});
  }
  if (r.output_hash.status == RunOutputHash::Status::kUnavailable) {
    r.findings.push_back({RunFinding::Type::kOutputHashUnavailable, {}, {}});
  }
  std::sort(r.findings.begin(), r.findings.end(), [](const RunFinding& a, const RunFinding& b) {
    return std::tuple(run_finding_name(a.type), std::string_view(a.code), std::string_view(a.message)) <
           std::tuple(run_finding_name(b.type), std::string_view(b.code), std::string_view(b.message));
  });
}

ProjectionRunReport base_report(const RunSubject& subject) {
  ProjectionRunReport r;
  r.projection_id = projection_id(subject);
  r.source_refs = source_refs(subject);
  r.requested_freshness = subject.freshness;
  return r;
}

}  // namespace

ProjectionRunReport completed_run_report(const Store& store, const RunSubject& subject,
                                         const ProjectionObservation& observation,
                                         const std::optional<std::vector<uint8_t>>& state_bytes) {
  ProjectionRunReport r = base_report(subject);
  r.observed_freshness = observed(observation.freshness);
  r.input_frontier = input_frontier(store, observation.input_frontier);
  if (state_bytes) r.output_hash = {RunOutputHash::Status::kKnown, util::blake3(*state_bytes), {}};
  r.cache_status = {observation.cache_status, observation.cache_reason};
  if (observation.folded_from_horizon) r.findings.push_back({RunFinding::Type::kFoldedFromHorizon, {}, {}});
  add_findings(r);
  r.body_hash = compute_body_hash(r);
  return r;
}

ProjectionRunReport failed_run_report(const RunSubject& subject, const Error& error) {
  ProjectionRunReport r = base_report(subject);
  r.observed_freshness = {RunFreshness::Status::kUnavailable, std::string(kFailedReason)};
  r.output_hash = {RunOutputHash::Status::kUnavailable, Hash32{}, std::string(kFailedReason)};
  r.cache_status = {CacheStatus::kUnavailable, std::string(kFailedReason)};
  r.findings.push_back({RunFinding::Type::kProjectionFailed, std::string(error_code_name(error.code)), error.message});
  add_findings(r);
  r.body_hash = compute_body_hash(r);
  return r;
}

}  // namespace batpak::evidence_detail
