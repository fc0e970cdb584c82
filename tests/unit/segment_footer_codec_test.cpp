// The segment footer codec (docs/format.md, "Segment footers"): what encode writes, decode
// reads back exactly; and decode refuses every footer that is damaged or does not describe
// one unbroken run of frames, so open never loads rows it cannot trust.
#include <gtest/gtest.h>

#include "index/segment_footer.hpp"
#include "support/assertions.hpp"
#include "support/file_bytes.hpp"
#include "support/reseal.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::index {
namespace {

constexpr uint32_t kFrameBytes = 120;

// Segment 3: seven events over entities a (clocks 5..8, continuing an earlier segment) and b
// (clocks 1..3), two scopes; the frames tile the segment after its 64-byte header.
SegmentFooter sample_footer() {
  SegmentFooter f;
  f.segment_id = 3;
  f.first_sequence = 40;
  f.segment_checksum = 0x1234;
  f.entities = {{"a", {}, {}, 4, 0, 0}, {"b", {}, {}, 3, 0, 0}};
  f.entities[0].link_hash.bytes[0] = 0xaa;
  f.entities[0].head_hash.bytes[0] = 0xab;
  f.entities[1].head_hash.bytes[0] = 0xbb;
  f.scopes = {"s1", "s2"};
  uint32_t clocks[2] = {5, 1};
  for (uint32_t i = 0; i < 7; ++i) {
    const uint32_t entity = i % 2 == 0 && clocks[0] <= 8 ? 0 : 1;
    SegmentFooter::Row row;
    row.entry.event_id.bytes[0] = static_cast<uint8_t>(i + 1);
    row.entry.segment_id = 3;
    row.entry.offset = 64 + uint64_t{i} * kFrameBytes;
    row.entry.wall_ms = 1000 + i;
    row.entry.frame_bytes = kFrameBytes;
    row.entry.clock = clocks[entity]++;
    row.entry.kind = EventKind(0x1001);
    row.entity = entity;
    row.scope = i % 2;
    f.rows.push_back(row);
  }
  f.segment_bytes = 64 + 7 * kFrameBytes;
  return f;
}

using testing::reseal;

// Offsets (docs/format.md): header 64 bytes, then entities of 70 + name bytes, scopes of 2 +
// name bytes, rows of 60.
constexpr size_t kEntitiesAt = 64;
constexpr size_t kRowsAt = kEntitiesAt + 2 * 71 + 2 * 4;
size_t row_at(size_t i) { return kRowsAt + i * 60; }

TEST(SegmentFooterCodecTest, DecodeReadsBackWhatEncodeWroteAndDerivesEachEntitysStart) {
  const SegmentFooter f = sample_footer();
  const std::vector<uint8_t> bytes = encode_segment_footer(f);
  ASSERT_EQ(bytes.size(), row_at(7) + 8);
  BATPAK_ASSERT_OK_AND_ASSIGN(back, decode_segment_footer(bytes));
  EXPECT_EQ(back.segment_id, 3u);
  EXPECT_EQ(back.segment_bytes, f.segment_bytes);
  EXPECT_EQ(back.segment_checksum, 0x1234u);
  EXPECT_EQ(back.first_sequence, 40u);
  ASSERT_EQ(back.entities.size(), 2u);
  EXPECT_EQ(back.entities[0].first_clock, 5u);
  EXPECT_EQ(back.entities[1].first_clock, 1u);
  EXPECT_EQ(back.entities[0].first_wall_ms, 1000u);
  EXPECT_EQ(back.entities[0].link_hash, f.entities[0].link_hash);
  EXPECT_EQ(back.entities[1].head_hash, f.entities[1].head_hash);
  EXPECT_EQ(back.scopes, f.scopes);
  ASSERT_EQ(back.rows.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(back.rows[i].entry.event_id, f.rows[i].entry.event_id);
    EXPECT_EQ(back.rows[i].entry.clock, f.rows[i].entry.clock);
    EXPECT_EQ(back.rows[i].entity, f.rows[i].entity);
    EXPECT_EQ(back.rows[i].scope, f.rows[i].scope);
  }
  EXPECT_EQ(back.wall_ms_max(), 1006u);
  EXPECT_EQ(encode_segment_footer(back), bytes);
}

TEST(SegmentFooterCodecTest, EveryFlippedByteIsRefused) {
  const std::vector<uint8_t> bytes = encode_segment_footer(sample_footer());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::vector<uint8_t> damaged = bytes;
    damaged[i] ^= 0x10;
    EXPECT_FALSE(decode_segment_footer(damaged).has_value()) << "byte " << i;
  }
  for (size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_FALSE(decode_segment_footer(std::span<const uint8_t>(bytes).first(n)).has_value()) << n << " bytes";
  }
}

// Each case breaks one rule with a valid checksum; decode must say kCorruption.
TEST(SegmentFooterCodecTest, FootersThatDoNotDescribeOneUnbrokenRunOfFramesAreRefused) {
  const std::vector<uint8_t> good = encode_segment_footer(sample_footer());
  struct Case {
    const char* rule;
    size_t at;
    uint64_t value;
    size_t width;
  };
  const Case cases[] = {
      {"segment bytes beyond the last frame", 24, 64 + 7 * kFrameBytes + 1, 8},
      {"a first frame not right after the header", row_at(0) + 32, 65, 8},
      {"a gap between frames", row_at(3) + 32, 64 + 3 * kFrameBytes + 8, 8},
      {"a row of another segment", row_at(2) + 24, 4, 8},
      {"a clock that skips", row_at(4) + 52, 9, 4},
      {"a wall_ms going back within an entity", row_at(2) + 40, 999, 8},
      {"an entity number out of range", row_at(1) + 16, 2, 4},
      {"a scope number out of range", row_at(1) + 20, 2, 4},
      {"a non-zero row field", row_at(6) + 58, 1, 2},
      {"entity counts that disagree with the rows", kEntitiesAt + 71 - 4, 5, 4},
      {"a zero row count", 48, 0, 4},
      {"a zero first sequence", 40, 0, 8},
      {"a non-zero reserved field", 12, 1, 4},
      {"a row count larger than the file", 48, 1000000, 4},
      {"a link at an entity's first clock", kEntitiesAt + 71 + 3, 1, 1},
  };
  for (const Case& c : cases) {
    std::vector<uint8_t> bytes = good;
    for (size_t b = 0; b < c.width; ++b) bytes[c.at + b] = static_cast<uint8_t>(c.value >> (8 * b));
    reseal(bytes);
    auto decoded = decode_segment_footer(bytes);
    ASSERT_FALSE(decoded.has_value()) << c.rule;
    EXPECT_EQ(decoded.error().code, ErrorCode::kCorruption) << c.rule;
  }
}

TEST(SegmentFooterCodecTest, AnotherVersionIsUnsupported) {
  std::vector<uint8_t> bytes = encode_segment_footer(sample_footer());
  util::store_le<uint32_t>(bytes.data() + 8, 2);
  reseal(bytes);
  auto decoded = decode_segment_footer(bytes);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, ErrorCode::kUnsupported);
}

// A footer of 6,000 rows (360 KB: more than one 256 KiB read window) decoded from a file
// equals the in-memory decode, into a reused SegmentFooter; a flipped byte anywhere, which
// only the trailing checksum sees, is refused.
TEST(SegmentFooterCodecTest, DecodeFileReadsWhatDecodeReadsAcrossWindowsAndRefusesAFlip) {
  SegmentFooter f;
  f.segment_id = 1;
  f.first_sequence = 1;
  f.entities = {{"only", {}, {}, 6000, 0, 0}};
  f.scopes = {"s"};
  for (uint32_t i = 0; i < 6000; ++i) {
    SegmentFooter::Row row;
    row.entry.event_id.bytes[0] = static_cast<uint8_t>(i);
    row.entry.event_id.bytes[1] = static_cast<uint8_t>(i >> 8);
    row.entry.segment_id = 1;
    row.entry.offset = 64 + uint64_t{i} * kFrameBytes;
    row.entry.frame_bytes = kFrameBytes;
    row.entry.clock = i + 1;
    f.rows.push_back(row);
  }
  f.segment_bytes = 64 + 6000 * kFrameBytes;
  const std::vector<uint8_t> bytes = encode_segment_footer(f);
  ASSERT_GT(bytes.size(), size_t{256} << 10);
  testing::TempDir tmp;
  const std::string path = tmp.sub("footer");
  auto decode_file = [&](const std::vector<uint8_t>& content, SegmentFooter& out) {
    testing::write_file_bytes(path, content);
    auto file = posix_fs()->open(path, Fs::OpenMode::kRead);
    EXPECT_TRUE(file.has_value());
    return decode_segment_footer_file(**file, out);
  };
  SegmentFooter reused = sample_footer();  // Whatever it held is replaced.
  BATPAK_ASSERT_OK(decode_file(bytes, reused));
  EXPECT_EQ(encode_segment_footer(reused), bytes);
  for (size_t at : {size_t{20}, size_t{200000}, bytes.size() - 3}) {
    std::vector<uint8_t> damaged = bytes;
    damaged[at] ^= 0x04;
    EXPECT_FALSE(decode_file(damaged, reused).has_value()) << "byte " << at;
  }
  EXPECT_FALSE(decode_file({bytes.begin(), bytes.begin() + 100}, reused).has_value());
}

TEST(SegmentFooterCodecTest, TheFooterFileSitsBesideItsSegment) {
  EXPECT_EQ(segment_footer_file_name(42), "000000000042.seg.footer");
}

}  // namespace
}  // namespace batpak::index
