// Tampering that keeps every frame checksum valid: a tamperer who rewrites bytes and then
// recomputes the frame's XXH3 (anyone who reads docs/format.md can). verify() must still name
// the first tampered event, through its content hash or its event hash, even though it checks
// content hashes a batch at a time. The store stays open: the tampering goes to the file
// underneath it, as it would from another process.
#include <gtest/gtest.h>

#include <fstream>

#include "format/format.hpp"
#include "segment/scan.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::testing {
namespace {

constexpr EventKind kKind{0x1001};
constexpr uint64_t kEvents = 700;
constexpr uint64_t kLargePayloadEvent = 401;  // Its payload is over 1 KiB: hashed alone.
constexpr const char* kContentMismatch = "content_hash does not match the payload";

struct FrameAt {
  std::string path;         // Its segment file.
  uint64_t offset = 0;      // Frame start in the segment file.
  uint64_t payload_at = 0;  // First payload byte in the file.
};

// Parameter: segment_bytes_max. One segment, or several, so that a batch of pending content
// checks meets a segment's end.
class TamperTest : public ::testing::TestWithParam<uint64_t> {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.segment_bytes_max = GetParam();
    auto opened = Store::open(tmp_.sub("store"), options);
    ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
    store_ = std::move(*opened);
    for (uint64_t i = 1; i <= kEvents; ++i) {
      const size_t size = i == kLargePayloadEvent ? 2000 : 150 + (i * 13) % 120;
      const std::string payload(size, static_cast<char>('a' + i % 26));
      ASSERT_TRUE(store_->append(coord("e:" + std::to_string(i % 5)), kKind, bytes(payload)).has_value());
    }
    const auto paths = segment_paths(tmp_.sub("store"));
    ASSERT_EQ(paths.size() > 1, GetParam() < (1u << 20));
    for (size_t i = 0; i < paths.size(); ++i) {
      auto file = posix_fs()->open(paths[i], Fs::OpenMode::kRead);
      ASSERT_TRUE(file.has_value());
      auto size = (*file)->size();
      ASSERT_TRUE(size.has_value());
      segment::ScanTarget target{file->get(), paths[i], i + 1, /*newest=*/i + 1 == paths.size(), *size};
      auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
        const uint64_t payload_at = f.offset + format::kFrameHeaderBytes + format::kRecordFixedBytes +
                                    f.record.entity.size() + f.record.scope.size();
        frames_.push_back(FrameAt{paths[i], f.offset, payload_at});
        return {};
      });
      ASSERT_TRUE(scan.has_value()) << scan.error().to_string();
    }
    ASSERT_EQ(frames_.size(), kEvents);
  }

  // Flips one byte of the file, then recomputes the checksum of the frame that holds it.
  static void flip_and_reseal(const std::string& path, uint64_t frame_offset, uint64_t byte_at) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    std::vector<uint8_t> header(format::kFrameHeaderBytes);
    file.seekg(static_cast<std::streamoff>(frame_offset));
    file.read(reinterpret_cast<char*>(header.data()), static_cast<std::streamsize>(header.size()));
    const uint32_t record_bytes = util::load_le<uint32_t>(header.data() + format::kFrameRecordBytesAt);
    std::vector<uint8_t> frame(format::kFrameHeaderBytes + record_bytes);
    file.seekg(static_cast<std::streamoff>(frame_offset));
    file.read(reinterpret_cast<char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
    frame[byte_at - frame_offset] ^= 0x01;
    const std::span<const uint8_t> sealed(frame.data() + format::kFrameMagicAt, frame.size() - format::kFrameMagicAt);
    util::store_le<uint64_t>(frame.data() + format::kFrameChecksumAt, util::checksum64(sealed));
    file.seekp(static_cast<std::streamoff>(frame_offset));
    file.write(reinterpret_cast<const char*>(frame.data()), static_cast<std::streamsize>(frame.size()));
    ASSERT_TRUE(file.good());
  }
  void tamper_payload(uint64_t global_sequence) {
    const FrameAt& f = frames_[global_sequence - 1];
    flip_and_reseal(f.path, f.offset, f.payload_at);
  }
  void tamper_event_hash(uint64_t global_sequence) {
    const FrameAt& f = frames_[global_sequence - 1];
    flip_and_reseal(f.path, f.offset, f.offset + format::kFrameHeaderBytes + format::kRecEventHashAt);
  }

  // verify() names exactly this event, with this reason, and counts the events before it.
  void expect_damage_at(uint64_t global_sequence, const std::string& reason) {
    auto report = store_->verify();
    ASSERT_TRUE(report.has_value()) << report.error().to_string();
    ASSERT_TRUE(report->damage.has_value()) << "tampering at event " << global_sequence << " went unnoticed";
    EXPECT_EQ(report->damage->global_sequence, global_sequence);
    EXPECT_EQ(report->damage->offset, frames_[global_sequence - 1].offset);
    EXPECT_EQ(report->damage->file, frames_[global_sequence - 1].path);
    EXPECT_EQ(report->damage->reason, reason);
    EXPECT_EQ(report->events_checked, global_sequence - 1);
  }

  TempDir tmp_;
  std::unique_ptr<Store> store_;
  std::vector<FrameAt> frames_;
};

TEST_P(TamperTest, UntamperedStoreVerifiesEveryEvent) {
  auto report = store_->verify();
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(report->ok()) << report->damage->reason;
  EXPECT_EQ(report->events_checked, kEvents);
}

TEST_P(TamperTest, RewrittenPayloadIsNamedByItsContentHash) {
  tamper_payload(300);
  expect_damage_at(300, kContentMismatch);
}

// The content of event 300 waits in a batch when event 310's chain check fails: the report
// still names 300, the first broken place.
TEST_P(TamperTest, EarlierRewrittenPayloadIsReportedBeforeALaterBrokenEventHash) {
  tamper_payload(300);
  tamper_event_hash(310);
  expect_damage_at(300, kContentMismatch);
}

TEST_P(TamperTest, EarlierBrokenEventHashIsReportedBeforeALaterRewrittenPayload) {
  tamper_event_hash(290);
  tamper_payload(300);
  expect_damage_at(290, "event_hash does not match the event's fields");
}

TEST_P(TamperTest, RewrittenPayloadOverOneKibIsNamed) {
  tamper_payload(kLargePayloadEvent);
  expect_damage_at(kLargePayloadEvent, kContentMismatch);
}

// A pending batch is checked at the end of the scan too.
TEST_P(TamperTest, RewrittenPayloadOfTheLastEventIsNamed) {
  tamper_payload(kEvents);
  expect_damage_at(kEvents, kContentMismatch);
}

// With two rewritten payloads in one batch, the first is named.
TEST_P(TamperTest, FirstOfTwoRewrittenPayloadsInOneBatchIsNamed) {
  tamper_payload(520);
  tamper_payload(515);
  expect_damage_at(515, kContentMismatch);
}

// An event near the end: with several segments, in a later one, after the batches of the
// segments before it were checked whole.
TEST_P(TamperTest, RewrittenPayloadAfterTheFirstSegmentIsNamedWithItsFile) {
  tamper_payload(kEvents - 100);
  expect_damage_at(kEvents - 100, kContentMismatch);
}

INSTANTIATE_TEST_SUITE_P(SegmentSizes, TamperTest, ::testing::Values(64ull << 20, 64ull << 10),
                         [](const ::testing::TestParamInfo<uint64_t>& segment_size) {
                           return segment_size.param < (1u << 20) ? std::string("SeveralSegments") : std::string("OneSegment");
                         });

}  // namespace
}  // namespace batpak::testing
