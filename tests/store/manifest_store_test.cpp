// The manifest through the public API. Invariants proved here: the manifest always names the
// newest segment; when the newest segment files are gone, open refuses with kCorruption
// naming the first missing file, whichever way the index loads and in every access mode, and
// writes nothing; salvage opens the segments left and reports the missing ones; a damaged
// manifest refuses to open; a store without a manifest, or with one a crash left behind,
// opens and a read-write open brings it up to date; a backup carries its own manifest. After
// a clean close, the newest segment ending before the data end the close recorded is
// kCorruption, not a torn tail, while a torn write after that end still is one.
#include <filesystem>
#include <fstream>

#include "segment/manifest.hpp"
#include "segment/segment_files.hpp"
#include "store/store_fixtures.hpp"

namespace batpak::store_test {
namespace {

namespace fs = std::filesystem;

constexpr int kEvents = 60;

StoreOptions small_segments() {
  StoreOptions options;
  options.segment_bytes_max = 4096;  // About 13 events of 200 bytes per segment.
  return options;
}

// Without the index checkpoint and footers: open reads every frame.
StoreOptions full_scan() {
  StoreOptions options = small_segments();
  options.index_checkpoint = false;
  options.segment_footers = false;
  return options;
}

// The newest segment id the manifest of `dir` names.
std::optional<uint64_t> manifest_of(const std::string& dir) {
  auto recorded = segment::read_manifest(*posix_fs(), dir);
  EXPECT_TRUE(recorded) << recorded.error().to_string();
  if (!recorded || !*recorded) return std::nullopt;
  return (*recorded)->newest_segment_id;
}

// Every file name in `dir`, sorted, with their sizes.
std::vector<std::pair<std::string, uintmax_t>> listing(const std::string& dir) {
  std::vector<std::pair<std::string, uintmax_t>> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) out.emplace_back(entry.path().filename().string(), entry.file_size());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ManifestTest : public StoreTest {
 protected:
  // A closed store of kEvents events over several segments; returns its segment count.
  size_t make_store(const StoreOptions& options = small_segments()) {
    auto store = open(options);
    if (!store) return 0;
    for (int i = 0; i < kEvents; ++i) {
      auto r = store->append(coord("e" + std::to_string(i % 3)), kKindA, bytes(std::string(200, 'x')));
      EXPECT_TRUE(r) << r.error().to_string();
    }
    EXPECT_TRUE(store->close());
    return segment_files(dir()).size();
  }

  std::string segment_path(uint64_t id) const { return dir() + "/" + segment::segment_file_name(id); }

  // Events a store opened with `options` holds.
  uint64_t events_in(const StoreOptions& options) {
    auto store = Store::open(dir(), options);
    EXPECT_TRUE(store) << store.error().to_string();
    return store ? (*store)->stats().event_count : 0;
  }
};

TEST_F(ManifestTest, TheManifestNamesTheNewestSegmentAfterEveryRotation) {
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  EXPECT_EQ(manifest_of(dir()), 1u) << "a new store's first segment";
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(store->append(coord("e"), kKindA, bytes(std::string(200, 'x'))));
    EXPECT_EQ(manifest_of(dir()), segment_files(dir()).size()) << "after event " << i;
  }
  EXPECT_GT(segment_files(dir()).size(), 3u);
}

TEST_F(ManifestTest, MissingNewestSegmentsRefuseToOpenInEveryModeAndWriteNothing) {
  for (const StoreOptions& made_with : {small_segments(), full_scan()}) {
    for (size_t removed : {1u, 2u}) {
      fs::remove_all(dir());
      const size_t segments = make_store(made_with);
      ASSERT_GT(segments, removed + 1);
      for (size_t k = 0; k < removed; ++k) fs::remove(segment_path(segments - k));
      const auto before = listing(dir());
      for (AccessMode mode : {AccessMode::kReadWrite, AccessMode::kReadOnly}) {
        StoreOptions options = made_with;
        options.access = mode;
        auto store = Store::open(dir(), options);
        ASSERT_FALSE(store) << "removed " << removed;
        EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << store.error().to_string();
        EXPECT_EQ(store.error().file, segment_path(segments - removed + 1));
        EXPECT_NE(store.error().message.find("missing"), std::string::npos) << store.error().message;
        EXPECT_EQ(listing(dir()), before) << "an open that refuses writes nothing";
      }
    }
  }
}

TEST_F(ManifestTest, SalvageOpensTheSegmentsLeftAndReportsTheFirstMissingOne) {
  const size_t segments = make_store();
  fs::remove(segment_path(segments));
  StoreOptions salvage = small_segments();
  salvage.access = AccessMode::kSalvage;
  auto store = Store::open(dir(), salvage);
  ASSERT_TRUE(store) << store.error().to_string();
  const auto& stopped = (*store)->open_report().salvage_stopped_at;
  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->code, ErrorCode::kCorruption);
  EXPECT_EQ(stopped->file, segment_path(segments));
  const uint64_t salvaged = (*store)->stats().event_count;
  store->reset();
  // The same files without the manifest's claim open read-only with the same events.
  fs::remove(dir() + "/manifest");
  StoreOptions read_only = small_segments();
  read_only.access = AccessMode::kReadOnly;
  EXPECT_EQ(events_in(read_only), salvaged);
  EXPECT_GT(salvaged, 0u);
  EXPECT_LT(salvaged, static_cast<uint64_t>(kEvents));
}

TEST_F(ManifestTest, ADamagedManifestRefusesToOpenAndSalvageReportsIt) {
  make_store();
  {
    auto file = posix_fs()->open(dir() + "/manifest", Fs::OpenMode::kReadWrite);
    ASSERT_TRUE(file);
    BATPAK_ASSERT_OK((*file)->pwrite(10, std::vector<uint8_t>{0x7f}));
  }
  for (AccessMode mode : {AccessMode::kReadWrite, AccessMode::kReadOnly}) {
    StoreOptions options = small_segments();
    options.access = mode;
    auto store = Store::open(dir(), options);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << store.error().to_string();
    EXPECT_EQ(store.error().file, dir() + "/manifest");
  }
  StoreOptions salvage = small_segments();
  salvage.access = AccessMode::kSalvage;
  auto store = Store::open(dir(), salvage);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE((*store)->open_report().salvage_stopped_at);
  EXPECT_EQ((*store)->open_report().salvage_stopped_at->file, dir() + "/manifest");
  EXPECT_EQ((*store)->stats().event_count, static_cast<uint64_t>(kEvents));
}

TEST_F(ManifestTest, AStoreWithoutAManifestOpensAndAReadWriteOpenWritesIt) {
  const size_t segments = make_store();
  fs::remove(dir() + "/manifest");
  StoreOptions read_only = small_segments();
  read_only.access = AccessMode::kReadOnly;
  EXPECT_EQ(events_in(read_only), static_cast<uint64_t>(kEvents));
  EXPECT_FALSE(fs::exists(dir() + "/manifest")) << "a read-only open writes nothing";
  EXPECT_EQ(events_in(small_segments()), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(manifest_of(dir()), segments);
}

// As a crash between a segment's creation and its manifest's replacement leaves it.
TEST_F(ManifestTest, AManifestBehindTheNewestSegmentIsBroughtUpToDate) {
  const size_t segments = make_store();
  BATPAK_ASSERT_OK(segment::write_manifest(*posix_fs(), dir(), {segments - 1, 0}));
  StoreOptions read_only = small_segments();
  read_only.access = AccessMode::kReadOnly;
  EXPECT_EQ(events_in(read_only), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(manifest_of(dir()), segments - 1) << "a read-only open writes nothing";
  EXPECT_EQ(events_in(small_segments()), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(manifest_of(dir()), segments);
}

TEST_F(ManifestTest, ABackupHasAManifestNamingItsNewestSegment) {
  const size_t segments = make_store();
  auto store = open(small_segments());
  ASSERT_TRUE(store);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->backup(tmp_.sub("copy")));
  EXPECT_EQ(report.segments, segments);
  EXPECT_EQ(manifest_of(tmp_.sub("copy")), segments);
  // So the copy, too, tells when its newest segment is gone.
  fs::remove(tmp_.sub("copy") + "/" + segment::segment_file_name(segments));
  auto copy = Store::open(tmp_.sub("copy"), small_segments());
  ASSERT_FALSE(copy);
  EXPECT_EQ(copy.error().code, ErrorCode::kCorruption);
}

TEST_F(ManifestTest, ACleanCloseRecordsWhereTheNewestSegmentsDataEnds) {
  StoreOptions options = small_segments();
  options.preallocate_bytes = 0;  // The file ends where the data ends.
  const size_t segments = make_store(options);
  auto recorded = segment::read_manifest(*posix_fs(), dir());
  ASSERT_TRUE(recorded && recorded->has_value());
  EXPECT_EQ((*recorded)->newest_segment_id, segments);
  EXPECT_EQ((*recorded)->clean_end, fs::file_size(segment_path(segments)));
}

TEST_F(ManifestTest, ANewestSegmentCutShortAfterACleanCloseIsCorruptionNotATornTail) {
  StoreOptions options = small_segments();
  options.preallocate_bytes = 0;  // The file ends where the data ends.
  const size_t segments = make_store(options);
  const std::string newest = segment_path(segments);
  const uintmax_t size = fs::file_size(newest);
  fs::resize_file(newest, size - 8);  // Inside the last frame: it would pass for a torn write.
  for (AccessMode mode : {AccessMode::kReadWrite, AccessMode::kReadOnly}) {
    StoreOptions o = options;
    o.access = mode;
    auto store = Store::open(dir(), o);
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << store.error().to_string();
    EXPECT_EQ(store.error().file, newest);
    EXPECT_NE(store.error().message.find("clean close"), std::string::npos) << store.error().message;
  }
  EXPECT_EQ(fs::file_size(newest), size - 8) << "the refused open cut nothing";
  StoreOptions salvage = options;
  salvage.access = AccessMode::kSalvage;
  auto store = Store::open(dir(), salvage);
  ASSERT_TRUE(store) << store.error().to_string();
  ASSERT_TRUE((*store)->open_report().salvage_stopped_at);
  EXPECT_EQ((*store)->open_report().salvage_stopped_at->file, newest);
  EXPECT_EQ((*store)->stats().event_count, static_cast<uint64_t>(kEvents - 1)) << "all but the cut event";
  store->reset();
  // The control: with no clean close on record (as after a crash) it is a torn tail.
  BATPAK_ASSERT_OK(segment::write_manifest(*posix_fs(), dir(), {segments, 0}));
  auto torn = Store::open(dir(), options);
  ASSERT_TRUE(torn) << torn.error().to_string();
  EXPECT_TRUE((*torn)->open_report().torn_tail);
  EXPECT_EQ((*torn)->stats().event_count, static_cast<uint64_t>(kEvents - 1));
}

TEST_F(ManifestTest, ATornWriteAfterTheCleanCloseEndIsStillATornTail) {
  StoreOptions options = small_segments();
  options.preallocate_bytes = 0;
  const size_t segments = make_store(options);
  const std::string newest = segment_path(segments);
  const uintmax_t clean_end = fs::file_size(newest);
  {  // A later session's write, torn by a crash: non-zero bytes that are no frame.
    std::ofstream out(newest, std::ios::binary | std::ios::app);
    out << std::string(40, '\x5a');
  }
  auto store = Store::open(dir(), options);
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_TRUE((*store)->open_report().torn_tail);
  EXPECT_EQ((*store)->open_report().torn_tail_offset, clean_end);
  EXPECT_EQ((*store)->stats().event_count, static_cast<uint64_t>(kEvents));
}

}  // namespace
}  // namespace batpak::store_test
