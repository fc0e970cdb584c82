// Parsing and validating command input (flags and JSON Lines) before the store is touched,
// so bad input exits 2 with nothing written.
#pragma once

#include <iostream>
#include <optional>
#include <string>
#include <vector>

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

// Reads every stdin line (blank ones skipped) as JSON and parses it with `parse`, all before
// anything is written or checked; the first bad line is the error, naming its number.
template <class T, class Parse>
Result<std::vector<T>> read_stdin_lines(Parse parse) {
  std::vector<T> out;
  std::string text;
  for (size_t number = 1; std::getline(std::cin, text); ++number) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto json = parse_json(text, "line " + std::to_string(number));  // Its error names the line.
    if (!json) return tl::unexpected(json.error());
    auto parsed = parse(*json);
    if (!parsed) {
      Error e = parsed.error();
      e.message = "line " + std::to_string(number) + ": " + e.message;
      return tl::unexpected(std::move(e));
    }
    out.push_back(std::move(*parsed));
  }
  return out;
}

}  // namespace batpak::cli
