// Value types of the data model: ids, hashes, coordinates, kinds and regions.
// Thread safety: all types here are plain values; safe to copy between threads.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "batpak/status.hpp"

namespace batpak {

// A 128-bit identifier (event, correlation or causation id). Text form: 32 lowercase hex
// characters. The nil id (all zeros) means "none" wherever an id is optional.
struct EventId {
  std::array<uint8_t, 16> bytes{};

  bool is_nil() const;
  std::string to_hex() const;
  // Parses exactly 32 hex characters (either case). Anything else is kInvalidArgument.
  static Result<EventId> parse(std::string_view hex);
  auto operator<=>(const EventId&) const = default;
};

// A 32-byte BLAKE3 digest. Text form: 64 lowercase hex characters.
struct Hash32 {
  std::array<uint8_t, 32> bytes{};

  bool is_zero() const;
  std::string to_hex() const;
  static Result<Hash32> parse(std::string_view hex);
  auto operator<=>(const Hash32&) const = default;
};

// Limits on coordinate components, checked before anything is allocated or written.
inline constexpr size_t kCoordinateComponentBytesMax = 1024;

// Where an event belongs: an entity (the hash-chain and clock key) and a scope (an
// isolation label). Both are non-empty UTF-8 of at most 1024 bytes, with no NUL or
// control bytes and no "/", "..", "|" or "=".
namespace detail {
struct CoordinateAccess;  // Internal: fills coordinates read back from validated records.
}

class Coordinate {
 public:
  // Validates and builds a coordinate; invalid input is kInvalidArgument.
  static Result<Coordinate> make(std::string_view entity, std::string_view scope);
  // Validates one component; `what` names it ("entity" or "scope") in the error.
  static Status validate_component(std::string_view value, std::string_view what);

  const std::string& entity() const { return entity_; }
  const std::string& scope() const { return scope_; }
  bool operator==(const Coordinate&) const = default;

 private:
  friend struct detail::CoordinateAccess;
  Coordinate(std::string entity, std::string scope)
      : entity_(std::move(entity)), scope_(std::move(scope)) {}
  std::string entity_;
  std::string scope_;
};

// A 16-bit event kind: category (high 4 bits) and type id (low 12 bits). Text form
// "C:TTT" in hex, e.g. "f:001". Categories 0x0 (system) and 0xD (effect) are reserved for
// the library; public appends of them are refused with kReservedKind.
class EventKind {
 public:
  constexpr EventKind() = default;
  constexpr explicit EventKind(uint16_t raw) : raw_(raw) {}
  // Builds a kind from its parts; category > 0xF or type_id > 0xFFF is kInvalidArgument.
  static Result<EventKind> make(uint8_t category, uint16_t type_id);
  // Parses "C:TTT" (hex) or a decimal / 0x-prefixed 16-bit number.
  static Result<EventKind> parse(std::string_view text);

  constexpr uint16_t raw() const { return raw_; }
  constexpr uint8_t category() const { return static_cast<uint8_t>(raw_ >> 12); }
  constexpr uint16_t type_id() const { return raw_ & 0x0FFF; }
  constexpr bool is_reserved() const { return category() == 0x0 || category() == 0xD; }
  std::string to_string() const;  // "c:ttt"
  auto operator<=>(const EventKind&) const = default;

 private:
  uint16_t raw_ = 0;
};

// Which kinds a Region admits.
struct KindFilter {
  enum class Mode : uint8_t { kAny, kExact, kCategory };
  Mode mode = Mode::kAny;
  uint16_t value = 0;  // The raw kind for kExact, the category (0..15) for kCategory.

  static KindFilter any() { return {}; }
  static KindFilter exact(EventKind kind) { return {Mode::kExact, kind.raw()}; }
  static KindFilter category(uint8_t cat) { return {Mode::kCategory, cat}; }
  bool matches(EventKind kind) const;
};

// The one predicate used by queries, cursors and subscriptions. Entity matching has
// namespace semantics: prefix "order" matches "order" and "order:7", never "order7".
// Scope is exact. The clock range is inclusive and applies to the per-entity clock.
struct Region {
  std::optional<std::string> entity_prefix;
  std::optional<std::string> scope;
  KindFilter kinds;
  std::optional<std::pair<uint32_t, uint32_t>> clock_range;

  static Region all() { return {}; }
  static Region entity(std::string prefix);
  Region with_scope(std::string s) const;
  Region with_kinds(KindFilter f) const;
  Region with_clock_range(uint32_t first, uint32_t last) const;

  // A canonical text naming this region exactly: two regions have the same identity if and
  // only if every field is equal. Stable across versions (durable cursor checkpoints store
  // it), e.g. "entity=5:order scope=* kinds=category:1 clock=*". Strings are length-prefixed,
  // so no entity or scope can imitate another region's identity.
  std::string identity() const;
  // The region whose identity() is `identity`. Anything else, such as an identity with a
  // field missing, a length that does not match or a number not written as identity() writes
  // it, is kInvalidArgument.
  static Result<Region> from_identity(std::string_view identity);

  bool matches_entity(std::string_view entity) const;
  bool matches(std::string_view entity, std::string_view scope, EventKind kind,
               uint32_t clock) const;
};

// One entity as the store's index knows it (Store::list_entities). A plain value.
struct EntitySummary {
  std::string entity;
  uint64_t generation = 0;  // Its events so far: the clock of its last one.
  // The global sequence of its last event; 0 when every event of it was dropped with the
  // history (Store::drop_history).
  uint64_t last_global_sequence = 0;
  friend bool operator==(const EntitySummary&, const EntitySummary&) = default;
};

}  // namespace batpak
