#include "requests.hpp"

#include "cli.hpp"

#include <set>

namespace batpak::cli {
namespace {

tl::unexpected<Error> bad(const std::string& message) {
  return make_error(ErrorCode::kInvalidArgument, message);
}

Result<std::string> string_field(const nlohmann::json& line, const char* name) {
  auto it = line.find(name);
  if (it == line.end() || !it->is_string()) return bad(std::string("\"") + name + "\" must be a string");
  return it->get<std::string>();
}

template <class T>
Result<T> unsigned_field(const nlohmann::json& value, const char* name) {
  if (!value.is_number_unsigned() || value.get<uint64_t>() > std::numeric_limits<T>::max()) {
    return bad(std::string("\"") + name + "\" must be an unsigned integer in range");
  }
  return value.get<T>();
}

Result<EventId> optional_id(const nlohmann::json& line, const char* name) {
  auto it = line.find(name);
  if (it == line.end() || it->is_null()) return EventId{};
  if (!it->is_string()) return bad(std::string("\"") + name + "\" must be a 32-hex-character id");
  return EventId::parse(it->get<std::string>());
}

// The check Store::append makes, made before the store is opened.
Status check_public_kind(EventKind kind) {
  if (kind.is_reserved()) {
    return make_error(ErrorCode::kReservedKind, "kind " + kind.to_string() + " is reserved (category 0 or d)");
  }
  return {};
}

Status check_payload_size(size_t bytes) {
  const uint32_t limit = StoreOptions{}.payload_bytes_max;
  if (bytes > limit) {
    return make_error(ErrorCode::kTooLarge, "payload is " + std::to_string(bytes) +
                                                " bytes; the store's limit is " + std::to_string(limit));
  }
  return {};
}

Result<EventKind> public_kind(const std::string& text) {
  auto kind = EventKind::parse(text);
  if (!kind) return kind;
  if (auto allowed = check_public_kind(*kind); !allowed) return tl::unexpected(allowed.error());
  return kind;
}

}  // namespace

Result<nlohmann::json> parse_json(const std::string& text, const std::string& what) {
  auto value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return bad(what + " is not valid JSON");
  return value;
}

// {"after": SEQ, "entity"?, "scope"?, "kind"? | "category"?}: an AppendCondition.
Result<AppendCondition> parse_condition(const nlohmann::json& value) {
  static const std::set<std::string> kFields = {"after", "entity", "scope", "kind", "category"};
  if (!value.is_object() || !value.contains("after")) return bad("\"condition\" is an object with \"after\"");
  for (const auto& [name, field] : value.items()) {
    if (!kFields.count(name)) return bad("unknown condition field \"" + name + "\"");
  }
  auto after = unsigned_field<uint64_t>(value["after"], "condition.after");
  if (!after) return tl::unexpected(after.error());
  RegionArgs region;
  for (auto [name, target] : {std::pair{"entity", &region.entity}, {"scope", &region.scope}, {"kind", &region.kind}}) {
    if (!value.contains(name)) continue;
    auto text = string_field(value, name);
    if (!text) return tl::unexpected(text.error());
    *target = *text;
  }
  if (value.contains("category")) {
    auto category = unsigned_field<uint16_t>(value["category"], "condition.category");
    if (!category) return tl::unexpected(category.error());
    region.category = *category;
  }
  auto parsed = region_from(region);
  if (!parsed) return tl::unexpected(parsed.error());
  return AppendCondition{std::move(*parsed), *after};
}

Result<AppendRequest> parse_append_line(const nlohmann::json& line) {
  static const std::set<std::string> kFields = {"entity",         "scope",     "kind",        "payload", "idempotency_key",
                                                "expected_clock", "causation", "correlation", "condition"};
  if (!line.is_object()) return bad("an append line is a JSON object");
  for (const auto& [name, value] : line.items()) {
    if (!kFields.count(name)) return bad("unknown field \"" + name + "\"");
  }
  auto entity = string_field(line, "entity");
  if (!entity) return tl::unexpected(entity.error());
  auto scope = string_field(line, "scope");
  if (!scope) return tl::unexpected(scope.error());
  auto coordinate = Coordinate::make(*entity, *scope);
  if (!coordinate) return tl::unexpected(coordinate.error());
  auto kind_text = string_field(line, "kind");
  if (!kind_text) return tl::unexpected(kind_text.error());
  auto kind = public_kind(*kind_text);
  if (!kind) return tl::unexpected(kind.error());
  if (!line.contains("payload")) return bad("\"payload\" is missing");

  AppendRequest request{*coordinate, *kind, json_to_payload(line["payload"]), {}};
  if (auto size = check_payload_size(request.payload.size()); !size) return tl::unexpected(size.error());
  if (auto it = line.find("idempotency_key"); it != line.end() && !it->is_null()) {
    if (!it->is_string() || it->get<std::string>().empty() ||
        it->get<std::string>().size() > kIdempotencyKeyBytesMax) {
      return bad("\"idempotency_key\" must be a string of 1..256 bytes");
    }
    request.options.idempotency_key = it->get<std::string>();
  }
  if (auto it = line.find("expected_clock"); it != line.end() && !it->is_null()) {
    auto clock = unsigned_field<uint32_t>(*it, "expected_clock");
    if (!clock) return tl::unexpected(clock.error());
    request.options.expected_clock = *clock;
  }
  auto causation = optional_id(line, "causation");
  if (!causation) return tl::unexpected(causation.error());
  auto correlation = optional_id(line, "correlation");
  if (!correlation) return tl::unexpected(correlation.error());
  request.options.causation_id = *causation;
  request.options.correlation_id = *correlation;
  if (auto it = line.find("condition"); it != line.end() && !it->is_null()) {
    auto condition = parse_condition(*it);
    if (!condition) return tl::unexpected(condition.error());
    request.options.condition = std::move(*condition);
  }
  return request;
}

Result<Event> parse_import_line(const nlohmann::json& line) {
  Result<Event> event = [&] {
    if (!line.is_object() || line.contains("payload_hex") || !line.contains("payload")) {
      return event_from_export_json(line);
    }
    nlohmann::json with_bytes = line;
    with_bytes["payload_hex"] = to_hex(json_to_payload(line["payload"]));
    return event_from_export_json(with_bytes);
  }();
  if (!event) return event;
  if (event->header.event_id.is_nil()) return bad("\"event_id\" must not be the nil id");
  if (auto size = check_payload_size(event->payload.size()); !size) return tl::unexpected(size.error());
  if (auto allowed = check_importable_kind(*event); !allowed) return tl::unexpected(allowed.error());
  return event;
}

}  // namespace batpak::cli
