// Damage to the horizon file of a store whose oldest segments were dropped (docs/format.md,
// "The horizon file"; docs/retention.md). Invariants proved here:
//  - any changed byte of the file fails every open, in every access mode, and
//    Store::drop_history, with kCorruption naming the file; none of them changes a file;
//  - a horizon that decodes (its checksum recomputed) but does not continue the journal
//    kept fails read-write and read-only opens and Store::drop_history with kCorruption, and
//    a salvage open stops at the first event it does not continue: a head whose event hash
//    or clock does not link to its entity's first kept event, a first sequence off by one;
//    so does a deleted first kept segment; a first segment above every segment fails every
//    open;
//  - no refused open changes a file: a read-write open removes the segments below the
//    horizon (the rest of an interrupted drop) only when the horizon's first segment is there.
//
// The store under test is built once, kept in memory file by file, and restored before each
// case.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "index/horizon.hpp"
#include "segment/segment_files.hpp"
#include "support/file_bytes.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kEvents = 60;
constexpr int kEntities = 4;
constexpr uint64_t kDropBefore = 30;
constexpr AccessMode kEveryMode[] = {AccessMode::kReadWrite, AccessMode::kReadOnly, AccessMode::kSalvage};

// Every file of a store directory, by name.
using Files = std::map<std::string, std::vector<uint8_t>>;

Files read_files(const std::string& dir) {
  Files out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) out[entry.path().filename().string()] = read_file_bytes(entry.path().string());
  }
  return out;
}

StoreOptions options(AccessMode access = AccessMode::kReadWrite) {
  StoreOptions o;
  o.segment_bytes_max = 4096;
  o.access = access;
  return o;
}

// The reference store: kEvents events over kEntities entities in 4 KiB segments, with history
// before kDropBefore dropped, then opened and closed once more.
struct Reference {
  TempDir tmp;
  std::string dir;
  DropHistoryReport dropped;
  uint64_t newest_segment_id = 0;
  Files files;
};

Reference* g_ref = nullptr;

void build_reference() {
  auto ref = std::make_unique<Reference>();
  ref->dir = ref->tmp.sub("store");
  {
    auto store = Store::open(ref->dir, options());
    ASSERT_TRUE(store) << store.error().to_string();
    for (int i = 0; i < kEvents; ++i) {
      const std::string entity = "e" + std::to_string(i % kEntities);
      auto r = (*store)->append(coord(entity), EventKind{0x1001}, bytes(std::string(100, char('a' + i % 26))));
      ASSERT_TRUE(r) << r.error().to_string();
    }
    BATPAK_ASSERT_OK((*store)->close());
  }
  auto dropped = Store::drop_history(ref->dir, kDropBefore);
  ASSERT_TRUE(dropped) << dropped.error().to_string();
  ref->dropped = *dropped;
  ASSERT_GE(ref->dropped.segments_removed, 1u);
  for (AccessMode mode : kEveryMode) {  // The undamaged store opens in every mode.
    auto store = Store::open(ref->dir, options(mode));
    ASSERT_TRUE(store) << store.error().to_string();
    ASSERT_EQ((*store)->stats().event_count, kEvents - ref->dropped.events_removed);
    BATPAK_ASSERT_OK((*store)->close());
  }
  ref->newest_segment_id = ref->dropped.first_segment_id + segment_paths(ref->dir).size() - 1;
  ASSERT_GE(ref->newest_segment_id, ref->dropped.first_segment_id + 2) << "several segments are kept";
  ref->files = read_files(ref->dir);
  ASSERT_EQ(ref->files.count(index::kHorizonFileName), 1u);
  g_ref = ref.release();
}

class HorizonDamageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (g_ref == nullptr) build_reference();
  }
  static void TearDownTestSuite() {
    delete g_ref;
    g_ref = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(g_ref, nullptr);
    fs::remove_all(g_ref->dir);
    fs::create_directory(g_ref->dir);
    for (const auto& [name, data] : g_ref->files) write_file_bytes(path(name), data);
  }

  static std::string path(const std::string& name) { return g_ref->dir + "/" + name; }
  static std::string horizon_path() { return path(index::kHorizonFileName); }
  static std::string segment_path(uint64_t id) { return path(segment::segment_file_name(id)); }

  // Replaces the horizon file with the reference horizon after `change`, with a valid checksum.
  static void write_changed_horizon(const std::function<void(index::Horizon&)>& change) {
    auto horizon = index::decode_horizon(g_ref->files.at(index::kHorizonFileName));
    ASSERT_TRUE(horizon) << horizon.error().to_string();
    change(*horizon);
    write_file_bytes(horizon_path(), index::encode_horizon(*horizon));
  }

  // Every open in `modes`, then Store::drop_history, fails with kCorruption whose message
  // holds `reason` and whose file is `file` (when given); and none changes a file of the store.
  static void expect_refused(std::initializer_list<AccessMode> modes, const std::string& reason,
                             const std::string& file = {}) {
    const Files before = read_files(g_ref->dir);
    std::vector<Error> errors;
    for (AccessMode mode : modes) {
      auto store = Store::open(g_ref->dir, options(mode));
      ASSERT_FALSE(store) << "mode " << static_cast<int>(mode) << " opened";
      errors.push_back(store.error());
    }
    auto drop = Store::drop_history(g_ref->dir, kDropBefore + 20);
    ASSERT_FALSE(drop) << "drop_history went ahead";
    errors.push_back(drop.error());
    for (const Error& e : errors) {
      EXPECT_EQ(e.code, ErrorCode::kCorruption) << e.to_string();
      EXPECT_NE(e.message.find(reason), std::string::npos) << e.to_string();
      if (!file.empty()) {
        EXPECT_EQ(e.file, file) << e.to_string();
      }
    }
    EXPECT_TRUE(read_files(g_ref->dir) == before) << "a refused open changed the store's files";
  }

  // A salvage open keeps the `events` it read before the damage and reports where it stopped,
  // with kCorruption whose message holds `reason`.
  static void expect_salvage_stops(const std::string& reason, uint64_t events) {
    auto store = Store::open(g_ref->dir, options(AccessMode::kSalvage));
    ASSERT_TRUE(store) << store.error().to_string();
    const std::optional<Error>& stopped = (*store)->open_report().salvage_stopped_at;
    ASSERT_TRUE(stopped.has_value()) << "salvage read past the damage";
    EXPECT_EQ(stopped->code, ErrorCode::kCorruption) << stopped->to_string();
    EXPECT_NE(stopped->message.find(reason), std::string::npos) << stopped->to_string();
    EXPECT_EQ((*store)->stats().event_count, events);
  }

  // How many kept events precede the first kept one of entity "e<n>" (event i is entity
  // "e<i % kEntities>", global sequence i + 1).
  static uint64_t kept_before_first_of(size_t n) {
    const uint64_t first_index = g_ref->dropped.first_sequence - 1;
    return (n + kEntities - first_index % kEntities) % kEntities;
  }
};

// The checksum is checked before the version, so no single changed byte reads as a newer
// version: every one is kCorruption.
TEST_F(HorizonDamageTest, EveryChangedByteFailsEveryOpenAndChangesNoFile) {
  const std::vector<uint8_t> pristine = g_ref->files.at(index::kHorizonFileName);
  for (size_t at = 0; at < pristine.size(); ++at) {
    SCOPED_TRACE("byte " + std::to_string(at));
    std::vector<uint8_t> damaged = pristine;
    damaged[at] ^= 0xFF;
    write_file_bytes(horizon_path(), damaged);
    expect_refused({AccessMode::kReadWrite, AccessMode::kReadOnly, AccessMode::kSalvage}, "horizon file",
                   horizon_path());
    if (HasFatalFailure()) return;
  }
}

TEST_F(HorizonDamageTest, AHeadThatDoesNotLinkToItsEntitysFirstKeptEventFailsOpenAndDrop) {
  const size_t heads = index::decode_horizon(g_ref->files.at(index::kHorizonFileName))->heads.size();
  ASSERT_EQ(heads, static_cast<size_t>(kEntities));
  const std::string first = segment_path(g_ref->dropped.first_segment_id);
  for (size_t i = 0; i < heads; ++i) {
    SCOPED_TRACE("head " + std::to_string(i));
    write_changed_horizon([i](index::Horizon& h) { h.heads[i].second.event_hash.bytes[5] ^= 0x20; });
    expect_refused({AccessMode::kReadWrite, AccessMode::kReadOnly}, "prev_hash does not link", first);
    expect_salvage_stops("prev_hash does not link", kept_before_first_of(i));
    write_changed_horizon([i](index::Horizon& h) { ++h.heads[i].second.clock; });
    expect_refused({AccessMode::kReadWrite, AccessMode::kReadOnly}, "entity clock does not follow", first);
    expect_salvage_stops("entity clock does not follow", kept_before_first_of(i));
  }
}

TEST_F(HorizonDamageTest, AFirstSequenceOffByOneFailsOpen) {
  for (int delta : {-1, +1}) {
    SCOPED_TRACE("delta " + std::to_string(delta));
    write_changed_horizon([delta](index::Horizon& h) { h.first_sequence += static_cast<uint64_t>(delta); });
    expect_refused({AccessMode::kReadWrite, AccessMode::kReadOnly}, "was expected",
                   segment_path(g_ref->dropped.first_segment_id));
    expect_salvage_stops("was expected", 0);
  }
}

TEST_F(HorizonDamageTest, AMissingFirstKeptSegmentFailsOpen) {
  const std::string first = segment_path(g_ref->dropped.first_segment_id);
  ASSERT_TRUE(fs::remove(first));
  const std::string reason = "segment " + std::to_string(g_ref->dropped.first_segment_id) + " is missing";
  expect_refused({AccessMode::kReadWrite, AccessMode::kReadOnly}, reason, first);
  expect_salvage_stops(reason, 0);
}

// A read-write open removes the segments below the horizon, the rest of an interrupted drop;
// but only when the segment the horizon names is there: a horizon above every segment would
// otherwise make it remove them all. Every mode names the segment the horizon expects (not
// the manifest's count of missing ones), and that segment's path.
TEST_F(HorizonDamageTest, AFirstSegmentAboveEverySegmentFailsEveryOpenAndRemovesNone) {
  const uint64_t above = g_ref->newest_segment_id + 1;
  write_changed_horizon([above](index::Horizon& h) { h.first_segment_id = above; });
  expect_refused({AccessMode::kReadWrite, AccessMode::kReadOnly, AccessMode::kSalvage},
                 "segment " + std::to_string(above) + ", the first after the history horizon, is missing",
                 segment_path(above));
}

// A horizon naming the segment after its true first one (which exists) fails at the first
// kept event's link, and a read-write open removes nothing before it knows that: the
// segments below such a horizon hold acknowledged events.
TEST_F(HorizonDamageTest, AFirstSegmentOneTooNewFailsBeforeAnySegmentIsRemoved) {
  const uint64_t too_new = g_ref->dropped.first_segment_id + 1;
  ASSERT_LT(too_new, g_ref->newest_segment_id);
  write_changed_horizon([too_new](index::Horizon& h) { h.first_segment_id = too_new; });
  expect_refused({AccessMode::kReadWrite, AccessMode::kReadOnly}, "global sequence");
}

TEST_F(HorizonDamageTest, ASoundHorizonStillCompletesAnInterruptedDrop) {
  const std::string below = segment_path(g_ref->dropped.first_segment_id - 1);
  write_file_bytes(below, g_ref->files.at(segment::segment_file_name(g_ref->dropped.first_segment_id)));
  auto read_only = Store::open(g_ref->dir, options(AccessMode::kReadOnly));
  ASSERT_TRUE(read_only) << read_only.error().to_string();
  read_only->reset();
  EXPECT_TRUE(fs::exists(below)) << "a read-only open removes nothing";
  auto store = Store::open(g_ref->dir, options());
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_FALSE(fs::exists(below));
  EXPECT_EQ((*store)->stats().event_count, kEvents - g_ref->dropped.events_removed);
}

}  // namespace
}  // namespace batpak::testing
