// Value types of the data model: coordinates, kinds, regions, ids and hashes.
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include <string>

#include "batpak/types.hpp"

namespace batpak {
namespace {

void expect_invalid_component(std::string_view value) {
  SCOPED_TRACE(std::string("component: ") + std::string(value.substr(0, 40)));
  auto as_entity = Coordinate::make(value, "scope");
  ASSERT_FALSE(as_entity.has_value());
  EXPECT_EQ(as_entity.error().code, ErrorCode::kInvalidArgument);
  auto as_scope = Coordinate::make("entity", value);
  ASSERT_FALSE(as_scope.has_value());
  EXPECT_EQ(as_scope.error().code, ErrorCode::kInvalidArgument);
}

// ---- Coordinate ----

TEST(Coordinate, EmptyComponentIsInvalidArgument) { expect_invalid_component(""); }

TEST(Coordinate, ComponentOver1024BytesIsInvalidArgumentAndExactly1024IsAccepted) {
  expect_invalid_component(std::string(kCoordinateComponentBytesMax + 1, 'a'));
  const std::string max(kCoordinateComponentBytesMax, 'a');
  auto ok = Coordinate::make(max, max);
  ASSERT_TRUE(ok.has_value()) << ok.error().to_string();
  EXPECT_EQ(ok->entity().size(), kCoordinateComponentBytesMax);
}

TEST(Coordinate, NulByteAnywhereIsInvalidArgument) {
  expect_invalid_component(std::string("ab\0cd", 5));
  expect_invalid_component(std::string("\0", 1));
}

TEST(Coordinate, EveryControlByteAndDelIsInvalidArgument) {
  for (int c = 1; c < 0x20; ++c) {
    expect_invalid_component(std::string("a") + static_cast<char>(c) + "b");
  }
  expect_invalid_component("a\x7f" "b");
}

TEST(Coordinate, SlashDotDotPipeAndEqualsAreInvalidArgument) {
  expect_invalid_component("a/b");
  expect_invalid_component("/");
  expect_invalid_component("a..b");
  expect_invalid_component("..");
  expect_invalid_component("a|b");
  expect_invalid_component("a=b");
}

TEST(Coordinate, SingleDotsColonsAndUtf8AreAccepted) {
  for (std::string_view ok : {"order:1", "a.b", "x", "h\xc3\xa9llo", "\xe6\x97\xa5\xe6\x9c\xac",
                              "emoji-\xf0\x9f\x98\x80", "with space", "~!@#$%^&*()"}) {
    auto c = Coordinate::make(ok, ok);
    ASSERT_TRUE(c.has_value()) << ok << ": " << c.error().to_string();
    EXPECT_EQ(c->entity(), ok);
    EXPECT_EQ(c->scope(), ok);
  }
}

// The rules, restated independently for strings of one to three bytes: printable ASCII
// except '/', '|', '=' and "..", or a well-formed two-byte UTF-8 sequence (U+0080..U+07FF).
bool component_is_valid_by_the_rules(std::string_view v) {
  auto b = [&](size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(v[i])); };
  for (size_t i = 0; i < v.size(); ++i) {
    if (b(i) >= 0x80) {
      const bool lead = b(i) >= 0xC2 && b(i) <= 0xDF;
      if (!lead || i + 1 >= v.size() || b(i + 1) < 0x80 || b(i + 1) > 0xBF) return false;
      ++i;
      continue;
    }
    if (b(i) < 0x20 || b(i) == 0x7F || b(i) == '/' || b(i) == '|' || b(i) == '=') return false;
    if (b(i) == '.' && i + 1 < v.size() && b(i + 1) == '.') return false;
  }
  return true;
}

// Every byte value, alone, after a '.' and before 'a', gets the verdict of the rules: the
// one-pass check for plain ASCII never accepts what the full checks would refuse.
TEST(Coordinate, EveryByteInEveryPositionGetsTheVerdictOfTheRules) {
  for (unsigned x = 0; x < 256; ++x) {
    for (unsigned y = 0; y < 256; ++y) {
      const char pair[2] = {static_cast<char>(x), static_cast<char>(y)};
      const std::string_view two(pair, 2);
      ASSERT_EQ(Coordinate::validate_component(two, "entity").has_value(), component_is_valid_by_the_rules(two))
          << "bytes " << x << " " << y;
    }
    const char one[1] = {static_cast<char>(x)};
    const std::string dotted = std::string(".") + static_cast<char>(x) + "a";
    for (std::string_view v : {std::string_view(one, 1), std::string_view(dotted)}) {
      ASSERT_EQ(Coordinate::validate_component(v, "entity").has_value(), component_is_valid_by_the_rules(v))
          << "byte " << x << " in a string of " << v.size();
    }
  }
}

TEST(Coordinate, ValidateComponentNamesTheComponentInItsMessage) {
  auto s = Coordinate::validate_component("", "scope");
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message.find("scope"), std::string::npos) << s.error().message;
}

// ---- EventKind ----

TEST(EventKind, ParsesCategoryColonTypeHex) {
  auto k = EventKind::parse("f:001");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->raw(), 0xF001);
  EXPECT_EQ(k->category(), 0xF);
  EXPECT_EQ(k->type_id(), 0x001);
  auto upper = EventKind::parse("A:FfF");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(upper->raw(), 0xAFFF);
  auto short_type = EventKind::parse("1:1");
  ASSERT_TRUE(short_type.has_value());
  EXPECT_EQ(short_type->raw(), 0x1001);
}

TEST(EventKind, ParsesHexPrefixedAndDecimalNumbers) {
  auto hex = EventKind::parse("0x1001");
  ASSERT_TRUE(hex.has_value());
  EXPECT_EQ(hex->raw(), 0x1001);
  auto dec = EventKind::parse("4097");
  ASSERT_TRUE(dec.has_value());
  EXPECT_EQ(dec->raw(), 4097);
  auto max = EventKind::parse("65535");
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->raw(), 0xFFFF);
}

TEST(EventKind, MalformedTextIsInvalidArgument) {
  for (std::string_view bad : {"", ":", "f:", ":001", "ff:001", "f:0001", "g:001", "f:00g",
                               "65536", "0x10000", "0x", "-1", "12a", " 1", "1 ", "f:-01",
                               "0xg", "1:2:3"}) {
    auto k = EventKind::parse(bad);
    ASSERT_FALSE(k.has_value()) << "'" << bad << "' parsed as " << k->raw();
    EXPECT_EQ(k.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(EventKind, ToStringIsLowercaseCategoryColonThreeHexDigitsAndRoundTrips) {
  EXPECT_EQ(EventKind(0xF001).to_string(), "f:001");
  EXPECT_EQ(EventKind(0x1ABC).to_string(), "1:abc");
  EXPECT_EQ(EventKind(0x0000).to_string(), "0:000");
  for (uint32_t raw : {0x0000u, 0x1001u, 0x7FFFu, 0xD123u, 0xFFFFu, 0x2040u}) {
    const EventKind k(static_cast<uint16_t>(raw));
    auto back = EventKind::parse(k.to_string());
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, k);
  }
}

TEST(EventKind, MakeRefusesCategoryOver15AndTypeOver0xfff) {
  auto ok = EventKind::make(0x3, 0x456);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->raw(), 0x3456);
  EXPECT_EQ(EventKind::make(0x10, 1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(EventKind::make(1, 0x1000).error().code, ErrorCode::kInvalidArgument);
}

TEST(EventKind, OnlySystemAndEffectCategoriesAreReserved) {
  for (uint16_t cat = 0; cat < 16; ++cat) {
    const EventKind k(static_cast<uint16_t>(cat << 12 | 0x001));
    EXPECT_EQ(k.is_reserved(), cat == 0x0 || cat == 0xD) << "category " << cat;
  }
}

// ---- KindFilter and Region ----

TEST(KindFilter, AnyExactAndCategoryAdmitExactlyTheirKinds) {
  EXPECT_TRUE(KindFilter::any().matches(EventKind(0x1234)));
  EXPECT_TRUE(KindFilter::exact(EventKind(0x1234)).matches(EventKind(0x1234)));
  EXPECT_FALSE(KindFilter::exact(EventKind(0x1234)).matches(EventKind(0x1235)));
  EXPECT_TRUE(KindFilter::category(0x1).matches(EventKind(0x1FFF)));
  EXPECT_TRUE(KindFilter::category(0x1).matches(EventKind(0x1000)));
  EXPECT_FALSE(KindFilter::category(0x1).matches(EventKind(0x2000)));
  EXPECT_FALSE(KindFilter::category(0x1).matches(EventKind(0x0FFF)));
}

TEST(Region, EntityPrefixHasNamespaceSemantics) {
  const Region r = Region::entity("order");
  EXPECT_TRUE(r.matches_entity("order"));
  EXPECT_TRUE(r.matches_entity("order:7"));
  EXPECT_TRUE(r.matches_entity("order:7:line:2"));
  EXPECT_FALSE(r.matches_entity("order7"));
  EXPECT_FALSE(r.matches_entity("orders"));
  EXPECT_FALSE(r.matches_entity("orde"));
  EXPECT_FALSE(r.matches_entity("xorder"));
  const Region nested = Region::entity("order:7");
  EXPECT_TRUE(nested.matches_entity("order:7:line"));
  EXPECT_FALSE(nested.matches_entity("order:70"));
  EXPECT_FALSE(nested.matches_entity("order"));
}

TEST(Region, AllMatchesEverything) {
  const Region r = Region::all();
  EXPECT_TRUE(r.matches("anything", "any", EventKind(0xF001), 1));
  EXPECT_TRUE(r.matches("x:y", "s", EventKind(0x0000), UINT32_MAX));
}

TEST(Region, ScopeIsExactKindsFilterAndClockRangeIsInclusive) {
  const Region r = Region::entity("order")
                       .with_scope("shop")
                       .with_kinds(KindFilter::category(0x1))
                       .with_clock_range(2, 4);
  EXPECT_TRUE(r.matches("order:1", "shop", EventKind(0x1001), 2));
  EXPECT_TRUE(r.matches("order:1", "shop", EventKind(0x1001), 4));
  EXPECT_FALSE(r.matches("order:1", "shop", EventKind(0x1001), 1));
  EXPECT_FALSE(r.matches("order:1", "shop", EventKind(0x1001), 5));
  EXPECT_FALSE(r.matches("order:1", "shops", EventKind(0x1001), 3));
  EXPECT_FALSE(r.matches("order:1", "sho", EventKind(0x1001), 3));
  EXPECT_FALSE(r.matches("order:1", "shop", EventKind(0x2001), 3));
  EXPECT_FALSE(r.matches("order1", "shop", EventKind(0x1001), 3));
}

TEST(Region, FromIdentityReadsBackEveryRegionIdentityWrites) {
  const std::vector<Region> regions = {
      Region::all(),
      Region::entity("order"),
      Region::entity("a b=c scope=*").with_scope("12:x kinds=any"),  // Spaces and field names inside.
      Region::all().with_kinds(KindFilter::exact(EventKind(0xF001))),
      Region::entity("é:1").with_kinds(KindFilter::category(0)).with_clock_range(0, UINT32_MAX),
      Region::all().with_scope("s").with_kinds(KindFilter::category(15)).with_clock_range(7, 7),
  };
  for (const Region& region : regions) {
    auto read = Region::from_identity(region.identity());
    ASSERT_TRUE(read.has_value()) << region.identity() << ": " << read.error().to_string();
    EXPECT_EQ(read->entity_prefix, region.entity_prefix) << region.identity();
    EXPECT_EQ(read->scope, region.scope) << region.identity();
    EXPECT_EQ(read->kinds.mode, region.kinds.mode) << region.identity();
    EXPECT_EQ(read->kinds.value, region.kinds.value) << region.identity();
    EXPECT_EQ(read->clock_range, region.clock_range) << region.identity();
  }
}

TEST(Region, FromIdentityRefusesEveryOtherText) {
  for (const char* text : {
           "",
           "entity=* scope=* kinds=any",                       // A field missing.
           "entity=* scope=* kinds=any clock=* ",              // Trailing text.
           "entity=6:order scope=* kinds=any clock=*",         // A length past its field.
           "entity=4:order scope=* kinds=any clock=*",         // A length short of it.
           "entity=05:order scope=* kinds=any clock=*",        // A leading zero.
           "entity=* scope=* kinds=category:16 clock=*",       // No such category.
           "entity=* scope=* kinds=category:01 clock=*",
           "entity=* scope=* kinds=exact:0x1001 clock=*",      // A kind spelled otherwise.
           "entity=* scope=* kinds=exact: clock=*",
           "entity=* scope=* kinds=some clock=*",
           "entity=* scope=* kinds=any clock=3-",
           "entity=* scope=* kinds=any clock=1-4294967296",    // Past 32 bits.
           "entity=*  scope=* kinds=any clock=*",
           "scope=* entity=* kinds=any clock=*",
       }) {
    auto read = Region::from_identity(text);
    EXPECT_FALSE(read.has_value()) << text;
    if (!read) {
      EXPECT_EQ(read.error().code, ErrorCode::kInvalidArgument) << text;
    }
  }
}

// ---- EventId and Hash32 ----

TEST(EventId, HexRoundTripsAndIsLowercase32Chars) {
  EventId id;
  for (size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<uint8_t>(0xA0 + i);
  const std::string hex = id.to_hex();
  EXPECT_EQ(hex, "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  auto back = EventId::parse(hex);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, id);
  auto upper = EventId::parse("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF");
  ASSERT_TRUE(upper.has_value());
  EXPECT_EQ(*upper, id);
}

TEST(EventId, NilIsAllZeroAndOnlyThat) {
  EXPECT_TRUE(EventId{}.is_nil());
  EventId id;
  id.bytes[15] = 1;
  EXPECT_FALSE(id.is_nil());
}

TEST(EventId, BadHexIsInvalidArgument) {
  for (std::string_view bad : {"", "a0", "a0a1a2a3a4a5a6a7a8a9aaabacadaea",     // 31
                               "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf0",                 // 33
                               "g0a1a2a3a4a5a6a7a8a9aaabacadaeaf",                  // not hex
                               "a0a1a2a3a4a5a6a7a8a9aaabacadae f",
                               "0xa1a2a3a4a5a6a7a8a9aaabacadaeaf"}) {
    auto id = EventId::parse(bad);
    ASSERT_FALSE(id.has_value()) << bad;
    EXPECT_EQ(id.error().code, ErrorCode::kInvalidArgument);
  }
}

TEST(Hash32, HexRoundTripsAndBadHexIsInvalidArgument) {
  Hash32 h;
  for (size_t i = 0; i < h.bytes.size(); ++i) h.bytes[i] = static_cast<uint8_t>(i * 7 + 3);
  const std::string hex = h.to_hex();
  ASSERT_EQ(hex.size(), 64u);
  auto back = Hash32::parse(hex);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(h.is_zero());
  EXPECT_TRUE(Hash32{}.is_zero());
  EXPECT_EQ(Hash32::parse(hex.substr(0, 63)).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Hash32::parse(hex + "0").error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Hash32::parse(std::string(64, 'z')).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Hash32::parse(EventId{}.to_hex()).error().code, ErrorCode::kInvalidArgument);
}

TEST(ErrorCode, NamesAreStableAndToStringCarriesPlace) {
  EXPECT_EQ(error_code_name(ErrorCode::kConflict), "conflict");
  // Every code 0..kStateBoundExceeded has its own name (the CLI prints them; scripts match them).
  std::set<std::string_view> names;
  for (int code = 0; code <= static_cast<int>(ErrorCode::kStateBoundExceeded); ++code) {
    const std::string_view name = error_code_name(static_cast<ErrorCode>(code));
    EXPECT_NE(name, "unknown") << code;
    EXPECT_TRUE(names.insert(name).second) << name;
  }
  EXPECT_EQ(error_code_name(ErrorCode::kFenceActive), "fence_active");
  EXPECT_EQ(error_code_name(ErrorCode::kFenceNotActive), "fence_not_active");
  EXPECT_EQ(error_code_name(ErrorCode::kPayloadShredded), "payload_shredded");
  EXPECT_EQ(error_code_name(ErrorCode::kStateBoundExceeded), "state_bound_exceeded");
  Error e{ErrorCode::kCorruption, "bad", "f.seg", 128, {}};
  const std::string s = e.to_string();
  EXPECT_NE(s.find("f.seg"), std::string::npos) << s;
  EXPECT_NE(s.find("128"), std::string::npos) << s;
}

}  // namespace
}  // namespace batpak
