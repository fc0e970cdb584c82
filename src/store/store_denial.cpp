// Store::append_denial: refusals become events on the entity's chain.
#include "batpak/denial.hpp"
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

}  // namespace

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

}  // namespace batpak
