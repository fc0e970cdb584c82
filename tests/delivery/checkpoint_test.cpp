// Cursor checkpoint bytes (docs/format.md, "Cursor checkpoints"): a damaged checkpoint is
// always refused, never read as a position.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "batpak/batpak.hpp"
#include "delivery/checkpoint.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::testing {
namespace {

using delivery::CheckpointRecord;

const CheckpointRecord kRecord{0x0102030405060708ull, "entity=1:e scope=* kinds=any clock=*"};

TEST(CheckpointBytes, LayoutIsFrozen) {
  const std::vector<uint8_t> bytes = delivery::encode_checkpoint(kRecord);
  ASSERT_EQ(bytes.size(), delivery::kCheckpointFixedBytes + kRecord.region_identity.size());
  const std::vector<uint8_t> head(bytes.begin(), bytes.begin() + 20);
  const std::vector<uint8_t> expected = {'B', 'P', 'C', 'P', 1, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1,
                                         static_cast<uint8_t>(kRecord.region_identity.size()), 0, 0, 0};
  EXPECT_EQ(head, expected);
  EXPECT_EQ(std::string(bytes.begin() + 20, bytes.end() - 8), kRecord.region_identity);
  EXPECT_EQ(util::load_le<uint64_t>(bytes.data() + bytes.size() - 8),
            util::checksum64(std::span(bytes).first(bytes.size() - 8)));
  auto decoded = delivery::decode_checkpoint(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->position, kRecord.position);
  EXPECT_EQ(decoded->region_identity, kRecord.region_identity);
}

TEST(CheckpointBytes, EveryFlippedBitAndEveryTruncationIsCorruption) {
  const std::vector<uint8_t> bytes = delivery::encode_checkpoint(kRecord);
  size_t cases = 0;
  for (size_t at = 0; at < bytes.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> damaged = bytes;
      damaged[at] ^= static_cast<uint8_t>(1 << bit);
      auto decoded = delivery::decode_checkpoint(damaged);
      ASSERT_FALSE(decoded) << "byte " << at << " bit " << bit;
      EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption) << "byte " << at << " bit " << bit;
      ++cases;
    }
  }
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto decoded = delivery::decode_checkpoint(std::span(bytes).first(len));
    ASSERT_FALSE(decoded) << len;
    EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption) << len;
    ++cases;
  }
  std::vector<uint8_t> longer = bytes;
  longer.push_back(0);
  EXPECT_EQ(delivery::decode_checkpoint(longer).error().code, ErrorCode::kCorruption);
  EXPECT_EQ(cases, bytes.size() * 9);
}

TEST(CheckpointBytes, NewerVersionIsUnsupportedNotCorrupt) {
  std::vector<uint8_t> bytes = delivery::encode_checkpoint(kRecord);
  util::store_le<uint16_t>(bytes.data() + 4, delivery::kCheckpointVersion + 1);
  const size_t checksum_at = bytes.size() - 8;
  util::store_le<uint64_t>(bytes.data() + checksum_at, util::checksum64(std::span(bytes).first(checksum_at)));
  EXPECT_EQ(delivery::decode_checkpoint(bytes).error().code, ErrorCode::kUnsupported);
}

// Invariant: the version is read before the body's layout, so a newer checkpoint with an
// extra field (4 bytes before the checksum) is kUnsupported, never kCorruption.
TEST(CheckpointBytes, NewerVersionWithAnotherLayoutIsUnsupportedNotCorrupt) {
  std::vector<uint8_t> bytes = delivery::encode_checkpoint(kRecord);
  util::store_le<uint16_t>(bytes.data() + 4, delivery::kCheckpointVersion + 1);
  bytes.insert(bytes.end() - 8, {0, 0, 0, 0});
  const size_t checksum_at = bytes.size() - 8;
  util::store_le<uint64_t>(bytes.data() + checksum_at, util::checksum64(std::span(bytes).first(checksum_at)));
  auto decoded = delivery::decode_checkpoint(bytes);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupported) << decoded.error().message;
}

// End to end: a checkpoint file damaged on disk makes resume fail closed with the file named.
TEST(CheckpointFile, DamagedFileOnDiskFailsResumeWithCorruption) {
  TempDir dir;
  auto store = Store::open(dir.sub("store"));
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->append(Coordinate::make("e", "s").value(), EventKind(0x1001), {}));
  auto cursor = Cursor::resume(**store, Region::all(), "r");
  ASSERT_TRUE(cursor);
  cursor->poll();
  ASSERT_TRUE(cursor->commit());
  const std::string path = cursor->checkpoint_path();
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> good((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(good.empty());
  for (size_t at = 0; at < good.size(); ++at) {
    std::vector<char> bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    std::ofstream(path, std::ios::binary | std::ios::trunc).write(bad.data(), static_cast<std::streamsize>(bad.size()));
    auto resumed = Cursor::resume(**store, Region::all(), "r");
    ASSERT_FALSE(resumed) << "byte " << at;
    EXPECT_EQ(resumed.error().code, ErrorCode::kCorruption) << "byte " << at;
    EXPECT_EQ(resumed.error().file, path);
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc);  // Empty file.
  EXPECT_EQ(Cursor::resume(**store, Region::all(), "r").error().code, ErrorCode::kCorruption);
}

}  // namespace
}  // namespace batpak::testing
