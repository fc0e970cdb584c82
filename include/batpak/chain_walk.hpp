// Chain walk evidence: a deterministic report that an event and its ancestors on its
// entity's hash chain still hash to what they claim and link to one another, with a digest
// of the walk that an auditor can keep and compare later.
//
//   batpak::ChainWalkRequest request;
//   request.start = receipt.event_id;
//   request.expected_event_hash = receipt.event_hash;   // The walk must start at this event.
//   batpak::ChainWalkReport report = batpak::chain_walk_evidence(store, request);
//   if (!report.findings.empty()) alert(batpak::to_json(report).dump());
//
// Each event walked is read from its segment, its payload and header are hashed again
// (content_hash, event_hash), and its prev_hash must equal its parent's event_hash. The
// walk goes from the start towards the entity's first event and stops at the first of: the
// genesis event, the requested end, the limit, the history horizon (docs/retention.md), or
// a finding that breaks the chain. The report says which (its boundary). Its body depends
// only on the store's contents and the request: the same store and request give the same
// canonical bytes and body_hash, across runs and reopens. docs/chain_walk.md defines every
// field.
//
// Thread safety: the report types are plain values; chain_walk_evidence may be called from
// any thread, as Store's reads may.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "batpak/store.hpp"

namespace batpak {

inline constexpr uint16_t kChainWalkReportSchemaVersion = 1;

struct ChainWalkRequest {
  EventId start;                              // The newest event of the walk.
  std::optional<Hash32> expected_event_hash;  // E.g. from a receipt: the start's event hash.
  std::optional<EventId> end;                 // Stop once this ancestor was checked.
  size_t limit = 1000;                        // Most events checked. REQUIRES: >= 1.
};

// One event of the walk.
struct ChainWalkRef {
  EventId event_id;
  uint64_t global_sequence = 0;
  uint32_t clock = 0;
  Hash32 event_hash;  // As stored.
  bool operator==(const ChainWalkRef&) const = default;
};

// Why the walk stopped.
enum class ChainWalkBoundary : uint8_t {
  kReachedGenesis,  // The last event checked is the entity's first (its prev_hash is zero).
  kReachedEnd,      // The requested end was checked.
  kReachedHorizon,  // The next ancestor was dropped; the link to it was checked against the horizon.
  kLimitReached,    // `limit` events were checked and the chain goes on (next_parent_hash).
  kBroken,          // A finding stopped the walk before any of the above.
};

// What the walk found wrong. Findings are sorted by (name, global_sequence, message).
struct ChainWalkFinding {
  enum class Type : uint8_t {
    kInvalidLimit,         // The request's limit is 0.
    kMissingStart,         // No visible event has the start id.
    kStartHashMismatch,    // The start's event hash is not the expected one.
    kContentHashMismatch,  // The payload does not hash to the stored content_hash.
    kEventHashMismatch,    // The header does not hash to the stored event_hash.
    kMissingParentLink,    // prev_hash is not the parent's event hash (or not zero at clock 1).
    kReadFailure,          // An event of the walk (the start too) could not be read: the error's message.
    kEndNotReached,        // The walk stopped before the requested end.
  };
  Type type = Type::kInvalidLimit;
  uint64_t global_sequence = 0;  // The event concerned; 0 when none.
  std::string message;
  bool operator==(const ChainWalkFinding&) const = default;
};

// A walk's report. Every field but body_hash is the hashed body.
struct ChainWalkReport {
  uint16_t schema_version = kChainWalkReportSchemaVersion;
  ChainWalkRequest request;
  std::string entity;                   // The start's entity; empty when it is missing.
  uint64_t checked_count = 0;           // Events read and hashed again.
  std::optional<ChainWalkRef> first_ref;  // The start, once read.
  std::optional<ChainWalkRef> last_ref;   // The oldest event checked.
  // BLAKE3 of the walked events' (event_id 16 bytes, event_hash 32 bytes), newest first.
  Hash32 walk_digest;
  ChainWalkBoundary boundary = ChainWalkBoundary::kBroken;
  // kLimitReached and kReachedHorizon: the last checked event's prev_hash, where a later
  // walk (or the dropped history) continues.
  std::optional<Hash32> next_parent_hash;
  std::vector<ChainWalkFinding> findings;  // Sorted.

  Hash32 body_hash;  // BLAKE3 of canonical_body_bytes(*this).
  bool ok() const { return findings.empty(); }
};

// Walks `request.start`'s chain back in `store` and reports it. Never fails as a call: what
// goes wrong is a finding.
ChainWalkReport chain_walk_evidence(const Store& store, const ChainWalkRequest& request);

// The stable snake_case names, e.g. "missing_parent_link", "reached_horizon".
std::string_view chain_walk_finding_name(ChainWalkFinding::Type type);
std::string_view chain_walk_boundary_name(ChainWalkBoundary boundary);

// The bytes body_hash covers: the body as JSON with sorted keys and no whitespace.
std::string canonical_body_bytes(const ChainWalkReport& report);
Hash32 compute_body_hash(const ChainWalkReport& report);
// {"body": {...}, "body_hash": "<hex>"}.
nlohmann::json to_json(const ChainWalkReport& report);

}  // namespace batpak
