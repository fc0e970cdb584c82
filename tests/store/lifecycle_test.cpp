// Store lifecycle: open, close, reopen, the directory lock, read-only mode, option checks.
#include <cstdio>
#include <filesystem>

#include "format/format.hpp"
#include "format/record.hpp"
#include "store_fixtures.hpp"

namespace batpak::store_test {
namespace {

using LifecycleTest = StoreTest;

TEST_F(LifecycleTest, ReopenKeepsEveryEventWithIdenticalBytes) {
  std::vector<Event> before;
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 30; ++i) {
      const std::string entity = "order:" + std::to_string(i % 3);
      ASSERT_TRUE(store->append(coord(entity), i % 2 ? kKindA : kKindB, bytes("payload-" + std::to_string(i))));
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(all, store->query(Region::all()));
    before = all;
    BATPAK_ASSERT_OK(store->close());
  }
  ASSERT_EQ(before.size(), 30u);
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->open_report().events_recovered, 30u);
  EXPECT_FALSE(store->open_report().torn_tail);
  BATPAK_ASSERT_OK_AND_ASSIGN(after, store->query(Region::all()));
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) expect_same_event(after[i], before[i]);
  EXPECT_EQ(store->entity_generation("order:0"), 10u);
  // Appends continue the sequence and the chains.
  BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("order:0"), kKindA, bytes("more")));
  EXPECT_EQ(next.global_sequence, 31u);
  EXPECT_EQ(next.clock, 11u);
  EXPECT_EQ(next.prev_hash, before[27].header.event_hash);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
  EXPECT_EQ(report.events_checked, 31u);
}

TEST_F(LifecycleTest, SecondOpenOfTheSameDirectoryIsStoreLockedUntilTheFirstCloses) {
  auto first = open();
  ASSERT_NE(first, nullptr);
  BATPAK_EXPECT_ERROR(Store::open(dir()), ErrorCode::kStoreLocked);
  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  BATPAK_EXPECT_ERROR(Store::open(dir(), read_only), ErrorCode::kStoreLocked);
  BATPAK_ASSERT_OK(first->close());
  auto second = Store::open(dir());
  ASSERT_TRUE(second.has_value()) << second.error().to_string();
}

TEST_F(LifecycleTest, DestroyingTheStoreReleasesTheLock) {
  auto first = open();
  ASSERT_NE(first, nullptr);
  first.reset();
  auto second = Store::open(dir());
  EXPECT_TRUE(second.has_value()) << second.error().to_string();
}

TEST_F(LifecycleTest, CloseIsIdempotentAndEveryLaterCallIsClosed) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  BATPAK_ASSERT_OK(store->close());
  BATPAK_ASSERT_OK(store->close());
  BATPAK_EXPECT_ERROR(store->append(coord("a"), kKindA, bytes("y")), ErrorCode::kClosed);
  BATPAK_EXPECT_ERROR(store->get(r.event_id), ErrorCode::kClosed);
  BATPAK_EXPECT_ERROR(store->query(Region::all()), ErrorCode::kClosed);
  BATPAK_EXPECT_ERROR(store->sync(), ErrorCode::kClosed);
  BATPAK_EXPECT_ERROR(store->verify(), ErrorCode::kClosed);
}

TEST_F(LifecycleTest, ReadOnlyOpenReadsButRefusesEveryWriteWithReadOnly) {
  EventId id;
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
    id = r.event_id;
  }
  const auto files_before = segment_files(dir());
  const auto size_before = std::filesystem::file_size(dir() + "/" + files_before.back());
  StoreOptions options;
  options.access = AccessMode::kReadOnly;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(event, store->get(id));
  EXPECT_EQ(event.payload, bytes("x"));
  BATPAK_EXPECT_ERROR(store->append(coord("a"), kKindA, bytes("y")), ErrorCode::kReadOnly);
  std::vector<BatchItem> items{{coord("a"), kKindA, bytes("z"), {}}};
  BATPAK_EXPECT_ERROR(store->append_batch(items), ErrorCode::kReadOnly);
  BATPAK_EXPECT_ERROR(store->import_event(event), ErrorCode::kReadOnly);
  BATPAK_EXPECT_ERROR(store->sync(), ErrorCode::kReadOnly);
  EXPECT_EQ(store->stats().event_count, 1u);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
  BATPAK_ASSERT_OK(store->close());
  EXPECT_EQ(segment_files(dir()), files_before);
  EXPECT_EQ(std::filesystem::file_size(dir() + "/" + files_before.back()), size_before);
}

TEST_F(LifecycleTest, ReadOnlyOpenOfAMissingStoreIsNotFoundAndCreatesNothing) {
  for (AccessMode mode : {AccessMode::kReadOnly, AccessMode::kSalvage}) {
    StoreOptions options;
    options.access = mode;
    BATPAK_EXPECT_ERROR(Store::open(dir(), options), ErrorCode::kNotFound);
    EXPECT_FALSE(std::filesystem::exists(dir()));
  }
}

TEST_F(LifecycleTest, ReadWriteOpenCreatesTheDirectoryAndAnEmptyStore) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(dir()));
  const StoreStats st = store->stats();
  EXPECT_EQ(st.event_count, 0u);
  EXPECT_EQ(st.last_global_sequence, 0u);
  EXPECT_EQ(st.segment_count, 1u);
  EXPECT_EQ(segment_files(dir()), std::vector<std::string>{"000000000001.seg"});
}

TEST_F(LifecycleTest, InvalidOptionsAreInvalidArgumentAndCreateNothing) {
  std::vector<std::pair<const char*, StoreOptions>> cases;
  auto add = [&](const char* what, auto mutate) {
    StoreOptions o;
    mutate(o);
    cases.emplace_back(what, o);
  };
  add("sync_every_events 0", [](StoreOptions& o) { o.sync_every_events = 0; });
  add("sync_every_ms 0", [](StoreOptions& o) { o.sync_every_ms = 0; });
  add("segment_bytes_max 4095", [](StoreOptions& o) { o.segment_bytes_max = 4095; });
  add("segment_bytes_max 16 GiB + 1", [](StoreOptions& o) { o.segment_bytes_max = (16ull << 30) + 1; });
  add("payload_bytes_max 0", [](StoreOptions& o) { o.payload_bytes_max = 0; });
  add("payload_bytes_max 256 MiB + 1", [](StoreOptions& o) { o.payload_bytes_max = (256u << 20) + 1; });
  add("batch_events_max 0", [](StoreOptions& o) { o.batch_events_max = 0; });
  add("batch_events_max 65537", [](StoreOptions& o) { o.batch_events_max = 65537; });
  add("batch_bytes_max 0", [](StoreOptions& o) { o.batch_bytes_max = 0; });
  for (const auto& [what, options] : cases) {
    auto store = Store::open(dir(), options);
    ASSERT_FALSE(store.has_value()) << what;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument) << what;
    EXPECT_FALSE(std::filesystem::exists(dir())) << what;
  }
  // The limits themselves are valid.
  StoreOptions edge;
  edge.segment_bytes_max = 4096;
  edge.payload_bytes_max = 1;
  edge.batch_events_max = 65536;
  EXPECT_NE(open(edge), nullptr);
}

TEST_F(LifecycleTest, EmptyStoreReopensEmptyAndAppendsStartAtSequenceOne) {
  ASSERT_NE(open(), nullptr);  // Created and closed at once.
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->open_report().events_recovered, 0u);
  EXPECT_EQ(store->stats().event_count, 0u);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, bytes("x")));
  EXPECT_EQ(r.global_sequence, 1u);
  EXPECT_EQ(segment_files(dir()), std::vector<std::string>{"000000000001.seg"});
}

// Writes `n` bytes of 0xAB at `offset` of `path` (an unacknowledged, torn write).
void scribble(const std::string& path, uint64_t offset, size_t n) {
  std::FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fseek(f, static_cast<long>(offset), SEEK_SET), 0);
  const std::vector<uint8_t> junk(n, 0xAB);
  ASSERT_EQ(std::fwrite(junk.data(), 1, n, f), n);
  std::fclose(f);
}

TEST_F(LifecycleTest, TornTailOfTheNewestSegmentIsReportedSavedAndCutAndEveryEventKept) {
  uint64_t data_end = 0;
  std::vector<Receipt> receipts;
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 5; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("t"), kKindA, bytes("v")));
      receipts.push_back(r);
    }
  }
  // Where the data ends: the segment header, then five frames (format/format.hpp).
  data_end = format::kSegmentHeaderBytes + 5 * format::frame_bytes(1, 1, 1);
  const std::string seg = dir() + "/000000000001.seg";
  scribble(seg, data_end, 100);

  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  {
    auto ro = open(read_only);
    ASSERT_NE(ro, nullptr);
    EXPECT_TRUE(ro->open_report().torn_tail);
    EXPECT_EQ(ro->open_report().torn_tail_offset, data_end);
    EXPECT_EQ(ro->open_report().torn_tail_bytes, 100u);
    EXPECT_TRUE(ro->open_report().torn_tail_saved_as.empty()) << "read-only never writes";
    EXPECT_EQ(ro->stats().event_count, 5u);
  }

  auto store = open();
  ASSERT_NE(store, nullptr);
  const OpenReport& report = store->open_report();
  EXPECT_TRUE(report.torn_tail);
  EXPECT_EQ(report.torn_tail_file, seg);
  EXPECT_EQ(report.torn_tail_offset, data_end);
  EXPECT_EQ(report.torn_tail_bytes, 100u);
  ASSERT_FALSE(report.torn_tail_saved_as.empty());
  EXPECT_EQ(std::filesystem::file_size(report.torn_tail_saved_as), 100u);
  EXPECT_EQ(store->stats().event_count, 5u);
  BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("t"), kKindA, bytes("after")));
  EXPECT_EQ(next.global_sequence, 6u);
  EXPECT_EQ(next.prev_hash, receipts.back().event_hash);
  BATPAK_ASSERT_OK_AND_ASSIGN(verified, store->verify());
  EXPECT_TRUE(verified.ok()) << verified.damage->reason;
  BATPAK_ASSERT_OK(store->close());
  auto again = open();
  ASSERT_NE(again, nullptr);
  EXPECT_FALSE(again->open_report().torn_tail);
  EXPECT_EQ(again->stats().event_count, 6u);
}

}  // namespace
}  // namespace batpak::store_test
