// Tampering that keeps every frame checksum valid: a tamperer who rewrites bytes and then
// recomputes the frame's XXH3 (anyone who reads docs/format.md can). verify() must still name
// the first tampered event, through its content hash or its event hash, even though it checks
// content hashes a batch at a time. The store stays open: the tampering goes to the file
// underneath it, as it would from another process. OpenTamperTest then closes the store and
// shows that Store::open refuses such frames itself, and what it does with stray files that
// are named like segments.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "format/format.hpp"
#include "segment/manifest.hpp"
#include "segment/scan.hpp"
#include "segment/segment_files.hpp"
#include "support/file_bytes.hpp"
#include "support/reseal.hpp"
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
    frames_ = scan_frames(paths);
    ASSERT_EQ(frames_.size(), kEvents);
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

// ---- Tampering seen by Store::open ----
// Open checks every frame checksum and every chain link (docs/durability.md, "Recovery at
// open"). A re-sealed frame passes the checksum, so what stops it is the record decoder or
// the chain check. The store below is closed before each case, and opened again.

constexpr uint64_t kOpenEvents = 60;
constexpr const char* kPrevHashBroken = "prev_hash does not link to the entity's previous event";
constexpr const char* kEventHashBroken = "event_hash does not match the event's fields";
constexpr const char* kReservedNotZero = "reserved record flag is set";

class OpenTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = tmp_.sub("store");
    options_.segment_bytes_max = 8u << 10;
    options_.preallocate_bytes = preallocate_bytes();
    options_.index_checkpoint = false;  // Full scans, unless a test turns them back on.
    options_.segment_footers = false;
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options_));
    for (uint64_t i = 1; i <= kOpenEvents; ++i) {
      const std::string payload(200 + (i * 7) % 90, static_cast<char>('a' + i % 26));
      BATPAK_ASSERT_OK(store->append(coord("e:" + std::to_string(i % 3)), kKind, bytes(payload)));
    }
    BATPAK_ASSERT_OK(store->close());
    paths_ = segment_paths(dir_);
    ASSERT_GE(paths_.size(), 3u) << "the store should span several segments";
    frames_ = scan_frames(paths_);
    ASSERT_EQ(frames_.size(), kOpenEvents);
  }

  // The default (4096) leaves zeros after the newest segment's data at a clean close.
  virtual uint32_t preallocate_bytes() const { return 4096; }

  const FrameAt& frame(uint64_t global_sequence) const { return frames_[global_sequence - 1]; }
  // The first event of the segment file `path`.
  uint64_t first_event_in(const std::string& path) const {
    for (uint64_t seq = 1; seq <= kOpenEvents; ++seq) {
      if (frame(seq).path == path) return seq;
    }
    ADD_FAILURE() << "no event in " << path;
    return 1;
  }
  // An event in the middle of the second segment: sealed, neither its first nor its last.
  uint64_t event_in_sealed_segment() const { return first_event_in(paths_[1]) + 1; }

  // Flips one bit of a record field of the event, keeping its frame checksum valid.
  void tamper_field(uint64_t global_sequence, size_t field_at) {
    const FrameAt& f = frame(global_sequence);
    flip_and_reseal(f.path, f.offset, f.offset + format::kFrameHeaderBytes + field_at);
  }

  // The manifest as a crash leaves it: no clean end recorded for the newest segment.
  void forget_clean_close() {
    BATPAK_ASSERT_OK(segment::write_manifest(*posix_fs(), dir_, {paths_.size(), 0}));
  }

  // The errors of a read-write and then a read-only open with `options`, each of which must
  // be refused (else `unnoticed` is the failure).
  std::vector<Error> refused_opens(StoreOptions options, const std::string& unnoticed) {
    std::vector<Error> errors;
    for (AccessMode mode : {AccessMode::kReadWrite, AccessMode::kReadOnly}) {
      options.access = mode;
      auto store = Store::open(dir_, options);
      EXPECT_FALSE(store.has_value()) << (mode == AccessMode::kReadWrite ? "read-write: " : "read-only: ")
                                      << unnoticed;
      if (!store) errors.push_back(store.error());
    }
    return errors;
  }
  // Invariant: read-write and read-only opens refuse with kCorruption naming `file`.
  void expect_open_refused_naming(const std::string& file, const std::string& unnoticed) {
    for (const Error& e : refused_opens(options_, unnoticed)) {
      EXPECT_EQ(e.code, ErrorCode::kCorruption) << e.to_string();
      EXPECT_EQ(e.file, file) << e.to_string();
    }
  }
  // Invariant: read-write and read-only opens refuse with kCorruption, naming the event's
  // file and frame offset, with this reason.
  void expect_open_refused_at(uint64_t global_sequence, const std::string& reason, StoreOptions options) {
    const std::string unnoticed = "tampering at event " + std::to_string(global_sequence) + " went unnoticed by open";
    for (const Error& e : refused_opens(std::move(options), unnoticed)) {
      EXPECT_EQ(e.code, ErrorCode::kCorruption) << e.to_string();
      EXPECT_EQ(e.file, frame(global_sequence).path) << e.to_string();
      EXPECT_EQ(e.offset, frame(global_sequence).offset) << e.to_string();
      EXPECT_NE(e.message.find(reason), std::string::npos) << e.to_string();
    }
  }
  void expect_open_refused_at(uint64_t global_sequence, const std::string& reason) {
    expect_open_refused_at(global_sequence, reason, options_);
  }

  // Opens with `options` and closes again, so that close writes its accelerators.
  void expect_gap_refused_naming_the_missing_segment();
  void open_and_close(const StoreOptions& options) {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options));
    BATPAK_ASSERT_OK(store->close());
  }

  // The names of the files in the store directory.
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) names.insert(entry.path().filename().string());
    return names;
  }

  TempDir tmp_;
  std::string dir_;
  StoreOptions options_;
  std::vector<std::string> paths_;
  std::vector<FrameAt> frames_;
};

TEST_F(OpenTamperTest, UntamperedStoreOpensWithEveryEventByAFullScan) {
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options_));
  EXPECT_EQ(store->open_report().index_source, IndexSource::kFullScan);
  EXPECT_EQ(store->open_report().frames_scanned, kOpenEvents);
  EXPECT_EQ(expect_log_invariants(*store).size(), kOpenEvents);
}

// A sealed segment is never a torn tail: a frame there that passes its checksum but does not
// decode refuses the open.
TEST_F(OpenTamperTest, UndecodableResealedFrameInASealedSegmentRefusesOpen) {
  const uint64_t seq = event_in_sealed_segment();
  tamper_field(seq, format::kRecStoreFlagsAt + 1);
  expect_open_refused_at(seq, kReservedNotZero);
}

// In the newest segment undecodable bytes pass for an unacknowledged write unless a later
// frame proves otherwise: here the next event's durable floor lies beyond them (kSync), so
// the open refuses, also without a clean close on record.
TEST_F(OpenTamperTest, UndecodableResealedFrameBeforeALaterDurableFrameInTheNewestSegmentRefusesOpen) {
  const uint64_t seq = first_event_in(paths_.back());
  ASSERT_LT(seq, kOpenEvents) << "the newest segment should hold an event after it";
  forget_clean_close();
  tamper_field(seq, format::kRecStoreFlagsAt + 1);
  expect_open_refused_at(seq, "later durable frame");
}

// After a crash (no clean end in the manifest) an undecodable last frame is a torn tail:
// read-only opens skip it and change nothing; a read-write open saves it and cuts it off.
TEST_F(OpenTamperTest, UndecodableResealedLastFrameWithoutACleanCloseIsATornTail) {
  const FrameAt last = frame(kOpenEvents);
  forget_clean_close();
  tamper_field(kOpenEvents, format::kRecStoreFlagsAt + 1);
  for (AccessMode mode : {AccessMode::kReadOnly, AccessMode::kReadWrite}) {
    SCOPED_TRACE(mode == AccessMode::kReadWrite ? "read-write open" : "read-only open");
    StoreOptions options = options_;
    options.access = mode;
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options));
    const OpenReport& r = store->open_report();
    ASSERT_TRUE(r.torn_tail) << "an undecodable last frame went unnoticed by open";
    EXPECT_EQ(r.torn_tail_file, last.path);
    EXPECT_EQ(r.torn_tail_offset, last.offset);
    EXPECT_EQ(expect_log_invariants(*store).size(), kOpenEvents - 1);
    if (mode == AccessMode::kReadWrite) {
      EXPECT_TRUE(std::filesystem::exists(r.torn_tail_saved_as)) << r.torn_tail_saved_as;
      EXPECT_EQ(std::filesystem::file_size(last.path), last.offset);
    } else {
      EXPECT_TRUE(r.torn_tail_saved_as.empty());
    }
  }
}

// After a clean close the manifest records where the newest segment's data ended, so the
// same undecodable last frame is acknowledged data: the open refuses.
TEST_F(OpenTamperTest, UndecodableResealedLastFrameAfterACleanCloseRefusesOpen) {
  tamper_field(kOpenEvents, format::kRecStoreFlagsAt + 1);
  expect_open_refused_naming(frame(kOpenEvents).path, "an acknowledged last event was cut as a torn tail");
}

TEST_F(OpenTamperTest, ResealedFrameWhosePrevHashDoesNotLinkRefusesAFullScanOpen) {
  const uint64_t seq = event_in_sealed_segment();
  tamper_field(seq, format::kRecPrevHashAt);
  expect_open_refused_at(seq, kPrevHashBroken);
}

TEST_F(OpenTamperTest, ResealedFrameWithAWrongEventHashRefusesAFullScanOpen) {
  const uint64_t seq = event_in_sealed_segment();
  tamper_field(seq, format::kRecEventHashAt);
  expect_open_refused_at(seq, kEventHashBroken);
}

// A broken chain link is corruption in the newest segment too, whatever the manifest says.
TEST_F(OpenTamperTest, ResealedBrokenLinkOfTheLastEventRefusesOpenEvenWithoutACleanClose) {
  forget_clean_close();
  tamper_field(kOpenEvents, format::kRecPrevHashAt);
  expect_open_refused_at(kOpenEvents, kPrevHashBroken);
}

// The accelerators do not recompute chain links, but they checksum every byte they cover:
// a frame re-sealed after they were written makes open scan its segment, which names it.
TEST_F(OpenTamperTest, ResealedBrokenLinkAfterTheIndexCheckpointWasWrittenRefusesOpen) {
  StoreOptions with_checkpoint = options_;
  with_checkpoint.index_checkpoint = true;
  open_and_close(with_checkpoint);
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, with_checkpoint));
    ASSERT_EQ(store->open_report().index_source, IndexSource::kCheckpoint) << "the checkpoint path runs";
  }
  const uint64_t seq = event_in_sealed_segment();
  tamper_field(seq, format::kRecPrevHashAt);
  expect_open_refused_at(seq, kPrevHashBroken, with_checkpoint);
}

TEST_F(OpenTamperTest, ResealedBrokenLinkAfterTheSegmentFootersWereWrittenRefusesOpen) {
  StoreOptions with_footers = options_;
  with_footers.segment_footers = true;
  open_and_close(with_footers);
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, with_footers));
    ASSERT_EQ(store->open_report().segments_from_footers, paths_.size() - 1) << "the footer path runs";
  }
  const uint64_t seq = event_in_sealed_segment();
  tamper_field(seq, format::kRecPrevHashAt);
  expect_open_refused_at(seq, kPrevHashBroken, with_footers);
}

// ---- Stray files that look like segments ----

// How many zero bytes end the file.
uint64_t zero_bytes_at_the_end(const std::string& path) {
  const std::vector<uint8_t> data = read_file_bytes(path);
  const auto last_nonzero = std::find_if(data.rbegin(), data.rend(), [](uint8_t b) { return b != 0; });
  return static_cast<uint64_t>(last_nonzero - data.rbegin());
}

// A file with a segment's name whose header is not a segment header (bad magic).
std::string write_stray_segment(const std::string& dir, uint64_t segment_id) {
  const std::string path = segment::join_path(dir, segment::segment_file_name(segment_id));
  std::vector<uint8_t> junk(format::kSegmentHeaderBytes + 100, 0x5a);
  std::copy(std::begin(format::kSegmentMagic), std::end(format::kSegmentMagic), junk.begin());
  junk[0] ^= 0x20;  // "bATPAKSG".
  write_file_bytes(path, junk);
  return path;
}

// A file with a segment's name, after the last segment, makes that segment a sealed one. A
// clean close left the preallocated zeros after its data (a rotation would have cut them),
// so the open refuses with kCorruption at the end of its data, changing nothing.
TEST_F(OpenTamperTest, StraySegmentFileAfterThePreallocatedLastRefusesOpenAndLosesNoEvent) {
  ASSERT_GE(zero_bytes_at_the_end(paths_.back()), format::kFrameHeaderBytes) << "zeros follow the data";
  const std::string stray = write_stray_segment(dir_, paths_.size() + 1);
  const std::set<std::string> before = listing();
  const std::vector<uint8_t> newest_bytes = read_file_bytes(paths_.back());
  expect_open_refused_naming(paths_.back(), "a segment with zeros after its data was taken for a sealed one");
  auto refused = Store::open(dir_, options_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("no rotation recorded the segment files after it"), std::string::npos)
      << "the error does not point at the stray file: " << refused.error().to_string();
  EXPECT_EQ(listing(), before) << "a refused open added or removed a file";
  EXPECT_EQ(read_file_bytes(paths_.back()), newest_bytes) << "a refused open changed the last segment";
  std::filesystem::remove(stray);
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options_));
  EXPECT_EQ(expect_log_invariants(*store).size(), kOpenEvents);
}

class OpenTamperUnpreallocatedTest : public OpenTamperTest {
 protected:
  uint32_t preallocate_bytes() const override { return 0; }
};

// A stray file right after the last segment is, to open, a newest segment with a bad header:
// a rotation that a crash interrupted. Read-only opens report it as a torn tail at offset 0
// and change nothing; a read-write open saves its bytes beside it and starts it anew. No
// acknowledged event is lost either way.
TEST_F(OpenTamperUnpreallocatedTest, StraySegmentFileAfterTheLastIsATornRotationAndLosesNoEvent) {
  ASSERT_LT(zero_bytes_at_the_end(paths_.back()), format::kFrameAlign) << "no zeros follow the data";
  const std::string stray = write_stray_segment(dir_, paths_.size() + 1);
  const std::vector<uint8_t> stray_bytes = read_file_bytes(stray);
  const std::set<std::string> before = listing();
  for (AccessMode mode : {AccessMode::kReadOnly, AccessMode::kSalvage}) {
    StoreOptions options = options_;
    options.access = mode;
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options));
    EXPECT_TRUE(store->open_report().torn_tail);
    EXPECT_EQ(store->open_report().torn_tail_file, stray);
    EXPECT_EQ(store->open_report().torn_tail_offset, 0u);
    EXPECT_EQ(expect_log_invariants(*store).size(), kOpenEvents);
    EXPECT_FALSE(store->open_report().salvage_stopped_at.has_value());
  }
  EXPECT_EQ(listing(), before) << "a read-only open added or removed a file";
  EXPECT_EQ(read_file_bytes(stray), stray_bytes) << "a read-only open changed the stray file";

  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options_));
  const OpenReport& r = store->open_report();
  EXPECT_TRUE(r.torn_tail);
  EXPECT_EQ(r.torn_tail_file, stray);
  EXPECT_EQ(read_file_bytes(r.torn_tail_saved_as), stray_bytes) << "the stray bytes were not kept";
  EXPECT_EQ(expect_log_invariants(*store).size(), kOpenEvents);
  BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("e:1"), kKind, bytes("after the stray file")));
  EXPECT_EQ(next.global_sequence, kOpenEvents + 1);
  expect_verify_ok(*store, kOpenEvents + 1);
}

// Invariant: a stray segment file one number further leaves a gap: the open refuses with
// kCorruption naming the missing segment (docs/durability.md: gaps are checked before the
// scan), and removes nothing; without the stray file the store opens whole.
void OpenTamperTest::expect_gap_refused_naming_the_missing_segment() {
  const std::string stray = write_stray_segment(dir_, paths_.size() + 2);
  const std::string missing = segment::join_path(dir_, segment::segment_file_name(paths_.size() + 1));
  const std::set<std::string> before = listing();
  expect_open_refused_naming(missing, "a gap before a stray segment file went unnoticed");
  EXPECT_EQ(listing(), before) << "a refused open added or removed a file";
  std::filesystem::remove(stray);
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, options_));
  EXPECT_EQ(expect_log_invariants(*store).size(), kOpenEvents);
}

TEST_F(OpenTamperUnpreallocatedTest, StraySegmentFileAfterAGapRefusesOpenNamingTheMissingSegment) {
  ASSERT_LT(zero_bytes_at_the_end(paths_.back()), format::kFrameAlign) << "no zeros follow the data";
  expect_gap_refused_naming_the_missing_segment();
}

TEST_F(OpenTamperTest, StraySegmentFileAfterAGapBehindThePreallocatedLastRefusesOpenNamingTheMissingSegment) {
  ASSERT_GE(zero_bytes_at_the_end(paths_.back()), format::kFrameHeaderBytes) << "zeros follow the data";
  expect_gap_refused_naming_the_missing_segment();
}

}  // namespace
}  // namespace batpak::testing
