// Cache keys isolate projections; cache rows refuse every kind of damage.
#include <gtest/gtest.h>

#include "batpak/projection.hpp"

namespace batpak {
namespace {

std::vector<uint8_t> key_for(std::string_view name, uint64_t schema, std::vector<EventKind> kinds,
                             std::string_view entity) {
  return projection_cache_key(name, schema, kinds, entity);
}

TEST(CacheKey, NameSchemaKindsAndEntityEachIsolateRows) {
  const auto base = key_for("p", 1, {EventKind{0x1001}}, "e");
  EXPECT_NE(base, key_for("q", 1, {EventKind{0x1001}}, "e"));
  EXPECT_NE(base, key_for("p", 2, {EventKind{0x1001}}, "e"));
  EXPECT_NE(base, key_for("p", 1, {EventKind{0x1002}}, "e"));
  EXPECT_NE(base, key_for("p", 1, {EventKind{0x1001}}, "f"));
  EXPECT_EQ(base, key_for("p", 1, {EventKind{0x1001}, EventKind{0x1001}}, "e"))
      << "the kind set, not its spelling, is the identity";
  EXPECT_EQ(key_for("p", 1, {EventKind{0x1002}, EventKind{0x1001}}, "e"),
            key_for("p", 1, {EventKind{0x1001}, EventKind{0x1002}}, "e"));
}

TEST(CacheKey, NoEntityKeyIsAPrefixOfAnother) {
  const auto a = key_for("p", 1, {}, "order");
  const auto b = key_for("p", 1, {}, "order:7");
  ASSERT_LT(a.size(), b.size());
  EXPECT_FALSE(std::equal(a.begin(), a.end(), b.begin()));
}

TEST(CacheRowCodec, RoundTripsEveryField) {
  const auto key = key_for("p", 1, {}, "e");
  CacheRow row{7, 9, -5, {1, 2, 3}};
  auto decoded = decode_cache_row(key, encode_cache_row(key, row));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->watermark, 7u);
  EXPECT_EQ(decoded->generation, 9u);
  EXPECT_EQ(decoded->cached_at_us, -5);
  EXPECT_EQ(decoded->state, row.state);
}

TEST(CacheRowCodec, EverySingleByteFlipIsRefused) {
  const auto key = key_for("p", 1, {}, "e");
  const auto bytes = encode_cache_row(key, CacheRow{7, 9, 11, {1, 2, 3, 4}});
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] ^= 0x40;
    EXPECT_FALSE(decode_cache_row(key, damaged)) << "flip at byte " << i;
  }
}

TEST(CacheRowCodec, EveryTruncationIsRefused) {
  const auto key = key_for("p", 1, {}, "e");
  const auto bytes = encode_cache_row(key, CacheRow{7, 9, 11, {1, 2, 3, 4}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_cache_row(key, std::span(bytes).first(n))) << "length " << n;
  }
}

TEST(CacheRowCodec, RowStoredUnderAnotherKeyIsRefused) {
  const auto key = key_for("p", 1, {}, "e");
  const auto bytes = encode_cache_row(key, CacheRow{1, 1, 1, {}});
  EXPECT_FALSE(decode_cache_row(key_for("p", 2, {}, "e"), bytes));
}

}  // namespace
}  // namespace batpak
