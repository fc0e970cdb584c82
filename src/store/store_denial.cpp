// Store::append_denial and Store::append_bypassing_gates: what gates decided becomes
// events on the entity's chain.
#include "batpak/denial.hpp"

#include <algorithm>

#include "store/store_impl.hpp"
#include "util/hash.hpp"

namespace batpak {

namespace {

std::string_view verdict_name(GateOutcome::Verdict verdict) {
  switch (verdict) {
    case GateOutcome::Verdict::kPermit: return "permit";
    case GateOutcome::Verdict::kDeny: return "deny";
    case GateOutcome::Verdict::kSkipped: break;
  }
  return "skipped";
}

DenialRecord record_of(const GateVerdict& verdict, EventKind proposed_kind, std::span<const uint8_t> proposed_payload) {
  DenialRecord record;
  for (const GateOutcome& outcome : verdict.trace) {
    DenialRecord::Step step{outcome.gate, std::string(verdict_name(outcome.verdict)), {}, {}, {}};
    if (outcome.denial) {
      step.code = outcome.denial->code;
      step.message = outcome.denial->message;
      step.context = outcome.denial->context;
    }
    record.trace.push_back(std::move(step));
  }
  record.proposed_kind = proposed_kind.raw();
  const Hash32 hash = util::blake3(proposed_payload);
  record.proposed_content_hash.assign(hash.bytes.begin(), hash.bytes.end());
  return record;
}

Status refuse_reserved(const Event& event, const std::string& why) {
  return make_error(ErrorCode::kReservedKind,
                    "kind " + event.header.kind.to_string() + " is reserved (category 0 or d): " + why);
}

Status check_importable_denial(const Event& event) {
  auto record = decode_denial(event);
  if (!record) return refuse_reserved(event, "its payload is not a DENIAL record");
  const bool refused = std::any_of(record->trace.begin(), record->trace.end(),
                                   [](const DenialRecord::Step& step) { return step.verdict == "deny"; });
  if (!refused || record->proposed_content_hash.size() != sizeof(Hash32::bytes)) {
    return refuse_reserved(event, "a DENIAL record needs a \"deny\" step and a 32-byte content hash");
  }
  return {};
}

Status check_importable_bypass(const Event& event) {
  auto audit = decode_bypass(event);
  if (!audit) return refuse_reserved(event, "its payload is not a BYPASS audit");
  if (event.header.causation_id.is_nil() || audit->reason.empty() || audit->justification.empty() ||
      audit->bypassed_content_hash.size() != sizeof(Hash32::bytes)) {
    return refuse_reserved(event, "a BYPASS audit needs a causation, a reason, a justification and a 32-byte content hash");
  }
  return {};
}

}  // namespace

Status check_importable_kind(const Event& event) {
  const EventKind kind = event.header.kind;
  if (!kind.is_reserved()) return {};
  if (kind == kDenialKind) return check_importable_denial(event);
  if (kind == kBypassKind) return check_importable_bypass(event);
  return refuse_reserved(event, "the library writes no event of this kind");
}

Result<Receipt> Store::append_denial(const Coordinate& coordinate, const GateVerdict& verdict, EventKind proposed_kind,
                                     std::span<const uint8_t> proposed_payload, const AppendOptions& options) {
  if (verdict.allowed()) return make_error(ErrorCode::kInvalidArgument, "the verdict allowed: there is no denial to record");
  std::vector<uint8_t> payload;
  try {
    payload = encode_payload(record_of(verdict, proposed_kind, proposed_payload));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("msgpack encode failed: ") + e.what());
  }
  return impl_->append_one(coordinate, kDenialKind, payload, options, /*reserved_allowed=*/true);
}

Result<std::vector<Receipt>> Store::append_bypassing_gates(const BatchItem& item, const BypassAudit& audit) {
  if (audit.reason.empty() || audit.justification.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "a bypass needs a reason and a justification");
  }
  if (auto s = impl_->check_writable(); !s) return tl::unexpected(s.error());
  if (auto s = impl_->check_append_input(item.kind, item.payload.size(), item.options); !s) {
    return tl::unexpected(s.error());
  }
  BypassAudit recorded = audit;
  recorded.bypassed_kind = item.kind.raw();
  const Hash32 hash = util::blake3(item.payload);
  recorded.bypassed_content_hash.assign(hash.bytes.begin(), hash.bytes.end());
  std::vector<uint8_t> audit_payload;
  try {
    audit_payload = encode_payload(recorded);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument, std::string("msgpack encode failed: ") + e.what());
  }
  if (auto s = impl_->check_append_input(kBypassKind, audit_payload.size(), {}, /*reserved_allowed=*/true); !s) {
    return tl::unexpected(s.error());
  }
  std::vector<writer::Prepared> prepared;
  prepared.push_back(impl_->prepare(item.coordinate, item.kind, item.payload, item.options));
  AppendOptions audit_options;
  audit_options.causation_id = prepared.front().event_id;
  audit_options.correlation_id = item.options.correlation_id.is_nil() ? prepared.front().event_id : item.options.correlation_id;
  prepared.push_back(impl_->prepare(item.coordinate, kBypassKind, audit_payload, audit_options));
  if (auto s = impl_->seal_and_hash(prepared); !s) return tl::unexpected(s.error());
  return impl_->commit(prepared);
}

}  // namespace batpak
