// The fences file (docs/format.md, "The fences file"): its bytes, and every rule its
// decoder enforces.
#include <gtest/gtest.h>

#include "support/codec_damage.hpp"
#include "support/reseal.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"
#include "writer/fence_log.hpp"

namespace batpak::writer {
namespace {

using testing::reseal;

TEST(FenceFile, RoundTripsAndHasTheDocumentedBytes) {
  const FenceFileContents contents{std::nullopt, {{2, 4}}};
  const std::vector<uint8_t> bytes = encode_fence_file(contents);
  ASSERT_EQ(bytes.size(), 44u);
  const std::vector<uint8_t> head = {0x42, 0x50, 0x46, 0x4e, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                                     2, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.begin() + 36), head) << "the example in docs/format.md";
  auto decoded = decode_fence_file(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->open_fence_start);
  EXPECT_EQ(decoded->cancelled, contents.cancelled);
  auto with_open = decode_fence_file(encode_fence_file({9, {{2, 4}, {6, 7}}}));
  ASSERT_TRUE(with_open);
  EXPECT_EQ(with_open->open_fence_start, 9u);
}

TEST(FenceFile, EveryTruncationAndEveryFlippedBitIsCorruption) {
  testing::expect_every_truncation_and_bit_flip_is_corruption(
      encode_fence_file({5, {{1, 3}}}), [](std::span<const uint8_t> bytes) { return decode_fence_file(bytes); });
}

TEST(FenceFile, MalformedRangesAreCorruptionEvenWithAValidChecksum) {
  for (const FenceFileContents& bad : {FenceFileContents{std::nullopt, {{3, 3}}},          // empty
                                       FenceFileContents{std::nullopt, {{4, 2}}},          // inverted
                                       FenceFileContents{std::nullopt, {{0, 2}}},          // sequence 0
                                       FenceFileContents{std::nullopt, {{2, 5}, {4, 6}}},  // overlapping
                                       FenceFileContents{std::nullopt, {{6, 7}, {2, 3}}},  // unsorted
                                       FenceFileContents{3, {{2, 5}}}}) {                  // open inside
    auto r = decode_fence_file(encode_fence_file(bad));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kCorruption) << r.error().message;
  }
}

TEST(FenceFile, ANewerVersionIsUnsupported) {
  std::vector<uint8_t> bytes = encode_fence_file({});
  bytes[4] = 2;
  reseal(bytes);
  auto r = decode_fence_file(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
}

// Invariant: the version is read before the body's layout, so a newer file whose body is
// laid out differently (here, 4 bytes longer) is kUnsupported, never kCorruption.
TEST(FenceFile, ANewerVersionWithAnotherLayoutIsUnsupportedNotCorrupt) {
  std::vector<uint8_t> bytes = encode_fence_file({std::nullopt, {{2, 4}}});
  bytes[4] = 2;
  bytes.insert(bytes.end() - 8, {0, 0, 0, 0});
  reseal(bytes);
  auto r = decode_fence_file(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported) << r.error().message;
}

}  // namespace
}  // namespace batpak::writer
