// The JSON lane: MessagePack payload bytes to and from nlohmann::json, and the JSON forms of
// receipts and events used by the CLI (docs/cli.md). Both lanes read the same bytes.
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "batpak/store.hpp"

namespace batpak {

// Decodes MessagePack payload bytes to JSON. Malformed bytes: kDecode.
Result<nlohmann::json> payload_to_json(std::span<const uint8_t> bytes);
// Encodes JSON as MessagePack payload bytes.
std::vector<uint8_t> json_to_payload(const nlohmann::json& value);

// {event_id, global_sequence, entity, scope, kind, clock, wall_ms, content_hash, prev_hash,
//  event_hash, signature, idempotent_replay, correlation, causation, payload_version,
//  payload_encrypted}
nlohmann::json receipt_to_json(const Receipt& receipt);
// The inverse of receipt_to_json; missing or malformed fields are kInvalidArgument.
Result<Receipt> receipt_from_json(const nlohmann::json& value);
// The receipt fields plus payload (decoded JSON, or {"$bytes": hex} when the payload is not
// MessagePack; null when shredded), payload_shredded, causation, correlation, timestamp_us, flags
// and payload_version.
nlohmann::json event_to_json(const Event& event);

// The export form of an event (batpak export): event_to_json plus "payload_hex", the exact
// payload bytes, so an import reproduces them byte for byte.
nlohmann::json event_to_export_json(const Event& event);
// The inverse of event_to_export_json. The global sequence, clock and hashes are read but not
// used: the importing store assigns its own (Store::import_event). Malformed: kInvalidArgument.
Result<Event> event_from_export_json(const nlohmann::json& value);

}  // namespace batpak
