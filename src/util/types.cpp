// Value types of the public data model.
#include "batpak/types.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "util/hex.hpp"

namespace batpak {

bool EventId::is_nil() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string EventId::to_hex() const { return util::to_hex(bytes); }

Result<EventId> EventId::parse(std::string_view hex) {
  EventId id;
  if (!util::from_hex(hex, id.bytes)) {
    return make_error(ErrorCode::kInvalidArgument, "an id is 32 hex characters");
  }
  return id;
}

bool Hash32::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

std::string Hash32::to_hex() const { return util::to_hex(bytes); }

Result<Hash32> Hash32::parse(std::string_view hex) {
  Hash32 hash;
  if (!util::from_hex(hex, hash.bytes)) {
    return make_error(ErrorCode::kInvalidArgument, "a hash is 64 hex characters");
  }
  return hash;
}

// True when `text` is well-formed UTF-8 (Unicode Table 3-7: no overlong forms, no
// surrogates, nothing above U+10FFFF), so every coordinate can be written as JSON.
static bool is_well_formed_utf8(std::string_view text) {
  size_t i = 0;
  auto byte_at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  auto in = [&](size_t k, unsigned lo, unsigned hi) { return k < text.size() && byte_at(k) >= lo && byte_at(k) <= hi; };
  while (i < text.size()) {
    const unsigned b = byte_at(i);
    if (b < 0x80) {
      i += 1;
    } else if (b >= 0xC2 && b <= 0xDF && in(i + 1, 0x80, 0xBF)) {
      i += 2;
    } else if (b >= 0xE0 && b <= 0xEF && in(i + 1, b == 0xE0 ? 0xA0 : 0x80, b == 0xED ? 0x9F : 0xBF) &&
               in(i + 2, 0x80, 0xBF)) {
      i += 3;
    } else if (b >= 0xF0 && b <= 0xF4 && in(i + 1, b == 0xF0 ? 0x90 : 0x80, b == 0xF4 ? 0x8F : 0xBF) &&
               in(i + 2, 0x80, 0xBF) && in(i + 3, 0x80, 0xBF)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// Printable ASCII other than '/', '|' and '=': a byte that is valid anywhere in a component
// ('.' too, as long as no other '.' follows it).
static constexpr std::array<bool, 256> kPlainByte = [] {
  std::array<bool, 256> plain{};
  for (unsigned b = 0x20; b < 0x7F; ++b) plain[b] = b != '/' && b != '|' && b != '=';
  return plain;
}();

// The common case in one pass: true when `value` is made of plain bytes with no "..", which
// makes it valid. False says nothing; the full checks then find the reason.
static bool is_plain_component(std::string_view value) {
  bool after_dot = false;
  for (char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (!kPlainByte[byte]) return false;
    const bool dot = byte == '.';
    if (dot && after_dot) return false;
    after_dot = dot;
  }
  return true;
}

Status Coordinate::validate_component(std::string_view value, std::string_view what) {
  auto fail = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument, std::string(what) + " " + why);
  };
  if (value.empty()) return fail("is empty");
  if (value.size() > kCoordinateComponentBytesMax) {
    return fail("is " + std::to_string(value.size()) + " bytes; the limit is " +
                std::to_string(kCoordinateComponentBytesMax));
  }
  if (is_plain_component(value)) return {};
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == 0) return fail("contains a NUL byte");
    if (byte < 0x20 || byte == 0x7F) return fail("contains a control byte");
  }
  if (!is_well_formed_utf8(value)) return fail("is not valid UTF-8");
  if (value.find('/') != std::string_view::npos || value.find("..") != std::string_view::npos) {
    return fail("contains '/' or '..'");
  }
  if (value.find('|') != std::string_view::npos || value.find('=') != std::string_view::npos) {
    return fail("contains '|' or '=' (reserved separators)");
  }
  return {};
}

Result<Coordinate> Coordinate::make(std::string_view entity, std::string_view scope) {
  if (auto s = validate_component(entity, "entity"); !s) return tl::unexpected(s.error());
  if (auto s = validate_component(scope, "scope"); !s) return tl::unexpected(s.error());
  return Coordinate(std::string(entity), std::string(scope));
}

Result<EventKind> EventKind::make(uint8_t category, uint16_t type_id) {
  if (category > 0xF) return make_error(ErrorCode::kInvalidArgument, "kind category is over 0xf");
  if (type_id > 0xFFF) return make_error(ErrorCode::kInvalidArgument, "kind type id is over 0xfff");
  return EventKind(static_cast<uint16_t>(category << 12 | type_id));
}

static bool parse_uint(std::string_view text, int base, uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
  return ec == std::errc() && end == text.data() + text.size();
}

Result<EventKind> EventKind::parse(std::string_view text) {
  auto bad = [&] {
    return make_error(ErrorCode::kInvalidArgument,
                      "a kind is CAT:TYPE in hex (e.g. f:001) or a 16-bit number");
  };
  uint64_t value = 0;
  if (auto colon = text.find(':'); colon != std::string_view::npos) {
    uint64_t type_id = 0;
    std::string_view cat = text.substr(0, colon);
    std::string_view type = text.substr(colon + 1);
    if (cat.size() != 1 || type.empty() || type.size() > 3) return bad();
    if (!parse_uint(cat, 16, value) || !parse_uint(type, 16, type_id)) return bad();
    return make(static_cast<uint8_t>(value), static_cast<uint16_t>(type_id));
  }
  bool ok = text.starts_with("0x") ? parse_uint(text.substr(2), 16, value)
                                   : parse_uint(text, 10, value);
  if (!ok || value > 0xFFFF) return bad();
  return EventKind(static_cast<uint16_t>(value));
}

std::string EventKind::to_string() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0:000";
  out[0] = kDigits[category()];
  out[2] = kDigits[(type_id() >> 8) & 0xF];
  out[3] = kDigits[(type_id() >> 4) & 0xF];
  out[4] = kDigits[type_id() & 0xF];
  return out;
}

bool KindFilter::matches(EventKind kind) const {
  switch (mode) {
    case Mode::kAny: return true;
    case Mode::kExact: return kind.raw() == value;
    case Mode::kCategory: return kind.category() == value;
  }
  return false;
}

Region Region::entity(std::string prefix) {
  Region r;
  r.entity_prefix = std::move(prefix);
  return r;
}

Region Region::with_scope(std::string s) const {
  Region r = *this;
  r.scope = std::move(s);
  return r;
}

Region Region::with_kinds(KindFilter f) const {
  Region r = *this;
  r.kinds = f;
  return r;
}

Region Region::with_clock_range(uint32_t first, uint32_t last) const {
  Region r = *this;
  r.clock_range = std::make_pair(first, last);
  return r;
}

std::string Region::identity() const {
  auto text = [](const std::optional<std::string>& value) {
    return value ? std::to_string(value->size()) + ":" + *value : std::string("*");
  };
  std::string kind_text = "any";
  if (kinds.mode == KindFilter::Mode::kExact) kind_text = "exact:" + EventKind(kinds.value).to_string();
  if (kinds.mode == KindFilter::Mode::kCategory) kind_text = "category:" + std::to_string(kinds.value);
  const std::string clock_text =
      clock_range ? std::to_string(clock_range->first) + "-" + std::to_string(clock_range->second) : "*";
  return "entity=" + text(entity_prefix) + " scope=" + text(scope) + " kinds=" + kind_text + " clock=" + clock_text;
}

namespace {

// Reads back the pieces identity() writes; each read returns false on anything else.
struct IdentityReader {
  std::string_view rest;

  bool literal(std::string_view word) {
    if (!rest.starts_with(word)) return false;
    rest.remove_prefix(word.size());
    return true;
  }
  template <class Number>
  bool number(Number& value) {
    const auto [stop, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), value);
    if (ec != std::errc{} || stop == rest.data()) return false;
    rest.remove_prefix(static_cast<size_t>(stop - rest.data()));
    return true;
  }
  // "*" or "<length>:<bytes>".
  bool text(std::optional<std::string>& value) {
    if (literal("*")) {
      value.reset();
      return true;
    }
    size_t length = 0;
    if (!number(length) || !literal(":") || length > rest.size()) return false;
    value = std::string(rest.substr(0, length));
    rest.remove_prefix(length);
    return true;
  }
  bool kinds(KindFilter& value) {
    if (literal("any")) return true;
    if (literal("category:")) {
      uint16_t category = 0;
      if (!number(category) || category > 0xF) return false;
      value = KindFilter::category(static_cast<uint8_t>(category));
      return true;
    }
    if (!literal("exact:")) return false;
    const std::string_view kind_text = rest.substr(0, rest.find(' '));
    auto kind = EventKind::parse(kind_text);
    if (!kind) return false;
    rest.remove_prefix(kind_text.size());
    value = KindFilter::exact(*kind);
    return true;
  }
  bool clock(std::optional<std::pair<uint32_t, uint32_t>>& value) {
    if (literal("*")) return true;
    std::pair<uint32_t, uint32_t> range;
    if (!number(range.first) || !literal("-") || !number(range.second)) return false;
    value = range;
    return true;
  }
};

}  // namespace

Result<Region> Region::from_identity(std::string_view identity) {
  IdentityReader in{identity};
  Region region;
  const bool read = in.literal("entity=") && in.text(region.entity_prefix) && in.literal(" scope=") &&
                    in.text(region.scope) && in.literal(" kinds=") && in.kinds(region.kinds) &&
                    in.literal(" clock=") && in.clock(region.clock_range) && in.rest.empty();
  // Only identity()'s own spelling: no leading zeros, no other way to write a kind.
  if (!read || region.identity() != identity) {
    return make_error(ErrorCode::kInvalidArgument, "not a region identity: '" + std::string(identity) + "'");
  }
  return region;
}

bool Region::matches_entity(std::string_view entity) const {
  if (!entity_prefix) return true;
  const std::string& p = *entity_prefix;
  if (!entity.starts_with(p)) return false;
  return entity.size() == p.size() || entity[p.size()] == ':';
}

bool Region::matches(std::string_view entity, std::string_view scope_value, EventKind kind,
                     uint32_t clock) const {
  if (!matches_entity(entity)) return false;
  if (scope && *scope != scope_value) return false;
  if (!kinds.matches(kind)) return false;
  if (clock_range && (clock < clock_range->first || clock > clock_range->second)) return false;
  return true;
}

}  // namespace batpak
