// Parsing and validating command input (flags and JSON Lines) before the store is touched,
// so bad input exits 2 with nothing written.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "batpak/batpak.hpp"

namespace batpak::cli {

// One event to append, fully validated.
struct AppendRequest {
  Coordinate coordinate;
  EventKind kind;
  std::vector<uint8_t> payload;
  AppendOptions options;
};

// {"entity","scope","kind","payload","idempotency_key"?,"expected_clock"?,"causation"?,
//  "correlation"?} -> a validated request. Any other field is refused.
Result<AppendRequest> parse_append_line(const nlohmann::json& line);

// An export line (batpak export) -> an event to import, checked as Store::import_event
// would check it. A line without "payload_hex" takes its payload bytes from "payload".
Result<Event> parse_import_line(const nlohmann::json& line);

// Parses a JSON text; malformed text is kInvalidArgument naming `what`.
Result<nlohmann::json> parse_json(const std::string& text, const std::string& what);

}  // namespace batpak::cli
