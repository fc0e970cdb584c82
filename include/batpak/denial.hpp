// The payloads of the reserved events gates leave behind: DENIAL (Store::append_denial) and
// BYPASS (Store::append_bypassing_gates), and their decoders.
// Thread safety: plain values and pure functions.
//
//   auto denials = store.query(batpak::Region::entity("order:7").with_kinds(
//       batpak::KindFilter::exact(batpak::kDenialKind)));
//   auto record = batpak::decode_denial(denials->front());  // Who refused, and why.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "batpak/codec.hpp"
#include "batpak/gate.hpp"

namespace batpak {

// Category 0 is reserved for the library: public appends cannot use this kind.
inline constexpr EventKind kDenialKind{0x0001};

struct DenialRecord {
  struct Step {
    std::string gate;
    std::string verdict;  // "permit", "deny" or "skipped".
    std::string code;     // Deny only.
    std::string message;  // Deny only.
    std::map<std::string, std::string> context;
    MSGPACK_DEFINE_MAP(gate, verdict, code, message, context)
  };
  std::vector<Step> trace;  // Every gate, in evaluation order.
  uint16_t proposed_kind = 0;
  std::vector<uint8_t> proposed_content_hash;  // BLAKE3 of the proposed payload (32 bytes).
  MSGPACK_DEFINE_MAP(trace, proposed_kind, proposed_content_hash)
};

// Category 0 as well: the audit event of a commit that bypassed the gates.
inline constexpr EventKind kBypassKind{0x0002};

// Why the gates were bypassed. reason and justification are required; approved_by is
// optional.
struct BypassAudit {
  std::string reason;         // A short, stable name, e.g. "incident-4711".
  std::string justification;  // For people.
  std::string approved_by;
  std::vector<uint8_t> bypassed_content_hash;  // Filled by the store: BLAKE3 of the payload.
  uint16_t bypassed_kind = 0;                  // Filled by the store.
  MSGPACK_DEFINE_MAP(reason, justification, approved_by, bypassed_content_hash, bypassed_kind)
};

// The audit of a BYPASS event; kDecode for any other event.
inline Result<BypassAudit> decode_bypass(const Event& event) {
  if (event.header.kind != kBypassKind) return make_error(ErrorCode::kDecode, "not a BYPASS event");
  return decode_payload<BypassAudit>(event.payload);
}

// The record of a DENIAL event; kDecode for any other event.
inline Result<DenialRecord> decode_denial(const Event& event) {
  if (event.header.kind != kDenialKind) return make_error(ErrorCode::kDecode, "not a DENIAL event");
  return decode_payload<DenialRecord>(event.payload);
}

// Whether Store::import_event may copy `event` (batpak import): any event of a public kind,
// and a reserved event only in the form the library writes it, so that a store with gate
// records round-trips through export and import. That is a DENIAL whose record has a "deny"
// step and a 32-byte content hash, or a BYPASS with a causation, a reason, a justification
// and a 32-byte content hash. Any other event of a reserved category: kReservedKind.
Status check_importable_kind(const Event& event);

}  // namespace batpak
