// The index checkpoint decoder reading from a file a window at a time (decode_file) agrees
// with the in-memory decoder byte for byte, across window boundaries, and refuses damage
// that only the trailing checksum can see, leaving the index empty.
#include <gtest/gtest.h>

#include "index/index_checkpoint.hpp"
#include "support/assertions.hpp"
#include "support/file_bytes.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::index {
namespace {

// 90,000 rows of 60 bytes: a checkpoint of about 5.4 MB, many 256 KiB read windows.
constexpr uint64_t kRows = 90000;
constexpr size_t kRowBytes = 60;
constexpr uint32_t kFrameBytes = 100;

std::vector<uint8_t> checkpoint_bytes() {
  Index index;
  for (uint64_t seq = 1; seq <= kRows; ++seq) {
    Entry e;
    e.event_id.bytes[0] = 0x01;
    for (int b = 0; b < 8; ++b) e.event_id.bytes[8 + b] = static_cast<uint8_t>(seq >> (8 * b));
    e.segment_id = 1;
    e.offset = 64 + (seq - 1) * kFrameBytes;
    e.wall_ms = 1000 + seq;
    e.frame_bytes = kFrameBytes;
    e.clock = static_cast<uint32_t>((seq - 1) / 7 + 1);
    e.kind = EventKind(0x1001);
    Hash32 event_hash;
    event_hash.bytes[0] = static_cast<uint8_t>(seq);
    index.add("entity:" + std::to_string((seq - 1) % 7), "scope", e, event_hash);
  }
  CheckpointMeta meta;
  meta.segments.push_back(CoveredSegment{1, 64 + kRows * kFrameBytes, 42});
  meta.wall_ms_max = 1000 + kRows;
  return CheckpointCodec::encode(index, meta);
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  // Decodes `bytes` written to a file with decode_file.
  Result<CheckpointMeta> decode_file(const std::vector<uint8_t>& bytes, Index& index) {
    const std::string path = tmp_.sub("index.checkpoint");
    testing::write_file_bytes(path, bytes);
    auto file = posix_fs()->open(path, Fs::OpenMode::kRead);
    EXPECT_TRUE(file.has_value());
    return CheckpointCodec::decode_file(**file, index);
  }

  testing::TempDir tmp_;
};

TEST_F(CheckpointFileTest, DecodeFileRebuildsTheSameIndexAsDecodeAcrossReadWindows) {
  const std::vector<uint8_t> bytes = checkpoint_bytes();
  ASSERT_GT(bytes.size(), size_t{4} << 20);
  Index from_file;
  BATPAK_ASSERT_OK_AND_ASSIGN(meta, decode_file(bytes, from_file));
  EXPECT_EQ(from_file.size(), kRows);
  EXPECT_EQ(CheckpointCodec::encode(from_file, meta), bytes);
  Index from_memory;
  BATPAK_ASSERT_OK_AND_ASSIGN(same, CheckpointCodec::decode(bytes, from_memory));
  EXPECT_EQ(CheckpointCodec::encode(from_memory, same), bytes);
}

TEST_F(CheckpointFileTest, DamageOnlyTheChecksumSeesIsRefusedAndLeavesTheIndexEmpty) {
  std::vector<uint8_t> bytes = checkpoint_bytes();
  // A byte of a wall_ms 5 MiB in, in a later window: no structural check can notice it.
  const size_t rows_start = bytes.size() - 8 - kRows * kRowBytes;
  const size_t row = ((size_t{5} << 20) - rows_start) / kRowBytes;
  bytes[rows_start + row * kRowBytes + 40] ^= 0x40;
  Index index;
  auto meta = decode_file(bytes, index);
  BATPAK_EXPECT_ERROR(meta, ErrorCode::kCorruption);
  EXPECT_NE(meta.error().message.find("checksum"), std::string::npos) << meta.error().message;
  EXPECT_EQ(index.size(), 0u);
}

TEST_F(CheckpointFileTest, ATruncatedFileIsRefusedAndLeavesTheIndexEmpty) {
  const std::vector<uint8_t> whole = checkpoint_bytes();
  for (size_t keep : {size_t{0}, size_t{40}, whole.size() / 2, (size_t{4} << 20) + 5, whole.size() - 1}) {
    Index index;
    auto meta = decode_file(std::vector<uint8_t>(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep)), index);
    BATPAK_EXPECT_ERROR(meta, ErrorCode::kCorruption);
    EXPECT_EQ(index.size(), 0u) << "kept " << keep;
  }
}

// Each entity declares its event count (the load reserves it): a count that disagrees with
// the rows is refused even with a valid checksum, and so is a total larger than the rows.
TEST_F(CheckpointFileTest, AnEntityEventCountThatDisagreesWithTheRowsIsRefused) {
  const std::vector<uint8_t> pristine = checkpoint_bytes();
  // Header, one covered segment, then entity 0: name length, "entity:0", head hash, count.
  constexpr size_t kFirstCountAt = 48 + 24 + 2 + 8 + 32;
  const uint32_t declared = util::load_le<uint32_t>(pristine.data() + kFirstCountAt);
  ASSERT_EQ(declared, (kRows + 6) / 7);
  const std::pair<uint32_t, const char*> cases[] = {{declared + 1, "more entity events than rows"},
                                                    {declared - 1, "more or fewer"},
                                                    {0, "without events"},
                                                    {UINT32_MAX, "more entity events than rows"}};
  for (const auto& [count, why] : cases) {
    std::vector<uint8_t> bytes = pristine;
    util::store_le<uint32_t>(bytes.data() + kFirstCountAt, count);
    const size_t checksum_at = bytes.size() - 8;
    util::store_le<uint64_t>(bytes.data() + checksum_at,
                             util::checksum64(std::span<const uint8_t>(bytes).first(checksum_at)));
    Index index;
    auto meta = CheckpointCodec::decode(bytes, index);
    BATPAK_EXPECT_ERROR(meta, ErrorCode::kCorruption);
    if (!meta) {
      EXPECT_NE(meta.error().message.find(why), std::string::npos) << count << ": " << meta.error().message;
    }
    EXPECT_EQ(index.size(), 0u);
  }
}

}  // namespace
}  // namespace batpak::index
