// Chain walk evidence: the walk from the start event towards the entity's first event,
// checking every hash on the way, and the report's JSON and body hash.
#include "batpak/chain_walk.hpp"

#include <algorithm>
#include <array>
#include <tuple>

#include "evidence/canonical.hpp"
#include "format/record.hpp"
#include "util/hash.hpp"

namespace batpak {
namespace {

using Finding = ChainWalkFinding::Type;
using nlohmann::json;

// One walk: the report it fills and the bytes of its digest.
class Walk {
 public:
  Walk(const Store& store, ChainWalkReport& report) : store_(store), r_(report) {}

  void run() {
    if (r_.request.limit == 0) return add(Finding::kInvalidLimit, 0, "the limit must be at least 1");
    auto start = store_.get(r_.request.start);
    if (!start) {
      const bool missing = start.error().code == ErrorCode::kNotFound;
      return add(missing ? Finding::kMissingStart : Finding::kReadFailure, 0, start.error().message);
    }
    r_.entity = std::string(start->coordinate.entity());
    const EventHeader& h = start->header;
    if (r_.request.expected_event_hash && h.event_hash != *r_.request.expected_event_hash) {
      add(Finding::kStartHashMismatch, h.global_sequence,
          "expected event_hash " + r_.request.expected_event_hash->to_hex() + ", stored " + h.event_hash.to_hex());
    }
    auto plan = store_.replay_plan(r_.entity, {});
    if (!plan) return add(Finding::kReadFailure, h.global_sequence, plan.error().message);
    walk_from(std::move(*start), *plan);
  }

  // Adds the end's finding, sorts the findings and fills the digests.
  void finish() {
    if (r_.request.end && r_.boundary != ChainWalkBoundary::kReachedEnd) {
      add(Finding::kEndNotReached, 0,
          "the walk stopped (" + std::string(chain_walk_boundary_name(r_.boundary)) + ") before event " +
              r_.request.end->to_hex());
    }
    std::sort(r_.findings.begin(), r_.findings.end(), [](const ChainWalkFinding& a, const ChainWalkFinding& b) {
      return std::tuple(chain_walk_finding_name(a.type), a.global_sequence, std::string_view(a.message)) <
             std::tuple(chain_walk_finding_name(b.type), b.global_sequence, std::string_view(b.message));
    });
    r_.walk_digest = util::blake3(digest_input_);
    r_.body_hash = compute_body_hash(r_);
  }

 private:
  void add(Finding type, uint64_t global_sequence, std::string message) {
    r_.findings.push_back({type, global_sequence, std::move(message)});
  }

  // Hashes `e` again and counts it into the walk.
  void check(const Event& e) {
    const EventHeader& h = e.header;
    const ChainWalkRef ref{h.event_id, h.global_sequence, h.clock, h.event_hash};
    if (!r_.first_ref) r_.first_ref = ref;
    r_.last_ref = ref;
    ++r_.checked_count;
    digest_input_.insert(digest_input_.end(), h.event_id.bytes.begin(), h.event_id.bytes.end());
    digest_input_.insert(digest_input_.end(), h.event_hash.bytes.begin(), h.event_hash.bytes.end());
    const Hash32 content = util::blake3(e.payload);
    if (content != h.content_hash) {
      add(Finding::kContentHashMismatch, h.global_sequence,
          "the payload hashes to " + content.to_hex() + ", content_hash is " + h.content_hash.to_hex());
    }
    const Hash32 event = format::compute_event_hash(h, e.coordinate.entity(), e.coordinate.scope());
    if (event != h.event_hash) {
      add(Finding::kEventHashMismatch, h.global_sequence,
          "the header hashes to " + event.to_hex() + ", event_hash is " + h.event_hash.to_hex());
    }
  }

  // Sets the boundary where the walk stopped. `plan` lists the entity's kept events in clock
  // order, after `plan.dropped_generation` dropped ones.
  void walk_from(Event current, const ReplayPlan& plan) {
    for (;;) {
      check(current);
      const EventHeader& h = current.header;
      if (r_.request.end && h.event_id == *r_.request.end) return stop(ChainWalkBoundary::kReachedEnd);
      if (h.clock == 1) {
        if (h.prev_hash.is_zero()) return stop(ChainWalkBoundary::kReachedGenesis);
        return broken(h.global_sequence, "the entity's first event has a non-zero prev_hash");
      }
      const uint64_t parent_clock = h.clock - 1;
      if (parent_clock <= plan.dropped_generation) return stop_at_horizon(h, parent_clock);
      if (r_.checked_count == r_.request.limit) {
        r_.next_parent_hash = h.prev_hash;
        return stop(ChainWalkBoundary::kLimitReached);
      }
      const uint64_t parent_at = parent_clock - plan.dropped_generation - 1;
      if (parent_at >= plan.global_sequences.size()) {
        return read_failed(h.global_sequence, "the index has no event at clock " + std::to_string(parent_clock));
      }
      const std::array<uint64_t, 1> parent_sequence{plan.global_sequences[parent_at]};
      auto parent = store_.read_sequences(parent_sequence);
      if (!parent) return read_failed(parent_sequence[0], parent.error().message);
      Event& p = parent->front();
      if (h.prev_hash != p.header.event_hash) {
        return broken(h.global_sequence, "prev_hash is not the event_hash of clock " + std::to_string(parent_clock) +
                                             " (global sequence " + std::to_string(p.header.global_sequence) + ")");
      }
      current = std::move(p);
    }
  }

  // The parent was dropped: the horizon recorded its event hash, which prev_hash must equal.
  void stop_at_horizon(const EventHeader& h, uint64_t parent_clock) {
    auto recorded = store_.entity_hash_at(r_.entity, parent_clock);
    if (!recorded) return read_failed(h.global_sequence, recorded.error().message);
    if (*recorded != h.prev_hash) {
      return broken(h.global_sequence, "prev_hash is not the event_hash the history horizon recorded for clock " +
                                           std::to_string(parent_clock));
    }
    r_.next_parent_hash = h.prev_hash;
    stop(ChainWalkBoundary::kReachedHorizon);
  }

  void stop(ChainWalkBoundary boundary) { r_.boundary = boundary; }
  void broken(uint64_t global_sequence, std::string why) {
    add(Finding::kMissingParentLink, global_sequence, std::move(why));
    stop(ChainWalkBoundary::kBroken);
  }
  void read_failed(uint64_t global_sequence, std::string why) {
    add(Finding::kReadFailure, global_sequence, std::move(why));
    stop(ChainWalkBoundary::kBroken);
  }

  const Store& store_;
  ChainWalkReport& r_;
  std::vector<uint8_t> digest_input_;
};

json hex_or_null(const std::optional<Hash32>& h) { return h ? json(h->to_hex()) : json(nullptr); }
json hex_or_null(const std::optional<EventId>& id) { return id ? json(id->to_hex()) : json(nullptr); }

json ref_json(const std::optional<ChainWalkRef>& ref) {
  if (!ref) return nullptr;
  return {{"event_id", ref->event_id.to_hex()},
          {"global_sequence", ref->global_sequence},
          {"clock", ref->clock},
          {"event_hash", ref->event_hash.to_hex()}};
}

json body_json(const ChainWalkReport& r) {
  json findings = json::array();
  for (const ChainWalkFinding& f : r.findings) {
    findings.push_back(
        {{"type", chain_walk_finding_name(f.type)}, {"global_sequence", f.global_sequence}, {"message", f.message}});
  }
  const json request = {{"start", r.request.start.to_hex()},
                        {"expected_event_hash", hex_or_null(r.request.expected_event_hash)},
                        {"end", hex_or_null(r.request.end)},
                        {"limit", r.request.limit}};
  return {{"schema_version", r.schema_version},
          {"request", request},
          {"entity", r.entity},
          {"checked_count", r.checked_count},
          {"first_ref", ref_json(r.first_ref)},
          {"last_ref", ref_json(r.last_ref)},
          {"walk_digest", r.walk_digest.to_hex()},
          {"boundary", chain_walk_boundary_name(r.boundary)},
          {"next_parent_hash", hex_or_null(r.next_parent_hash)},
          {"findings", std::move(findings)}};
}

}  // namespace

ChainWalkReport chain_walk_evidence(const Store& store, const ChainWalkRequest& request) {
  ChainWalkReport report;
  report.request = request;
  Walk walk(store, report);
  walk.run();
  walk.finish();
  return report;
}

std::string_view chain_walk_finding_name(ChainWalkFinding::Type type) {
  switch (type) {
    case Finding::kInvalidLimit: return "invalid_limit";
    case Finding::kMissingStart: return "missing_start";
    case Finding::kStartHashMismatch: return "start_hash_mismatch";
    case Finding::kContentHashMismatch: return "content_hash_mismatch";
    case Finding::kEventHashMismatch: return "event_hash_mismatch";
    case Finding::kMissingParentLink: return "missing_parent_link";
    case Finding::kReadFailure: return "read_failure";
    case Finding::kEndNotReached: return "end_not_reached";
  }
  return "unknown";
}

std::string_view chain_walk_boundary_name(ChainWalkBoundary boundary) {
  switch (boundary) {
    case ChainWalkBoundary::kReachedGenesis: return "reached_genesis";
    case ChainWalkBoundary::kReachedEnd: return "reached_end";
    case ChainWalkBoundary::kReachedHorizon: return "reached_horizon";
    case ChainWalkBoundary::kLimitReached: return "limit_reached";
    case ChainWalkBoundary::kBroken: return "broken";
  }
  return "unknown";
}

std::string canonical_body_bytes(const ChainWalkReport& report) {
  return evidence_detail::canonical_bytes(body_json(report));
}

Hash32 compute_body_hash(const ChainWalkReport& report) {
  return evidence_detail::canonical_hash(body_json(report));
}

nlohmann::json to_json(const ChainWalkReport& report) {
  return {{"body", body_json(report)}, {"body_hash", report.body_hash.to_hex()}};
}

}  // namespace batpak
