// Segment footers (docs/durability.md): written for each sealed segment, loaded at open
// instead of scanning its frames when they still describe it, and otherwise a scan of that
// segment whose reason the open report gives. Invariant proved throughout: a store opened
// with footers answers every read exactly as the same store opened by the full scan, and a
// damaged segment is caught at open whether or not it has a footer.
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "index/segment_footer.hpp"
#include "store/reopen_fixtures.hpp"
#include "store/store_fixtures.hpp"
#include "support/fault_fs.hpp"
#include "support/file_bytes.hpp"
#include "support/store_invariants.hpp"
#include "util/bytes.hpp"

namespace batpak::store_test {
namespace {

namespace fs = std::filesystem;

StoreOptions no_checkpoint() { return small_segments(/*checkpoint=*/false); }

class SegmentFooterTest : public ::testing::Test {
 protected:
  fs::path footer_of(uint64_t segment_id) const {
    return fs::path(dir_) / index::segment_footer_file_name(segment_id);
  }
  // The rows all footer files hold.
  uint64_t rows_in_footers() const {
    uint64_t n = 0;
    for (uint64_t id = 1; id <= segment_files(dir_).size(); ++id) {
      if (!fs::exists(footer_of(id))) continue;
      auto footer = index::decode_segment_footer(testing::read_file_bytes(footer_of(id).string()));
      EXPECT_TRUE(footer.has_value());
      if (footer) n += footer->rows.size();
    }
    return n;
  }
  size_t footer_count() const {
    size_t n = 0;
    for (uint64_t id = 1; id <= segment_files(dir_).size(); ++id) n += fs::exists(footer_of(id)) ? 1 : 0;
    return n;
  }

  // A closed store of `count` events over several segments, without an index checkpoint.
  void build(int count) {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, no_checkpoint()));
    append_events(*store, 0, count);
    BATPAK_ASSERT_OK(store->close());
  }

  // Opens `dir` read-only with footers and a copy of it by the full scan, checks that both
  // answer alike and that verify() finds nothing wrong, and returns the first open's report.
  OpenReport open_and_compare_with_full_scan(const std::string& dir, StoreOptions o = no_checkpoint()) {
    const std::string copy = tmp_.sub("copy-" + std::to_string(++copies_));
    fs::copy(dir, copy, fs::copy_options::recursive);
    auto loaded = Store::open(dir, read_only(o));
    auto scanned = Store::open(copy, read_only(without_footers(small_segments(false))));
    EXPECT_TRUE(loaded.has_value()) << loaded.error().to_string();
    EXPECT_TRUE(scanned.has_value()) << scanned.error().to_string();
    if (!loaded || !scanned) return {};
    EXPECT_EQ((*scanned)->open_report().segments_from_footers, 0u);
    expect_same_answers(**loaded, **scanned);
    auto verified = (*loaded)->verify();
    EXPECT_TRUE(verified.has_value() && verified->ok());
    return (*loaded)->open_report();
  }

  testing::TempDir tmp_;
  std::string dir_ = tmp_.sub("store");
  int copies_ = 0;
};

TEST_F(SegmentFooterTest, EverySealedSegmentGetsAFooterThatTheNextOpenLoadsInsteadOfScanning) {
  build(80);
  const size_t segments = segment_files(dir_).size();
  ASSERT_GE(segments, 4u);
  EXPECT_EQ(footer_count(), segments - 1) << "every segment but the newest, which stays open for appends";
  EXPECT_FALSE(fs::exists(footer_of(segments)));
  const OpenReport r = open_and_compare_with_full_scan(dir_);
  EXPECT_EQ(r.index_source, IndexSource::kFullScan);
  EXPECT_EQ(r.segments_from_footers, segments - 1);
  EXPECT_TRUE(r.segment_footer_fallbacks.empty());
  EXPECT_EQ(r.events_recovered, 100u);  // 80 commits, 20 of them batches of two.
  EXPECT_GT(r.frames_scanned, 0u);
  EXPECT_EQ(r.frames_scanned, 100u - rows_in_footers()) << "only the newest segment is scanned";
}

// Invariant: the heads a footer loads are the ones the chain continues from, so events
// appended after a footer open link correctly, as the full scan then checks.
TEST_F(SegmentFooterTest, AppendsAfterAnOpenFromFootersContinueEveryChain) {
  build(60);
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, no_checkpoint()));
    ASSERT_GE(store->open_report().segments_from_footers, 2u);
    append_events(*store, 60, 60);
    BATPAK_ASSERT_OK(store->close());
  }
  const OpenReport r = open_and_compare_with_full_scan(dir_);
  EXPECT_EQ(r.events_recovered, 150u);
  EXPECT_EQ(r.segments_from_footers, segment_files(dir_).size() - 1);
}

// Invariant: a footer never hides damage. Its segment's bytes are checksummed at open, so a
// flipped byte anywhere in a sealed segment makes the footer unusable and the scan then
// refuses the store, as it would without footers.
TEST_F(SegmentFooterTest, AByteFlippedInASegmentWithAFooterIsStillCaughtAtOpen) {
  build(60);
  const std::string segment = (fs::path(dir_) / segment_files(dir_)[1]).string();
  ASSERT_FALSE(testing::read_file_bytes(segment).empty());
  std::vector<uint8_t> bytes = testing::read_file_bytes(segment);
  for (size_t at : {size_t{70}, bytes.size() / 2, bytes.size() - 1}) {
    std::vector<uint8_t> damaged = bytes;
    damaged[at] ^= 0x01;
    testing::write_file_bytes(segment, damaged);
    auto opened = Store::open(dir_, read_only(no_checkpoint()));
    ASSERT_FALSE(opened.has_value()) << "offset " << at;
    EXPECT_EQ(opened.error().code, ErrorCode::kCorruption);
    StoreOptions salvage = no_checkpoint();
    salvage.access = AccessMode::kSalvage;
    BATPAK_ASSERT_OK_AND_ASSIGN(salvaged, Store::open(dir_, salvage));
    ASSERT_FALSE(salvaged->open_report().segment_footer_fallbacks.empty());
    EXPECT_NE(salvaged->open_report().segment_footer_fallbacks[0].find("segment 2: the segment differs"),
              std::string::npos)
        << salvaged->open_report().segment_footer_fallbacks[0];
  }
  testing::write_file_bytes(segment, bytes);
  EXPECT_EQ(open_and_compare_with_full_scan(dir_).segments_from_footers, segment_files(dir_).size() - 1);
}

// A footer that is damaged, missing, or another segment's is not used: that segment is
// scanned, the report says why, and the next read-write session writes it again.
TEST_F(SegmentFooterTest, ABadFooterIsScannedAroundWithItsReasonAndRewritten) {
  build(60);
  const size_t segments = segment_files(dir_).size();
  const std::vector<uint8_t> first = testing::read_file_bytes(footer_of(1).string());
  const std::vector<uint8_t> second = testing::read_file_bytes(footer_of(2).string());
  struct Case {
    const char* what;
    std::function<void()> damage;
    const char* reason;
  };
  const Case cases[] = {
      {"flipped byte", [&] { auto b = second; b[b.size() / 2] ^= 1; testing::write_file_bytes(footer_of(2).string(), b); },
       "checksum mismatch"},
      {"truncated", [&] { testing::write_file_bytes(footer_of(2).string(), {second.begin(), second.begin() + 40}); },
       "truncated"},
      {"missing", [&] { fs::remove(footer_of(2)); }, "no footer"},
      {"another segment's", [&] { testing::write_file_bytes(footer_of(2).string(), first); }, "another segment's"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    c.damage();
    const OpenReport r = open_and_compare_with_full_scan(dir_);
    EXPECT_EQ(r.segments_from_footers, segments - 2);
    ASSERT_EQ(r.segment_footer_fallbacks.size(), 1u);
    EXPECT_NE(r.segment_footer_fallbacks[0].find("segment 2: "), std::string::npos) << r.segment_footer_fallbacks[0];
    EXPECT_NE(r.segment_footer_fallbacks[0].find(c.reason), std::string::npos) << r.segment_footer_fallbacks[0];
    {
      BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, no_checkpoint()));
      BATPAK_ASSERT_OK(store->close());  // Writes the footer open found bad.
    }
    EXPECT_EQ(testing::read_file_bytes(footer_of(2).string()), second);
    EXPECT_EQ(open_and_compare_with_full_scan(dir_).segments_from_footers, segments - 1);
  }
}

// A segment holding events of a cancelled fence gets no footer (its hidden events are not
// index rows), and is scanned; the segments around it still use theirs.
TEST_F(SegmentFooterTest, ASegmentWithHiddenEventsIsScannedAndTheOthersUseTheirFooters) {
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, no_checkpoint()));
    append_events(*store, 0, 40);
    BATPAK_ASSERT_OK_AND_ASSIGN(fence, store->begin_fence());
    BATPAK_ASSERT_OK(fence.append(coord("order:1"), kKindA, bytes("hidden")));
    BATPAK_ASSERT_OK(fence.cancel());
    append_events(*store, 40, 100);
    BATPAK_ASSERT_OK(store->close());
  }
  const size_t segments = segment_files(dir_).size();
  ASSERT_GE(segments, 4u);
  EXPECT_EQ(footer_count(), segments - 2);
  const OpenReport r = open_and_compare_with_full_scan(dir_);
  EXPECT_EQ(r.segments_from_footers, segments - 2);
  ASSERT_EQ(r.segment_footer_fallbacks.size(), 1u);
  EXPECT_NE(r.segment_footer_fallbacks[0].find("no footer"), std::string::npos);
}

// Footers are kept only for sealed segments the index checkpoint does not cover: a store
// closed with its checkpoint (which covers every sealed segment) keeps none, so the rows
// are not stored twice.
TEST_F(SegmentFooterTest, ACheckpointRemovesTheFootersOfTheSegmentsItCovers) {
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, small_segments()));
    append_events(*store, 0, 80);
    BATPAK_ASSERT_OK(store->close());
  }
  ASSERT_GE(segment_files(dir_).size(), 4u);
  EXPECT_EQ(footer_count(), 0u);
  const OpenReport r = open_and_compare_with_full_scan(dir_, small_segments());
  EXPECT_EQ(r.index_source, IndexSource::kCheckpoint) << r.index_source_reason;
  EXPECT_TRUE(r.segment_footer_fallbacks.empty());
}

// Crash safety: footers are written with sync, rename and a directory sync, after their
// segment was sealed. An image of a store taken while it appends (every append returned
// durable) opens from the background checkpoint, the footers of the sealed segments after
// it, and a scan of the newest segment only.
TEST_F(SegmentFooterTest, ACrashImageOpensFromTheBackgroundCheckpointAndTheFootersAfterIt) {
  StoreOptions o = small_segments();
  o.index_checkpoint_every_events = 100;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir_, o));
  append_events(*store, 0, 80);  // 100 events (every fourth call appends two): one checkpoint is due.
  ASSERT_EQ(testing::wait_for_background_checkpoints(*store, 1), 1u);
  // The next checkpoint is due at twice the rows this one covers, 200 events or more. Below
  // that, append until a whole segment after the checkpoint is sealed, so that the background
  // thread, however late it runs, leaves sealed segments that only footers describe.
  const uint64_t segments_at_checkpoint = store->stats().segment_count;
  for (int i = 80; i < 160 && store->stats().segment_count < segments_at_checkpoint + 2; ++i) {
    append_events(*store, i, 1);
  }
  ASSERT_GE(store->stats().segment_count, segments_at_checkpoint + 2) << "two segments were not sealed";
  const uint64_t events = store->stats().event_count;
  ASSERT_LT(events, 200u) << "a second checkpoint may have fallen due";
  // Segments 1..covered-1 are covered by the checkpoint; the footers of the sealed ones
  // from `covered` on are written in the background.
  auto covered = [&] {
    return util::load_le<uint32_t>(testing::read_file_bytes((fs::path(dir_) / "index.checkpoint").string()).data() + 24);
  };
  const size_t sealed = segment_files(dir_).size() - 1;
  auto footers_as_expected = [&] {
    for (uint64_t id = 1; id <= sealed; ++id) {
      if (fs::exists(footer_of(id)) != (id >= covered())) return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!footers_as_expected() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(footers_as_expected()) << "checkpoint covers " << covered() << " of " << sealed + 1 << " segments";
  ASSERT_LT(covered(), sealed) << "some sealed segment is after the checkpoint";
  const std::string image = tmp_.sub("crash-image");
  fs::copy(dir_, image, fs::copy_options::recursive);
  const OpenReport r = open_and_compare_with_full_scan(image, small_segments());
  EXPECT_EQ(r.events_recovered, events);
  EXPECT_EQ(store->stats().index_checkpoints_written, 1u) << "the image holds the only checkpoint";
  EXPECT_EQ(r.index_source, IndexSource::kCheckpoint) << r.index_source_reason;
  EXPECT_EQ(r.segments_from_footers, sealed - covered());
  EXPECT_TRUE(r.segment_footer_fallbacks.empty());
  BATPAK_ASSERT_OK(store->close());
}

// Crash safety of the footer write itself: a store whose footers are gone writes them all at
// close (no append wakes the background thread). A crash at each of those syncs, keeping
// none, all or a torn part of what was not yet synced, leaves a store that opens with every
// event, each footer either loaded or scanned around.
TEST_F(SegmentFooterTest, ACrashAtEverySyncOfTheFooterWritesLosesNothing) {
  build(60);
  for (uint64_t id = 1; id <= segment_files(dir_).size(); ++id) fs::remove(footer_of(id));
  const std::string pristine = tmp_.sub("pristine");
  fs::copy(dir_, pristine, fs::copy_options::recursive);
  auto options_on = [](std::shared_ptr<Fs> fs) {
    StoreOptions o = no_checkpoint();
    o.fs = std::move(fs);
    return o;
  };
  uint64_t close_syncs = 0;
  {
    const std::string dry = tmp_.sub("dry");
    fs::copy(pristine, dry, fs::copy_options::recursive);
    auto fault = std::make_shared<testing::FaultFs>();
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dry, options_on(fault)));
    const uint64_t before = fault->syncs();
    BATPAK_ASSERT_OK(store->close());
    close_syncs = fault->syncs() - before;
    ASSERT_GE(close_syncs, segment_files(dry).size() - 1) << "a footer per sealed segment";
  }
  int opens_with_footers = 0;
  int opens_with_fallbacks = 0;
  for (uint64_t k = 1; k <= close_syncs; ++k) {
    for (int kept = 0; kept < 3; ++kept) {
      SCOPED_TRACE("crash at sync " + std::to_string(k) + ", kept mode " + std::to_string(kept));
      const std::string dir = tmp_.sub("sync-" + std::to_string(k) + "-" + std::to_string(kept));
      fs::copy(pristine, dir, fs::copy_options::recursive);
      {
        auto fault = std::make_shared<testing::FaultFs>();
        BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, options_on(fault)));
        fault->set_freeze_on_fault(true);
        fault->fail_nth_sync(k);
        (void)store->close();
        ASSERT_TRUE(fault->frozen());
        const auto pending = fault->pending();
        const size_t keep = kept == 0 ? 0 : pending.size() - (kept == 2 && !pending.empty() ? 1 : 0);
        const uint64_t prefix = kept == 2 && !pending.empty() ? pending.back().bytes / 2 : 0;
        BATPAK_ASSERT_OK(fault->crash(keep, prefix));
      }
      const OpenReport r = open_and_compare_with_full_scan(dir);
      EXPECT_EQ(r.events_recovered, 75u);
      EXPECT_EQ(r.segments_from_footers + r.segment_footer_fallbacks.size(), segment_files(dir).size() - 1);
      opens_with_footers += r.segments_from_footers > 0 ? 1 : 0;
      opens_with_fallbacks += r.segment_footer_fallbacks.empty() ? 0 : 1;
      if (HasFailure()) return;
    }
  }
  EXPECT_GT(opens_with_footers, 0) << "some crashes kept a footer";
  EXPECT_GT(opens_with_fallbacks, 0) << "some crashes lost one";
}

}  // namespace
}  // namespace batpak::store_test
