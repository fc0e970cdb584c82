// The built-in generic projections of `batpak project` (docs/cli.md). Each works on any
// store, whatever its payloads, so the CLI can fold without user code.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "batpak/batpak.hpp"

namespace batpak::cli {

// Events per kind ("c:ttt" -> count).
struct CountByKind {
  struct State {
    std::map<std::string, uint64_t> counts;
    MSGPACK_DEFINE_MAP(counts)
  };
  static constexpr std::string_view kName = "cli.count-by-kind";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {}; }
  static Status apply(State& state, const Event& event);
  static nlohmann::json to_json(const State& state);
};

// The newest event's payload.
struct LastPayload {
  struct State {
    std::string event_id;
    uint32_t clock = 0;
    std::vector<uint8_t> payload;
    MSGPACK_DEFINE_MAP(event_id, clock, payload)
  };
  static constexpr std::string_view kName = "cli.last-payload";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {}; }
  static Status apply(State& state, const Event& event);
  static nlohmann::json to_json(const State& state);
};

// Sums of every numeric top-level field of JSON-object payloads, so one cached state
// answers `sum:FIELD` for any FIELD. Payloads that are not MessagePack maps are skipped.
struct SumFields {
  struct State {
    std::map<std::string, int64_t> integers;  // Sums of integer values (wrapping is an error).
    std::map<std::string, double> reals;      // Sums of non-integer values.
    MSGPACK_DEFINE_MAP(integers, reals)
  };
  static constexpr std::string_view kName = "cli.sum-fields";
  static constexpr uint64_t kSchemaVersion = 1;
  static constexpr bool kSupportsIncremental = true;
  static std::vector<EventKind> relevant_kinds() { return {}; }
  static Status apply(State& state, const Event& event);
  // {"field": F, "sum": number} — integer when every value of F was an integer.
  static nlohmann::json to_json(const State& state, const std::string& field);
};

}  // namespace batpak::cli
