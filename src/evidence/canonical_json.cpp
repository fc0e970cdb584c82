// The JSON form of projection run reports and the canonical bytes of their body.
// nlohmann::json objects keep keys sorted (std::map), and dump() without an indent writes
// no whitespace, so the dump of the body is canonical for a given report.
#include <string>

#include "batpak/evidence.hpp"
#include "evidence/canonical.hpp"

namespace batpak {
namespace {

using nlohmann::json;

json source_ref_json(const ProjectionSourceRef& ref) {
  switch (ref.type) {
    case ProjectionSourceRef::Type::kEntity: return {{"type", "entity"}, {"entity", ref.entity}};
    case ProjectionSourceRef::Type::kAllKinds: return {{"type", "all_kinds"}};
    case ProjectionSourceRef::Type::kRelevantKind: break;
  }
  return {{"type", "relevant_kind"}, {"category", ref.kind.category()}, {"type_id", ref.kind.type_id()}};
}

json requested_json(const Freshness& f) {
  if (f.mode == Freshness::Mode::kConsistent) return {{"mode", "consistent"}};
  return {{"mode", "maybe_stale"}, {"max_stale_ms", f.max_stale_ms}};
}

json observed_json(const RunFreshness& f) {
  switch (f.status) {
    case RunFreshness::Status::kFresh: return {{"status", "fresh"}};
    case RunFreshness::Status::kStaleAllowed: return {{"status", "stale_allowed"}};
    case RunFreshness::Status::kNotApplicable: return {{"status", "not_applicable"}};
    case RunFreshness::Status::kUnavailable: break;
  }
  return {{"status", "unavailable"}, {"reason", f.reason}};
}

json frontier_json(const std::optional<RunInputFrontier>& f) {
  if (!f) return nullptr;
  return {{"kind", "visible"}, {"global_sequence", f->global_sequence}, {"wall_ms", f->wall_ms}};
}

json output_hash_json(const RunOutputHash& h) {
  switch (h.status) {
    case RunOutputHash::Status::kKnown: return {{"status", "known"}, {"blake3", h.blake3.to_hex()}};
    case RunOutputHash::Status::kNotApplicable: return {{"status", "not_applicable"}};
    case RunOutputHash::Status::kUnavailable: break;
  }
  return {{"status", "unavailable"}, {"reason", h.reason}};
}

json finding_json(const RunFinding& f) {
  json out = {{"type", run_finding_name(f.type)}};
  if (f.type == RunFinding::Type::kProjectionFailed) {
    out["code"] = f.code;
    out["message"] = f.message;
  }
  return out;
}

std::string_view cache_status_name(CacheStatus s) {
  switch (s) {
    case CacheStatus::kHit: return "hit";
    case CacheStatus::kMiss: return "miss";
    case CacheStatus::kBypassed: return "bypassed";
    case CacheStatus::kUnavailable: return "unavailable";
  }
  return "unknown";
}

json cache_json(const RunCacheStatus& c) {
  json out = {{"status", cache_status_name(c.status)}};
  if (!c.reason.empty()) out["reason"] = c.reason;
  return out;
}

json body_json(const ProjectionRunReport& r) {
  json refs = json::array();
  for (const ProjectionSourceRef& ref : r.source_refs) refs.push_back(source_ref_json(ref));
  json findings = json::array();
  for (const RunFinding& f : r.findings) findings.push_back(finding_json(f));
  return {{"schema_version", r.schema_version},
          {"projection_id", r.projection_id},
          {"source_refs", std::move(refs)},
          {"requested_freshness", requested_json(r.requested_freshness)},
          {"observed_freshness", observed_json(r.observed_freshness)},
          {"input_frontier", frontier_json(r.input_frontier)},
          {"output_hash", output_hash_json(r.output_hash)},
          {"findings", std::move(findings)}};
}

}  // namespace

std::string_view run_finding_name(RunFinding::Type type) {
  switch (type) {
    case RunFinding::Type::kInputFrontierUnknown: return "input_frontier_unknown";
    case RunFinding::Type::kObservedFreshnessUnavailable: return "observed_freshness_unavailable";
    case RunFinding::Type::kOutputHashUnavailable: return "output_hash_unavailable";
    case RunFinding::Type::kProjectionFailed: return "projection_failed";
    case RunFinding::Type::kStaleUsed: return "stale_used";
    case RunFinding::Type::kFoldedFromHorizon: return "folded_from_horizon";
  }
  return "unknown";
}

std::string canonical_body_bytes(const ProjectionRunReport& report) {
  return evidence_detail::canonical_bytes(body_json(report));
}

Hash32 compute_body_hash(const ProjectionRunReport& report) {
  return evidence_detail::canonical_hash(body_json(report));
}

nlohmann::json to_json(const ProjectionRunReport& report) {
  return {{"body", body_json(report)},
          {"body_hash", report.body_hash.to_hex()},
          {"cache_status", cache_json(report.cache_status)}};
}

}  // namespace batpak
