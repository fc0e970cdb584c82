// The JSON lane and the JSON forms of receipts and events (docs/cli.md).
#include "batpak/json.hpp"

#include "store/store_impl.hpp"
#include "util/hex.hpp"

namespace batpak {
namespace {

using nlohmann::json;

json id_or_null(const EventId& id) { return id.is_nil() ? json(nullptr) : json(id.to_hex()); }

template <class T>
Result<T> parse_hex_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return make_error(ErrorCode::kInvalidArgument, std::string("missing string field ") + name);
  }
  return T::parse(it->get<std::string>());
}

Result<EventId> parse_optional_id(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return EventId{};
  return parse_hex_field<EventId>(object, name);
}

template <class T>
Result<T> number_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_integer()) {
    return make_error(ErrorCode::kInvalidArgument, std::string("missing integer field ") + name);
  }
  return it->get<T>();
}

}  // namespace

Result<json> payload_to_json(std::span<const uint8_t> bytes) {
  try {
    return json::from_msgpack(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    return make_error(ErrorCode::kDecode, std::string("payload is not MessagePack: ") + e.what());
  }
}

std::vector<uint8_t> json_to_payload(const json& value) { return json::to_msgpack(value); }

json receipt_to_json(const Receipt& r) {
  json out = {
      {"event_id", r.event_id.to_hex()},
      {"global_sequence", r.global_sequence},
      {"entity", r.entity},
      {"scope", r.scope},
      {"kind", r.kind.to_string()},
      {"clock", r.clock},
      {"wall_ms", r.wall_ms},
      {"content_hash", r.content_hash.to_hex()},
      {"prev_hash", r.prev_hash.to_hex()},
      {"event_hash", r.event_hash.to_hex()},
      {"signature", r.signature ? json(util::to_hex(*r.signature)) : json(nullptr)},
      {"idempotent_replay", r.idempotent_replay},
      {"correlation", r.correlation_id.to_hex()},
      {"causation", id_or_null(r.causation_id)},
      {"payload_version", r.payload_version},
      {"payload_encrypted", r.payload_encrypted},
  };
  return out;
}

Result<Receipt> receipt_from_json(const json& v) {
  if (!v.is_object()) return make_error(ErrorCode::kInvalidArgument, "a receipt is a JSON object");
  Receipt r;
  auto event_id = parse_hex_field<EventId>(v, "event_id");
  auto correlation = parse_hex_field<EventId>(v, "correlation");
  auto causation = parse_optional_id(v, "causation");
  auto content = parse_hex_field<Hash32>(v, "content_hash");
  auto prev = parse_hex_field<Hash32>(v, "prev_hash");
  auto event_hash = parse_hex_field<Hash32>(v, "event_hash");
  auto sequence = number_field<uint64_t>(v, "global_sequence");
  auto clock = number_field<uint32_t>(v, "clock");
  auto wall_ms = number_field<uint64_t>(v, "wall_ms");
  auto version = number_field<uint16_t>(v, "payload_version");
  for (const Error* e : {event_id ? nullptr : &event_id.error(), correlation ? nullptr : &correlation.error(),
                         causation ? nullptr : &causation.error(), content ? nullptr : &content.error(),
                         prev ? nullptr : &prev.error(), event_hash ? nullptr : &event_hash.error(),
                         sequence ? nullptr : &sequence.error(), clock ? nullptr : &clock.error(),
                         wall_ms ? nullptr : &wall_ms.error(), version ? nullptr : &version.error()}) {
    if (e) return tl::unexpected(*e);
  }
  if (!v.contains("entity") || !v["entity"].is_string() || !v.contains("scope") ||
      !v["scope"].is_string() || !v.contains("kind") || !v["kind"].is_string()) {
    return make_error(ErrorCode::kInvalidArgument, "entity, scope and kind must be strings");
  }
  auto kind = EventKind::parse(v["kind"].get<std::string>());
  if (!kind) return tl::unexpected(kind.error());
  r.event_id = *event_id;
  r.correlation_id = *correlation;
  r.causation_id = *causation;
  r.content_hash = *content;
  r.prev_hash = *prev;
  r.event_hash = *event_hash;
  r.global_sequence = *sequence;
  r.clock = *clock;
  r.wall_ms = *wall_ms;
  r.payload_version = *version;
  r.entity = v["entity"].get<std::string>();
  r.scope = v["scope"].get<std::string>();
  r.kind = *kind;
  if (auto sig = v.find("signature"); sig != v.end() && !sig->is_null()) {
    std::array<uint8_t, kSignatureBytes> bytes{};
    if (!sig->is_string() || !util::from_hex(sig->get<std::string>(), bytes)) {
      return make_error(ErrorCode::kInvalidArgument, "signature is 128 hex characters or null");
    }
    r.signature = bytes;
  }
  r.idempotent_replay = v.value("idempotent_replay", false);
  if (auto encrypted = v.find("payload_encrypted"); encrypted != v.end()) {
    if (!encrypted->is_boolean()) return make_error(ErrorCode::kInvalidArgument, "payload_encrypted must be a boolean");
    r.payload_encrypted = encrypted->get<bool>();
  }
  return r;
}

json event_to_json(const Event& e) {
  json out = receipt_to_json(receipt_from_event(e));
  out.erase("signature");
  out.erase("idempotent_replay");
  out["payload_shredded"] = e.payload_shredded;
  if (e.payload_shredded) {
    out["payload"] = nullptr;
  } else {
    auto payload = payload_to_json(e.payload);
    out["payload"] = payload ? *payload : json{{"$bytes", util::to_hex(e.payload)}};
  }
  out["timestamp_us"] = e.header.timestamp_us;
  out["flags"] = e.header.flags;
  return out;
}

json event_to_export_json(const Event& e) {
  json out = event_to_json(e);
  out["payload_hex"] = e.payload_shredded ? json(nullptr) : json(util::to_hex(e.payload));
  return out;
}

Result<Event> event_from_export_json(const json& v) {
  auto receipt = receipt_from_json(v);
  if (!receipt) return tl::unexpected(receipt.error());
  auto coordinate = Coordinate::make(receipt->entity, receipt->scope);
  if (!coordinate) return tl::unexpected(coordinate.error());
  if (auto shredded = v.find("payload_shredded"); shredded != v.end() && *shredded == true) {
    return make_error(ErrorCode::kPayloadShredded,
                      "event " + receipt->event_id.to_hex() + " was exported after its payload was shredded");
  }
  auto hex = v.find("payload_hex");
  auto timestamp = v.find("timestamp_us");
  auto flags = v.find("flags");
  if (hex == v.end() || !hex->is_string() || hex->get_ref<const std::string&>().size() % 2 != 0) {
    return make_error(ErrorCode::kInvalidArgument, "payload_hex must be a string of hex pairs");
  }
  std::vector<uint8_t> payload(hex->get_ref<const std::string&>().size() / 2);
  if (!util::from_hex(hex->get_ref<const std::string&>(), payload)) {
    return make_error(ErrorCode::kInvalidArgument, "payload_hex is not hex");
  }
  if (timestamp == v.end() || !timestamp->is_number_integer()) {
    return make_error(ErrorCode::kInvalidArgument, "timestamp_us must be an integer");
  }
  if (flags == v.end() || !flags->is_number_unsigned() || flags->get<uint64_t>() > 0xFFFF) {
    return make_error(ErrorCode::kInvalidArgument, "flags must be a 16-bit unsigned integer");
  }
  EventHeader h;
  h.event_id = receipt->event_id;
  h.correlation_id = receipt->correlation_id;
  h.causation_id = receipt->causation_id;
  h.global_sequence = receipt->global_sequence;
  h.clock = receipt->clock;
  h.wall_ms = receipt->wall_ms;
  h.timestamp_us = timestamp->get<int64_t>();
  h.kind = receipt->kind;
  h.flags = flags->get<uint16_t>();
  h.payload_version = receipt->payload_version;
  h.content_hash = receipt->content_hash;
  h.prev_hash = receipt->prev_hash;
  h.event_hash = receipt->event_hash;
  return Event{*coordinate, h, std::move(payload)};
}

}  // namespace batpak
