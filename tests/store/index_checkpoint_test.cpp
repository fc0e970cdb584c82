// The index checkpoint (docs/durability.md): written at close, loaded at open when it still
// describes the files, and otherwise a fallback to the full scan whose reason the open
// report gives. Invariant proved throughout: a store opened from a checkpoint answers every
// read exactly as the same store opened by the full scan.
#include <sys/stat.h>

#include <filesystem>

#include "store/reopen_fixtures.hpp"
#include "store/store_fixtures.hpp"
#include "support/file_bytes.hpp"
#include "support/store_invariants.hpp"
#include "util/bytes.hpp"
#include "util/hash.hpp"

namespace batpak::store_test {
namespace {

namespace fs = std::filesystem;

std::vector<uint8_t> read_all(const fs::path& path) { return testing::read_file_bytes(path.string()); }
void write_all(const fs::path& path, const std::vector<uint8_t>& data) { testing::write_file_bytes(path.string(), data); }

class IndexCheckpointTest : public ::testing::Test {
 protected:
  fs::path checkpoint_file() const { return fs::path(dir_) / "index.checkpoint"; }

  // Opens the store read-only as it is (checkpoint allowed) and a copy of it without its
  // checkpoint (so by the full scan), checks that both answer alike and that verify() finds
  // nothing wrong, and returns the first open's report.
  OpenReport open_and_compare_with_full_scan() { return open_and_compare_with_full_scan(dir_); }
  OpenReport open_and_compare_with_full_scan(const std::string& dir) {
    const std::string copy = tmp_.sub("copy-" + std::to_string(++copies_));
    fs::copy(dir, copy, fs::copy_options::recursive);
    fs::remove(fs::path(copy) / "index.checkpoint");
    auto loaded = Store::open(dir, read_only(small_segments()));
    auto scanned = Store::open(copy, read_only(without_footers(small_segments())));
    EXPECT_TRUE(loaded.has_value() && scanned.has_value());
    if (!loaded || !scanned) return {};
    EXPECT_EQ((*scanned)->open_report().index_source, IndexSource::kFullScan);
    EXPECT_EQ((*scanned)->open_report().index_source_reason, "no index checkpoint");
    expect_same_answers(**loaded, **scanned);
    auto verified = (*loaded)->verify();
    EXPECT_TRUE(verified.has_value() && verified->ok());
    return (*loaded)->open_report();
  }

  // A closed store of `count` events over several segments.
  void build(int count, bool checkpoint = true) {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments(checkpoint)));
    append_events(*store, 0, count);
    BATPAK_ASSERT_OK(store->close());
  }

  testing::TempDir tmp_;
  std::string dir_ = tmp_.sub("store");
  int copies_ = 0;
};

TEST_F(IndexCheckpointTest, CloseWritesACheckpointThatTheNextOpenLoadsInsteadOfScanning) {
  build(60);
  ASSERT_TRUE(fs::exists(checkpoint_file()));
  ASSERT_GE(segment_files(dir_).size(), 3u);
  const OpenReport r = open_and_compare_with_full_scan();
  EXPECT_EQ(r.index_source, IndexSource::kCheckpoint) << r.index_source_reason;
  EXPECT_EQ(r.frames_scanned, 0u);
  EXPECT_EQ(r.events_recovered, 75u);  // 60 commits, 15 of them batches of two.
  EXPECT_EQ(r.segments, segment_files(dir_).size());
}

// Invariant: frames after the checkpoint's end (appended by a later session that never
// closed) are scanned and chain-checked from the entity heads the checkpoint gave.
TEST_F(IndexCheckpointTest, FramesAfterTheCheckpointAreScannedAndChainChecked) {
  build(40);
  // Without footers: the background footer of a segment sealed during the appends would race
  // the copy below (a file renamed away while it is copied, or frames not scanned).
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, without_footers(small_segments())));
  EXPECT_EQ(store->open_report().index_source, IndexSource::kCheckpoint);
  append_events(*store, 40, 30);  // Rotates into new segments too.
  // A copy taken while the store is open: what a crash (kSync: all durable) would leave.
  const std::string crashed = tmp_.sub("crashed");
  fs::copy(dir_, crashed, fs::copy_options::recursive);
  BATPAK_ASSERT_OK(store->close());
  dir_ = crashed;
  const OpenReport r = open_and_compare_with_full_scan();
  EXPECT_EQ(r.index_source, IndexSource::kCheckpoint) << r.index_source_reason;
  EXPECT_EQ(r.frames_scanned, 37u);  // 30 commits, 7 of them batches of two.
  EXPECT_EQ(r.events_recovered, 50u + 37u);
}

TEST_F(IndexCheckpointTest, AppendsAfterALoadedCheckpointContinueEveryChain) {
  build(30);
  for (int session = 0; session < 3; ++session) {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
    EXPECT_EQ(store->open_report().index_source, IndexSource::kCheckpoint) << store->open_report().index_source_reason;
    EXPECT_EQ(store->open_report().frames_scanned, 0u);
    append_events(*store, 30 + 20 * session, 20);
    BATPAK_ASSERT_OK(store->close());
  }
  const OpenReport r = open_and_compare_with_full_scan();
  EXPECT_EQ(r.index_source, IndexSource::kCheckpoint);
  EXPECT_EQ(r.events_recovered, 112u);  // 90 commits, 22 of them batches of two.
}

// A close after an open that loaded the checkpoint and changed nothing keeps the file (no
// rewrite of a large file on every open and close); a close after an append replaces it
// (written to a temporary file and renamed over it: a new inode).
TEST_F(IndexCheckpointTest, ACloseRewritesTheCheckpointOnlyWhenTheIndexChanged) {
  build(20);
  auto inode = [&] {
    struct stat st {};
    EXPECT_EQ(::stat(checkpoint_file().c_str(), &st), 0);
    return st.st_ino;
  };
  const auto written = inode();
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
    EXPECT_EQ(store->open_report().index_source, IndexSource::kCheckpoint);
    BATPAK_ASSERT_OK(store->close());
  }
  EXPECT_EQ(inode(), written) << "an unchanged index was written again";
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
    append_events(*store, 20, 1);
    BATPAK_ASSERT_OK(store->close());
  }
  EXPECT_NE(inode(), written) << "the checkpoint was not rewritten after an append";
  EXPECT_EQ(open_report_of(dir_, read_only(small_segments())).frames_scanned, 0u);
}

TEST_F(IndexCheckpointTest, ACancelledFenceStaysHiddenThroughTheCheckpoint) {
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
    append_events(*store, 0, 10);
    BATPAK_ASSERT_OK_AND_ASSIGN(fence, store->begin_fence());
    for (int i = 0; i < 3; ++i) BATPAK_ASSERT_OK(fence.append(coord("order:1"), kKindA, bytes("hidden")));
    BATPAK_ASSERT_OK(fence.cancel());
    append_events(*store, 10, 5);
    BATPAK_ASSERT_OK(store->close());
  }
  const OpenReport r = open_and_compare_with_full_scan();
  EXPECT_EQ(r.index_source, IndexSource::kCheckpoint) << r.index_source_reason;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, read_only(small_segments())));
  EXPECT_EQ(store->stats().event_count, 18u);  // 15 commits, 3 of them batches; the fenced three hidden.
  EXPECT_EQ(store->stats().last_global_sequence, 21u);
}

TEST_F(IndexCheckpointTest, TurnedOffNoCheckpointIsWrittenAndOpenAlwaysScans) {
  build(20, /*checkpoint=*/false);
  EXPECT_FALSE(fs::exists(checkpoint_file()));
  const OpenReport r = open_report_of(dir_, read_only(small_segments(false)));
  EXPECT_EQ(r.index_source, IndexSource::kFullScan);
  EXPECT_NE(r.index_source_reason.find("off"), std::string::npos) << r.index_source_reason;
  EXPECT_EQ(r.frames_scanned, 25u);
}

// Invariant: any damage to the checkpoint file is caught before it is used: every byte
// flip and every truncation falls back to the full scan, which returns the whole log.
TEST_F(IndexCheckpointTest, EveryByteFlipOrTruncationOfTheCheckpointFallsBackToTheFullScan) {
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
    append_events(*store, 0, 8);
    BATPAK_ASSERT_OK_AND_ASSIGN(fence, store->begin_fence());
    BATPAK_ASSERT_OK(fence.append(coord("order:1"), kKindA, bytes("hidden")));
    BATPAK_ASSERT_OK(fence.cancel());  // The file holds a hidden range too.
    append_events(*store, 8, 2);
    BATPAK_ASSERT_OK(store->close());
  }
  const std::vector<uint8_t> pristine = read_all(checkpoint_file());
  ASSERT_GT(pristine.size(), 100u);
  uint64_t cases = 0;
  uint64_t fell_back = 0;
  auto expect_fallback = [&](const std::string& what) {
    SCOPED_TRACE(what);
    ++cases;
    const OpenReport r = open_report_of(dir_, read_only(small_segments()));
    EXPECT_EQ(r.index_source, IndexSource::kFullScan);
    EXPECT_FALSE(r.index_source_reason.empty());
    EXPECT_EQ(r.events_recovered, 12u);
    if (r.index_source == IndexSource::kFullScan && r.events_recovered == 12u) ++fell_back;
  };
  for (size_t pos = 0; pos < pristine.size(); ++pos) {
    std::vector<uint8_t> damaged = pristine;
    damaged[pos] ^= static_cast<uint8_t>(1u << (pos % 8));
    write_all(checkpoint_file(), damaged);
    expect_fallback("byte " + std::to_string(pos));
    if (HasFailure()) return;
  }
  for (size_t len : {size_t{0}, size_t{7}, size_t{55}, pristine.size() / 2, pristine.size() - 1}) {
    write_all(checkpoint_file(), std::vector<uint8_t>(pristine.begin(), pristine.begin() + static_cast<long>(len)));
    expect_fallback("truncated to " + std::to_string(len));
  }
  std::printf("checkpoint damage cases: %llu, fell back to the full scan: %llu\n",
              static_cast<unsigned long long>(cases), static_cast<unsigned long long>(fell_back));
  EXPECT_EQ(fell_back, cases);
  write_all(checkpoint_file(), pristine);
  EXPECT_EQ(open_report_of(dir_, read_only(small_segments())).index_source, IndexSource::kCheckpoint);
}

// A store that never closes (a crash) still opens from the checkpoint written in the
// background, scanning only the frames after it, and answers as a full scan would.
TEST_F(IndexCheckpointTest, APeriodicCheckpointLetsACrashedStoreScanOnlyWhatCameAfterIt) {
  StoreOptions o = without_footers(small_segments());  // No footer written meanwhile: see above.
  o.index_checkpoint_every_events = 100;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, o));
  for (int i = 0; i < 120; ++i) {
    BATPAK_ASSERT_OK(store->append(coord("order:" + std::to_string(i % 7)), kKindA, bytes("p" + std::to_string(i))));
  }
  ASSERT_EQ(testing::wait_for_background_checkpoints(*store, 1), 1u);
  const uint64_t covered_rows = util::load_le<uint64_t>(read_all(checkpoint_file()).data() + 16);
  ASSERT_GE(covered_rows, 100u);
  // The next one is due only after max(100, covered_rows) more events: these 30 stay after it.
  for (int i = 120; i < 150; ++i) {
    BATPAK_ASSERT_OK(store->append(coord("order:" + std::to_string(i % 7)), kKindB, bytes("q" + std::to_string(i))));
  }
  EXPECT_EQ(store->stats().index_checkpoints_written, 1u);
  // Every append returned durable and nothing is being written: a copy now is a crash image.
  const std::string image = tmp_.sub("crash-image");
  fs::copy(dir_, image, fs::copy_options::recursive);
  const OpenReport r = open_and_compare_with_full_scan(image);
  EXPECT_EQ(r.index_source, IndexSource::kCheckpoint) << r.index_source_reason;
  EXPECT_EQ(r.frames_scanned, 150u - covered_rows);
  EXPECT_EQ(r.events_recovered, 150u);
  BATPAK_ASSERT_OK(store->close());
  EXPECT_EQ(util::load_le<uint64_t>(read_all(checkpoint_file()).data() + 16), 150u) << "close covers everything";
}

// docs/format.md: a covered segment's checksum is XXH3-64 over 4 MiB chunks, each seeded
// with the previous chunk's value. Computed here from the file with one-shot calls, against
// what the close wrote (streamed through a smaller buffer), for a segment of several chunks.
TEST_F(IndexCheckpointTest, ACoveredSegmentChecksumIsChainedXxh3Of4MiBChunks) {
  StoreOptions o;
  o.durability = Durability::kBuffered;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, o));
    std::vector<BatchItem> batch(500, BatchItem{coord("order:1"), kKindA, std::vector<uint8_t>(1000, 'x'), {}});
    for (int i = 0; i < 20; ++i) BATPAK_ASSERT_OK(store->append_batch(batch));
    BATPAK_ASSERT_OK(store->close());
  }
  const std::vector<uint8_t> checkpoint = read_all(checkpoint_file());
  ASSERT_EQ(util::load_le<uint32_t>(checkpoint.data() + 24), 1u) << "one covered segment";
  const uint64_t covered_end = util::load_le<uint64_t>(checkpoint.data() + 64 + 8);
  const std::vector<uint8_t> segment = read_all(fs::path(dir_) / "000000000001.seg");
  ASSERT_GT(covered_end, uint64_t{8} << 20) << "at least three chunks";
  ASSERT_LE(covered_end, segment.size());
  uint64_t expected = 0;
  for (uint64_t at = 0; at < covered_end; at += uint64_t{4} << 20) {
    const auto len = static_cast<size_t>(std::min<uint64_t>(uint64_t{4} << 20, covered_end - at));
    expected = util::checksum64(std::span<const uint8_t>(segment).subspan(at, len), expected);
  }
  EXPECT_EQ(util::load_le<uint64_t>(checkpoint.data() + 64 + 16), expected);
}

// The checkpoint file rewritten to claim `version`, with a matching checksum.
void rewrite_checkpoint_version(const std::string& path, uint32_t version) {
  std::vector<uint8_t> bytes = read_all(path);
  util::store_le<uint32_t>(bytes.data() + 8, version);
  const size_t checksum_at = bytes.size() - 8;
  util::store_le<uint64_t>(bytes.data() + checksum_at,
                           util::checksum64(std::span<const uint8_t>(bytes).first(checksum_at)));
  write_all(path, bytes);
}

TEST_F(IndexCheckpointTest, ANewerCheckpointVersionIsNotReadAndSaysSo) {
  build(10);
  rewrite_checkpoint_version(checkpoint_file(), 4);
  const OpenReport r = open_report_of(dir_, read_only(small_segments()));
  EXPECT_EQ(r.index_source, IndexSource::kFullScan);
  EXPECT_NE(r.index_source_reason.find("newer"), std::string::npos) << r.index_source_reason;
  EXPECT_EQ(r.events_recovered, 12u);
}

// Versions 1 (92-byte rows with every event hash) and 2 (no history horizon) are not read:
// the open scans, and the close writes the current version, which the next open loads.
TEST_F(IndexCheckpointTest, AnOlderCheckpointVersionIsReplacedByTheNextClose) {
  build(10);
  for (uint32_t version : {1u, 2u}) {
    rewrite_checkpoint_version(checkpoint_file(), version);
    {
      BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
      EXPECT_EQ(store->open_report().index_source, IndexSource::kFullScan);
      EXPECT_NE(store->open_report().index_source_reason.find("older"), std::string::npos)
          << store->open_report().index_source_reason;
      BATPAK_ASSERT_OK(store->close());
    }
    const OpenReport r = open_report_of(dir_, read_only(small_segments()));
    EXPECT_EQ(r.index_source, IndexSource::kCheckpoint) << r.index_source_reason;
    EXPECT_EQ(r.events_recovered, 12u);
  }
}

TEST_F(IndexCheckpointTest, TheCheckpointOfAnotherStoreIsNotUsed) {
  build(30);
  const std::string other = tmp_.sub("other");
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(other, small_segments()));
    append_events(*store, 0, 30);  // Same shape, other event ids and times.
    BATPAK_ASSERT_OK(store->close());
  }
  fs::copy_file(fs::path(other) / "index.checkpoint", checkpoint_file(), fs::copy_options::overwrite_existing);
  const OpenReport r = open_and_compare_with_full_scan();
  EXPECT_EQ(r.index_source, IndexSource::kFullScan);
  EXPECT_NE(r.index_source_reason.find("differs"), std::string::npos) << r.index_source_reason;
}

// Invariant: open still notices damage to bytes the checkpoint covers (it checksums them),
// and refuses exactly as the full scan does.
TEST_F(IndexCheckpointTest, DamageToCoveredSegmentBytesIsStillRefusedAtOpen) {
  build(60);
  const std::string sealed = (fs::path(dir_) / segment_files(dir_).at(1)).string();
  std::vector<uint8_t> data = read_all(sealed);
  data[data.size() / 2] ^= 0x10;
  write_all(sealed, data);
  auto store = Store::open(dir_, read_only(small_segments()));
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << store.error().to_string();
  EXPECT_EQ(store.error().file, sealed);
}

// The end of the newest segment's frames (the zeros preallocated after them excluded).
uint64_t data_end_of(const std::vector<uint8_t>& segment) {
  uint64_t end = segment.size();
  while (end > 0 && segment[end - 1] == 0) --end;
  return util::align8(end);
}

// Invariant: a torn write right after the checkpoint's end is still found and cut: a frame
// header there is read by the scan from the checkpoint; anything else sends open back to
// the full scan, which classifies it.
TEST_F(IndexCheckpointTest, ATornWriteAfterTheCheckpointIsStillCut) {
  build(20);
  const std::string newest = (fs::path(dir_) / segment_files(dir_).back()).string();
  const std::vector<uint8_t> pristine = read_all(newest);
  const uint64_t end = data_end_of(pristine);
  for (bool with_magic : {true, false}) {
    SCOPED_TRACE(with_magic ? "a frame header with a bad checksum" : "bytes without a frame magic");
    std::vector<uint8_t> torn = pristine;
    torn.resize(std::max<size_t>(torn.size(), end + 64));
    std::fill(torn.begin() + static_cast<long>(end), torn.begin() + static_cast<long>(end + 64), uint8_t{0xAB});
    if (with_magic) {
      util::store_le<uint32_t>(torn.data() + end + 8, 0x4B505442);  // "BTPK"
      util::store_le<uint32_t>(torn.data() + end + 12, 300);
    }
    write_all(newest, torn);
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
    const OpenReport& r = store->open_report();
    EXPECT_EQ(r.index_source, with_magic ? IndexSource::kCheckpoint : IndexSource::kFullScan) << r.index_source_reason;
    EXPECT_TRUE(r.torn_tail);
    EXPECT_EQ(r.torn_tail_offset, end);
    EXPECT_EQ(r.events_recovered, 25u);
    BATPAK_ASSERT_OK(store->close());
    write_all(newest, pristine);
    for (const auto& entry : fs::directory_iterator(dir_)) {
      if (entry.path().string().find(".torn-") != std::string::npos) fs::remove(entry.path());
    }
  }
}

}  // namespace
}  // namespace batpak::store_test
