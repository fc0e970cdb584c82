// Segment scanning and the recovery rules (docs/durability.md) on files written by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "format/format.hpp"
#include "format/record.hpp"
#include "segment/scan.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"

namespace batpak {
namespace {

using format::FrameContext;

// Builds a segment file image: the header, then frames appended one by one.
class SegmentImage {
 public:
  explicit SegmentImage(uint64_t segment_id = 1)
      : bytes_(format::encode_segment_header(segment_id, 1700000000000)) {}

  // Appends a frame for global sequence `seq` and returns its offset.
  uint64_t add(uint64_t seq, FrameContext ctx = {}, size_t payload_bytes = 5) {
    const uint64_t at = bytes_.size();
    EventHeader h;
    h.event_id.bytes[0] = static_cast<uint8_t>(seq);
    h.event_id.bytes[15] = 0x77;
    h.correlation_id = h.event_id;
    h.global_sequence = seq;
    h.clock = 1;
    h.wall_ms = 1000 + seq;
    h.kind = EventKind(0x1001);
    std::vector<uint8_t> payload(payload_bytes, static_cast<uint8_t>(seq));
    format::encode_frame(h, ctx, "entity:" + std::to_string(seq), "scope", payload, bytes_);
    offsets_.push_back(at);
    return at;
  }
  // Appends a frame whose durable floor says every byte before it was durable.
  uint64_t add_durable(uint64_t seq) { return add(seq, FrameContext{1, 0, bytes_.size()}); }

  void zeros(size_t n) { bytes_.resize(bytes_.size() + n, 0); }
  std::vector<uint8_t>& bytes() { return bytes_; }
  uint64_t size() const { return bytes_.size(); }
  uint64_t offset(size_t i) const { return offsets_.at(i); }

 private:
  std::vector<uint8_t> bytes_;
  std::vector<uint64_t> offsets_;
};

// A read-only file that counts the bytes it has been asked to read.
class CountingFile : public File {
 public:
  explicit CountingFile(std::unique_ptr<File> inner) : inner_(std::move(inner)) {}
  Result<size_t> pread(uint64_t offset, std::span<uint8_t> data) override {
    bytes_read += data.size();
    return inner_->pread(offset, data);
  }
  Status pwrite(uint64_t offset, std::span<const uint8_t> data) override { return inner_->pwrite(offset, data); }
  Status sync() override { return inner_->sync(); }
  Status sync_all() override { return inner_->sync_all(); }
  Status truncate(uint64_t size) override { return inner_->truncate(size); }
  Result<uint64_t> size() override { return inner_->size(); }
  uint64_t bytes_read = 0;

 private:
  std::unique_ptr<File> inner_;
};

struct ScanOutcome {
  Result<segment::SegmentScan> scan;
  std::vector<uint64_t> sequences;  // Delivered, in order.
  std::vector<uint64_t> offsets;
};

class ScanTest : public ::testing::Test {
 protected:
  ScanOutcome scan(const std::vector<uint8_t>& image, bool newest, uint64_t segment_id = 1,
                   std::optional<uint64_t> strict_end = std::nullopt) {
    path_ = dir_.sub("000000000001.seg");
    {
      std::ofstream out(path_, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
    }
    auto file = posix_fs()->open(path_, Fs::OpenMode::kRead);
    EXPECT_TRUE(file.has_value());
    CountingFile counting(std::move(*file));
    segment::ScanTarget target{&counting, path_, segment_id, newest, strict_end.value_or(image.size())};
    ScanOutcome out{segment::SegmentScan{}, {}, {}};
    out.scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      out.sequences.push_back(f.record.header.global_sequence);
      out.offsets.push_back(f.offset);
      EXPECT_EQ(f.frame_bytes % format::kFrameAlign, 0u);
      return {};
    });
    bytes_read_ = counting.bytes_read;
    return out;
  }

  void expect_corruption_at(const ScanOutcome& o, uint64_t offset) {
    ASSERT_FALSE(o.scan.has_value()) << "scan succeeded; data_end " << o.scan->data_end;
    EXPECT_EQ(o.scan.error().code, ErrorCode::kCorruption) << o.scan.error().to_string();
    EXPECT_EQ(o.scan.error().file, path_);
    EXPECT_EQ(o.scan.error().offset, offset) << o.scan.error().to_string();
  }

  testing::TempDir dir_;
  std::string path_;
  uint64_t bytes_read_ = 0;  // By the last scan().
};

TEST_F(ScanTest, CleanEndDeliversEveryFrameInOrderWithoutTornTail) {
  SegmentImage img;
  img.add(1);
  img.add(2);
  img.add(3);
  for (bool newest : {true, false}) {
    ScanOutcome o = scan(img.bytes(), newest);
    ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
    EXPECT_EQ(o.scan->data_end, img.size());
    EXPECT_FALSE(o.scan->torn.has_value());
    EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1, 2, 3}));
    EXPECT_EQ(o.offsets, (std::vector<uint64_t>{img.offset(0), img.offset(1), img.offset(2)}));
  }
}

TEST_F(ScanTest, EmptySegmentWithOnlyAHeaderIsCleanAndEmpty) {
  SegmentImage img;
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value());
  EXPECT_EQ(o.scan->data_end, format::kSegmentHeaderBytes);
  EXPECT_FALSE(o.scan->torn.has_value());
  EXPECT_TRUE(o.sequences.empty());
}

TEST_F(ScanTest, TrailingZerosInNewestSegmentAreACleanEnd) {
  SegmentImage img;
  img.add(1);
  img.add(2);
  const uint64_t end = img.size();
  img.zeros(8192);  // Preallocated space.
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
  EXPECT_EQ(o.scan->data_end, end);
  EXPECT_FALSE(o.scan->torn.has_value());
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1, 2}));
}

TEST_F(ScanTest, TornLastFrameInNewestSegmentIsReportedAtItsOffset) {
  SegmentImage img;
  img.add(1);
  img.add(2);
  const uint64_t third = img.add(3, FrameContext{1, 0, 0}, 100);
  const uint64_t full = img.size();
  // The write tore: only the first part of the third frame reached the disk.
  img.bytes().resize(third + 120);
  img.zeros(4096);
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
  ASSERT_TRUE(o.scan->torn.has_value());
  EXPECT_EQ(o.scan->torn->offset, third);
  EXPECT_GT(o.scan->torn->end, third);
  EXPECT_LE(o.scan->torn->end, third + 120);
  EXPECT_LT(o.scan->torn->end, full);
  EXPECT_EQ(o.scan->data_end, third);
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1, 2}));
}

TEST_F(ScanTest, TruncatedFileEndingMidFrameIsATornTailInNewest) {
  SegmentImage img;
  img.add(1);
  const uint64_t second = img.add(2);
  img.bytes().resize(second + 20);  // File ends inside the frame (no zeros after).
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
  ASSERT_TRUE(o.scan->torn.has_value());
  EXPECT_EQ(o.scan->torn->offset, second);
  EXPECT_EQ(o.scan->torn->end, second + 20);
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, DamagedFrameFollowedByAFrameWrittenAfterItWasDurableIsCorruption) {
  SegmentImage img;
  img.add(1);
  const uint64_t second = img.add(2);
  // Frame 3 was written when everything before it, frame 2 included, was durable.
  img.add_durable(3);
  img.zeros(1024);
  img.bytes()[second + format::kFrameHeaderBytes + 100] ^= 0x40;  // Damage frame 2.
  ScanOutcome o = scan(img.bytes(), true);
  expect_corruption_at(o, second);
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, DamagedFrameFollowedOnlyByFramesOfTheSameUnsyncedWriteIsATornTail) {
  SegmentImage img;
  img.add(1);
  const uint64_t second = img.add(2, FrameContext{1, 0, 0});
  // Frame 3 shares frame 2's group commit: its floor is frame 2's start, not past it.
  img.add(3, FrameContext{1, 0, second});
  img.bytes()[second + format::kFrameHeaderBytes + 100] ^= 0x40;
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
  ASSERT_TRUE(o.scan->torn.has_value());
  EXPECT_EQ(o.scan->torn->offset, second);
  EXPECT_GT(o.scan->torn->end, img.offset(2));  // Up to the last non-zero byte.
  EXPECT_LE(o.scan->torn->end, img.size());
  EXPECT_EQ(o.scan->data_end, second);
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, IncompleteBatchAtTheEndOfNewestIsTornAtTheBatchsFirstFrame) {
  SegmentImage img;
  img.add(1);
  const uint64_t batch_start = img.add(2, FrameContext{3, 0, 0});
  img.add(3, FrameContext{3, 1, 0});
  // The third frame of the batch never reached the disk.
  img.zeros(512);
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
  ASSERT_TRUE(o.scan->torn.has_value());
  EXPECT_EQ(o.scan->torn->offset, batch_start);
  EXPECT_EQ(o.scan->data_end, batch_start);
  // No frame of the incomplete batch is delivered.
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, CompleteBatchIsDeliveredWhole) {
  SegmentImage img;
  img.add(1, FrameContext{2, 0, 0});
  img.add(2, FrameContext{2, 1, 0});
  img.add(3);
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
  EXPECT_FALSE(o.scan->torn.has_value());
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(ScanTest, BatchFramesOutOfOrderAreCorruptionInASealedSegment) {
  SegmentImage img;
  img.add(1);
  img.add(2, FrameContext{2, 1, 0});  // Index 1 before index 0.
  img.add(3, FrameContext{2, 0, 0});
  ScanOutcome o = scan(img.bytes(), false);
  expect_corruption_at(o, img.offset(1));
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, BatchFramesOutOfOrderFollowedByADurableFrameAreCorruptionInNewest) {
  SegmentImage img;
  img.add(1);
  img.add(2, FrameContext{2, 0, 0});
  img.add(3, FrameContext{2, 0, 0});  // Repeats index 0.
  img.add_durable(4);
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_FALSE(o.scan.has_value());
  EXPECT_EQ(o.scan.error().code, ErrorCode::kCorruption);
  EXPECT_EQ(o.scan.error().offset, img.offset(2));
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, BatchWithMismatchedCountsIsCorruptionInASealedSegment) {
  SegmentImage img;
  img.add(1, FrameContext{2, 0, 0});
  img.add(2, FrameContext{3, 1, 0});
  img.add(3, FrameContext{3, 2, 0});
  ScanOutcome o = scan(img.bytes(), false);
  expect_corruption_at(o, img.offset(1));
  EXPECT_TRUE(o.sequences.empty());
}

TEST_F(ScanTest, SingleFrameInsideAnOpenBatchIsDamage) {
  SegmentImage img;
  img.add(1, FrameContext{2, 0, 0});
  img.add(2);  // Not part of the batch.
  img.add(3, FrameContext{2, 1, 0});
  ScanOutcome o = scan(img.bytes(), false);
  expect_corruption_at(o, img.offset(1));
}

TEST_F(ScanTest, TornLastFrameInASealedSegmentIsCorruption) {
  SegmentImage img;
  img.add(1);
  const uint64_t second = img.add(2);
  img.bytes().resize(second + 40);
  ScanOutcome o = scan(img.bytes(), false);
  expect_corruption_at(o, second);
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, DamagedFrameInASealedSegmentIsCorruptionWithFileAndOffset) {
  SegmentImage img;
  img.add(1);
  const uint64_t second = img.add(2);
  img.add(3);
  img.bytes()[second + 3] ^= 0x01;  // Inside the checksum.
  ScanOutcome o = scan(img.bytes(), false);
  expect_corruption_at(o, second);
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, DamagedLastFrameInASealedSegmentIsCorruptionNotATornTail) {
  SegmentImage img;
  img.add(1);
  const uint64_t second = img.add(2);
  img.bytes()[second + format::kFrameHeaderBytes + 70] ^= 0x01;
  ScanOutcome o = scan(img.bytes(), false);
  expect_corruption_at(o, second);
}

TEST_F(ScanTest, ZeroedFrameHeaderInsideSealedDataIsCorruption) {
  SegmentImage img;
  img.add(1);
  const uint64_t end = img.size();
  img.zeros(64);
  ScanOutcome o = scan(img.bytes(), false);  // strict_end is the whole file.
  expect_corruption_at(o, end);
}

TEST_F(ScanTest, SealedSegmentShorterThanItsStrictEndIsCorruption) {
  SegmentImage img;
  img.add(1);
  ScanOutcome o = scan(img.bytes(), false, 1, img.size() + 8);
  expect_corruption_at(o, img.size());
}

TEST_F(ScanTest, NonZeroPaddingIsDamageInSealedAndTornAtTheEndOfNewest) {
  SegmentImage img;
  img.add(1);
  // Entity "entity:2" (8) + scope "scope" (5) + payload 4: 225 record bytes, 7 of padding.
  const uint64_t second = img.add(2, FrameContext{}, 4);
  const uint64_t record_bytes = format::kRecordFixedBytes + 8 + 5 + 4;
  const uint64_t padding_at = second + format::kFrameHeaderBytes + record_bytes;
  ASSERT_LT(padding_at, img.size()) << "the frame must have padding";
  img.bytes()[padding_at] = 0x01;
  ScanOutcome sealed = scan(img.bytes(), false);
  expect_corruption_at(sealed, second);
  ScanOutcome newest = scan(img.bytes(), true);
  ASSERT_TRUE(newest.scan.has_value()) << newest.scan.error().to_string();
  ASSERT_TRUE(newest.scan->torn.has_value());
  EXPECT_EQ(newest.scan->torn->offset, second);
  EXPECT_EQ(newest.sequences, (std::vector<uint64_t>{1}));
}

TEST_F(ScanTest, DamagedSegmentHeaderIsCorruptionAtZeroWhenSealedAndTornWhenNewestIsOtherwiseEmpty) {
  SegmentImage img;
  img.bytes()[20] ^= 0x01;
  ScanOutcome sealed = scan(img.bytes(), false);
  expect_corruption_at(sealed, 0);
  ScanOutcome newest = scan(img.bytes(), true);
  ASSERT_TRUE(newest.scan.has_value()) << newest.scan.error().to_string();
  ASSERT_TRUE(newest.scan->torn.has_value());
  EXPECT_EQ(newest.scan->torn->offset, 0u);
  EXPECT_EQ(newest.scan->data_end, 0u);
}

TEST_F(ScanTest, SegmentIdDifferentFromItsFileNameIsCorruption) {
  SegmentImage img(2);
  img.add(1);
  ScanOutcome o = scan(img.bytes(), false, /*segment_id=*/1);
  expect_corruption_at(o, 0);
}

// Invariant: classifying a damaged tail costs time linear in the tail. A tail where every
// aligned word is a frame header claiming a frame that reaches the end of the file would
// make a probe-and-checksum at every offset quadratic; the probe budget refuses it instead.
TEST_F(ScanTest, CraftedTailOfOverlappingFrameClaimsIsRefusedWithinALinearBudget) {
  constexpr size_t kTailBytes = 8u << 20;
  SegmentImage img;
  img.add_durable(1);
  const uint64_t bad = img.size();
  img.zeros(kTailBytes);
  const uint64_t end = img.size();
  // The header at q reads its checksum from the word at q and magic + length from q + 8,
  // so every word holds the magic and the length the header before it needs.
  for (uint64_t q = bad; q + format::kFrameHeaderBytes <= end; q += format::kFrameAlign) {
    const uint64_t record_bytes = (end - q - format::kFrameHeaderBytes) & ~uint64_t{7};
    util::store_le<uint32_t>(img.bytes().data() + q + format::kFrameMagicAt, format::kFrameMagic);
    util::store_le<uint32_t>(img.bytes().data() + q + format::kFrameRecordBytesAt,
                             static_cast<uint32_t>(std::max<uint64_t>(record_bytes, format::kRecordFixedBytes)));
  }
  ScanOutcome o = scan(img.bytes(), true);
  expect_corruption_at(o, bad);
  EXPECT_NE(o.scan.error().message.find("too large to classify"), std::string::npos) << o.scan.error().message;
  EXPECT_EQ(o.sequences, (std::vector<uint64_t>{1}));
  EXPECT_LE(bytes_read_, 4 * img.size()) << "reads must stay linear in the file size";
}

// The budget never refuses a real torn tail: a damaged frame followed by many frames of the
// same unsynced write is still classified, each valid frame stepped over once.
TEST_F(ScanTest, LongTornWriteOfManyFramesIsStillATornTail) {
  SegmentImage img;
  img.add_durable(1);
  const uint64_t second = img.add(2, FrameContext{1, 0, 0}, 4096);
  for (uint64_t seq = 3; seq < 2003; ++seq) img.add(seq, FrameContext{1, 0, second}, 4096);
  img.bytes()[second + format::kFrameHeaderBytes + 100] ^= 0x40;
  ScanOutcome o = scan(img.bytes(), true);
  ASSERT_TRUE(o.scan.has_value()) << o.scan.error().to_string();
  ASSERT_TRUE(o.scan->torn.has_value());
  EXPECT_EQ(o.scan->torn->offset, second);
  EXPECT_EQ(o.scan->data_end, second);
  EXPECT_LE(bytes_read_, 4 * img.size());
}

TEST_F(ScanTest, SinkErrorStopsTheScanAndIsReturnedAsIs) {
  SegmentImage img;
  img.add(1);
  img.add(2);
  path_ = dir_.sub("000000000001.seg");
  {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(img.bytes().data()), static_cast<std::streamsize>(img.size()));
  }
  auto file = posix_fs()->open(path_, Fs::OpenMode::kRead);
  ASSERT_TRUE(file.has_value());
  int calls = 0;
  segment::ScanTarget target{file->get(), path_, 1, true, img.size()};
  auto result = segment::scan_segment(target, [&](const segment::ScannedFrame&) -> Status {
    ++calls;
    return make_error(ErrorCode::kTimeout, "stop");
  });
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, ErrorCode::kTimeout);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace batpak
