// The payload of the reserved DENIAL events Store::append_denial writes, and its decoder.
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

// The record of a DENIAL event; kDecode for any other event.
inline Result<DenialRecord> decode_denial(const Event& event) {
  if (event.header.kind != kDenialKind) return make_error(ErrorCode::kDecode, "not a DENIAL event");
  return decode_payload<DenialRecord>(event.payload);
}

}  // namespace batpak
