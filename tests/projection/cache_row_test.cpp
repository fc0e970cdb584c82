// Cache keys isolate projections; cache rows refuse every kind of damage.
#include <gtest/gtest.h>

#include <algorithm>

#include "batpak/projection.hpp"
#include "util/hash.hpp"

namespace batpak {
namespace {

std::vector<uint8_t> key_for(std::string_view name, uint64_t schema, std::vector<EventKind> kinds,
                             std::string_view entity) {
  return projection_cache_key(name, schema, kinds, entity);
}

// Rewrites the row's checksum after a deliberate change, so that the change is what the
// decoder judges.
void reseal(std::vector<uint8_t>& bytes) {
  const size_t body = bytes.size() - 8;
  const uint64_t sum = util::checksum64(std::span(bytes).first(body));
  for (size_t i = 0; i < 8; ++i) bytes[body + i] = static_cast<uint8_t>(sum >> (8 * i));
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
  for (bool folded_from_horizon : {false, true}) {
    CacheRow row{7, 9, -5, {1, 2, 3}, {}, folded_from_horizon};
    for (size_t i = 0; i < row.head_hash.bytes.size(); ++i) row.head_hash.bytes[i] = static_cast<uint8_t>(i + 1);
    auto decoded = decode_cache_row(key, encode_cache_row(key, row));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->watermark, 7u);
    EXPECT_EQ(decoded->generation, 9u);
    EXPECT_EQ(decoded->cached_at_us, -5);
    EXPECT_EQ(decoded->state, row.state);
    EXPECT_EQ(decoded->head_hash, row.head_hash);
    EXPECT_EQ(decoded->folded_from_horizon, folded_from_horizon);
  }
}

// The layout of docs/format.md, "Projection cache rows", byte for byte.
TEST(CacheRowCodec, GoldenBytes) {
  const std::vector<uint8_t> key = {'k'};
  CacheRow row{0x0102, 3, 4, {0xc0}, {}};
  row.head_hash.bytes.fill(0xab);
  const std::vector<uint8_t> bytes = encode_cache_row(key, row);
  ASSERT_EQ(bytes.size(), 72u + 1 + 1 + 8);
  const std::vector<uint8_t> header = {'B', 'P', 'K', 'C', 2, 0, 0, 0,   //
                                       0x02, 0x01, 0, 0, 0, 0, 0, 0,       // watermark
                                       3, 0, 0, 0, 0, 0, 0, 0,             // generation
                                       4, 0, 0, 0, 0, 0, 0, 0};            // cached_at_us
  EXPECT_TRUE(std::equal(header.begin(), header.end(), bytes.begin()));
  EXPECT_TRUE(std::all_of(bytes.begin() + 32, bytes.begin() + 64, [](uint8_t b) { return b == 0xab; }));
  const std::vector<uint8_t> tail = {1, 0, 0, 0, 1, 0, 0, 0, 'k', 0xc0};  // lengths, key, state
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), bytes.begin() + 64));
  row.folded_from_horizon = true;
  EXPECT_EQ(encode_cache_row(key, row)[6], 1) << "flags bit 0";
}

TEST(CacheRowCodec, UnknownFlagsAreRefused) {
  const auto key = key_for("p", 1, {}, "e");
  for (size_t bit = 1; bit < 16; ++bit) {
    auto bytes = encode_cache_row(key, CacheRow{1, 1, 1, {}, {}, true});
    bytes[6 + bit / 8] |= static_cast<uint8_t>(1u << (bit % 8));
    reseal(bytes);
    auto decoded = decode_cache_row(key, bytes);
    ASSERT_FALSE(decoded) << "flag bit " << bit;
    EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption);
  }
}

TEST(CacheRowCodec, VersionOneRowsAreUnsupported) {
  const auto key = key_for("p", 1, {}, "e");
  auto bytes = encode_cache_row(key, CacheRow{1, 1, 1, {}, {}});
  bytes[4] = 1;  // An earlier version, with a checksum that holds.
  reseal(bytes);
  auto decoded = decode_cache_row(key, bytes);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupported);
}

TEST(CacheRowCodec, EverySingleByteFlipIsRefused) {
  const auto key = key_for("p", 1, {}, "e");
  const auto bytes = encode_cache_row(key, CacheRow{7, 9, 11, {1, 2, 3, 4}, {}});
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto damaged = bytes;
    damaged[i] ^= 0x40;
    EXPECT_FALSE(decode_cache_row(key, damaged)) << "flip at byte " << i;
  }
}

TEST(CacheRowCodec, EveryTruncationIsRefused) {
  const auto key = key_for("p", 1, {}, "e");
  const auto bytes = encode_cache_row(key, CacheRow{7, 9, 11, {1, 2, 3, 4}, {}});
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_cache_row(key, std::span(bytes).first(n))) << "length " << n;
  }
}

TEST(CacheRowCodec, RowStoredUnderAnotherKeyIsRefused) {
  const auto key = key_for("p", 1, {}, "e");
  const auto bytes = encode_cache_row(key, CacheRow{1, 1, 1, {}, {}});
  EXPECT_FALSE(decode_cache_row(key_for("p", 2, {}, "e"), bytes));
}

}  // namespace
}  // namespace batpak
