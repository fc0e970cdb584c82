// Segment rotation, buffered durability and the injectable clock.
#include <filesystem>

#include "segment/scan.hpp"
#include "segment/segment_files.hpp"
#include "store/reopen_fixtures.hpp"
#include "store_fixtures.hpp"

namespace batpak::store_test {
namespace {

using RotationTest = StoreTest;

TEST_F(RotationTest, TinySegmentLimitRotatesAndEveryEventIsReadableAfterReopen) {
  StoreOptions options;
  options.segment_bytes_max = 4096;
  options.preallocate_bytes = 8192;
  std::vector<Receipt> receipts;
  {
    auto store = open(options);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 120; ++i) {
      auto r = store->append(coord("e:" + std::to_string(i % 7)), kKindA,
                             std::vector<uint8_t>(static_cast<size_t>(20 + i % 50), static_cast<uint8_t>(i)));
      ASSERT_TRUE(r.has_value()) << r.error().to_string();
      receipts.push_back(*r);
    }
    // A batch larger than what is left in the active segment goes whole into the next one.
    std::vector<BatchItem> batch;
    for (int i = 0; i < 6; ++i) batch.push_back({coord("batch"), kKindA, std::vector<uint8_t>(100, 1), {}});
    BATPAK_ASSERT_OK_AND_ASSIGN(rs, store->append_batch(batch));
    receipts.insert(receipts.end(), rs.begin(), rs.end());
    EXPECT_EQ(store->stats().segment_count, segment_files(dir()).size());
    BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
    EXPECT_TRUE(report.ok()) << report.damage->reason;
  }
  const auto files = segment_files(dir());
  ASSERT_GE(files.size(), 5u);
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(files[i], segment::segment_file_name(i + 1));
    // Sealed segments respect the limit (a single oversized frame aside, none here).
    if (i + 1 < files.size()) {
      EXPECT_LE(std::filesystem::file_size(dir() + "/" + files[i]), 4096u);
    }
  }
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->open_report().segments, files.size());
  EXPECT_EQ(store->open_report().events_recovered, receipts.size());
  EXPECT_FALSE(store->open_report().torn_tail);
  for (const Receipt& r : receipts) {
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    expect_receipt_matches(r, e);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(all, store->query(Region::all()));
  ASSERT_EQ(all.size(), receipts.size());
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
  EXPECT_EQ(report.events_checked, receipts.size());
  EXPECT_EQ(report.segments_checked, files.size());
  // Chains run across segment boundaries.
  BATPAK_ASSERT_OK_AND_ASSIGN(chain, store->walk_ancestors(receipts[119].event_id, 1000));
  EXPECT_EQ(chain.size(), store->entity_generation(receipts[119].entity));
}

TEST_F(RotationTest, BufferedAppendsAreVisibleAtOnceDurableAfterSyncAndKeptOnReopen) {
  StoreOptions options;
  options.durability = Durability::kBuffered;
  options.sync_every_events = 1'000'000;
  options.sync_every_ms = 600'000;
  std::vector<Receipt> receipts;
  {
    auto store = open(options);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 40; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("b:" + std::to_string(i % 4)), kKindA, bytes("v" + std::to_string(i))));
      receipts.push_back(r);
      BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));  // Visible immediately.
      EXPECT_EQ(e.payload, bytes("v" + std::to_string(i)));
    }
    const StoreStats before = store->stats();
    EXPECT_EQ(before.last_global_sequence, 40u);
    EXPECT_LT(before.durable_global_sequence, 40u);
    BATPAK_ASSERT_OK(store->sync());
    EXPECT_EQ(store->stats().durable_global_sequence, 40u);
    BATPAK_ASSERT_OK_AND_ASSIGN(more, store->append(coord("b:0"), kKindA, bytes("after sync")));
    receipts.push_back(more);
    BATPAK_ASSERT_OK(store->close());  // Close syncs what is pending.
  }
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->stats().event_count, receipts.size());
  for (const Receipt& r : receipts) {
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    expect_receipt_matches(r, e);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
}

TEST_F(RotationTest, BufferedModeRotatesToo) {
  StoreOptions options;
  options.durability = Durability::kBuffered;
  options.segment_bytes_max = 4096;
  options.preallocate_bytes = 4096;
  std::vector<Receipt> receipts;
  {
    auto store = open(options);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 80; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("r:" + std::to_string(i % 3)), kKindA, std::vector<uint8_t>(60, 7)));
      receipts.push_back(r);
    }
    BATPAK_ASSERT_OK(store->sync());
    EXPECT_EQ(store->stats().durable_global_sequence, 80u);
    BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
    EXPECT_TRUE(report.ok()) << report.damage->reason;
  }
  EXPECT_GE(segment_files(dir()).size(), 4u);
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->stats().event_count, 80u);
  EXPECT_FALSE(store->open_report().torn_tail);
  for (const Receipt& r : receipts) {
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    expect_receipt_matches(r, e);
  }
}

TEST_F(RotationTest, EventLargerThanTheSegmentLimitGetsASegmentOfItsOwn) {
  StoreOptions options;
  options.segment_bytes_max = 4096;
  std::vector<Receipt> receipts;
  {
    auto store = open(options);
    ASSERT_NE(store, nullptr);
    for (size_t size : {100u, 10000u, 100u, 20000u}) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("big"), kKindA, std::vector<uint8_t>(size, 3)));
      receipts.push_back(r);
    }
  }
  EXPECT_EQ(segment_files(dir()).size(), 4u);
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  for (const Receipt& r : receipts) {
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    expect_receipt_matches(r, e);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
}

// What one segment file holds, read from the file itself rather than from the index.
struct SegmentContents {
  std::vector<uint64_t> sequences;  // Global sequences of its frames, in file order.
  uint64_t frame_bytes = 0;         // Sum of its frames' on-disk sizes.
};

// Scans every segment file of a closed store, the newest one as the newest.
std::vector<SegmentContents> segment_contents(const std::string& dir) {
  const auto files = segment_files(dir);
  std::vector<SegmentContents> out(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string path = dir + "/" + files[i];
    auto file = posix_fs()->open(path, Fs::OpenMode::kRead);
    EXPECT_TRUE(file.has_value()) << path;
    if (!file) return out;
    const segment::ScanTarget target{file->get(), path, i + 1, i + 1 == files.size(),
                                     std::filesystem::file_size(path)};
    auto scan = segment::scan_segment(target, [&](const segment::ScannedFrame& f) -> Status {
      out[i].sequences.push_back(f.record.header.global_sequence);
      out[i].frame_bytes += f.frame_bytes;
      return {};
    });
    EXPECT_TRUE(scan.has_value()) << scan.error().to_string();
  }
  return out;
}

// docs/format.md: append_batch writes its frames contiguously in one segment. A batch whose
// frames alone exceed segment_bytes_max therefore rotates once and fills an oversized
// segment of its own instead of being split at the limit, and each way of rebuilding the
// index at open (full scan, segment footers, index checkpoint) reads it back whole.
TEST_F(RotationTest, BatchLargerThanTheSegmentLimitLandsWholeInOneSegmentAndEveryReopenPathReadsItBack) {
  // No checkpoint at first, so that the sealed segments get footers to open from.
  const StoreOptions options = small_segments(/*checkpoint=*/false);
  std::vector<std::vector<Receipt>> batches;
  std::vector<Receipt> receipts;
  {
    auto store = open(options);
    ASSERT_NE(store, nullptr);
    for (int i = 0; i < 3; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("small"), kKindA, bytes("s" + std::to_string(i))));
      receipts.push_back(r);
    }
    ASSERT_EQ(store->stats().segment_count, 1u);
    // Two oversized batches in a row: the first follows a partly used segment, the second an
    // oversized one, and each goes whole into a fresh segment.
    for (uint8_t b = 0; b < 2; ++b) {
      std::vector<BatchItem> batch;
      for (int i = 0; i < 8; ++i) {
        batch.push_back({coord(i % 3 == 0 ? "small" : "big:" + std::to_string(i % 2)), kKindA,
                         std::vector<uint8_t>(1500, static_cast<uint8_t>(b * 8 + i)), {}});
      }
      BATPAK_ASSERT_OK_AND_ASSIGN(rs, store->append_batch(batch));
      EXPECT_EQ(store->stats().segment_count, 2u + b) << "the batch rotated exactly once";
      batches.push_back(rs);
      receipts.insert(receipts.end(), rs.begin(), rs.end());
    }
    BATPAK_ASSERT_OK(store->close());
  }

  const auto contents = segment_contents(dir());
  ASSERT_EQ(contents.size(), 3u);
  EXPECT_EQ(contents[0].sequences, (std::vector<uint64_t>{1, 2, 3}));
  for (size_t b = 0; b < batches.size(); ++b) {
    std::vector<uint64_t> expected;
    for (const Receipt& r : batches[b]) expected.push_back(r.global_sequence);
    EXPECT_EQ(contents[b + 1].sequences, expected) << "batch " << b << " is alone and whole in its segment";
    EXPECT_GT(contents[b + 1].frame_bytes, options.segment_bytes_max) << "the batch must exceed the limit";
  }

  // Every event reads back from `store` as it was acknowledged, and the store verifies clean.
  auto expect_all_read_back = [&](const Store& store) {
    EXPECT_EQ(store.open_report().events_recovered, receipts.size());
    EXPECT_FALSE(store.open_report().torn_tail);
    for (const Receipt& r : receipts) {
      BATPAK_ASSERT_OK_AND_ASSIGN(e, store.get(r.event_id));
      expect_receipt_matches(r, e);
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(all, store.query(Region::all()));
    ASSERT_EQ(all.size(), receipts.size());
    for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].header.global_sequence, i + 1);
    BATPAK_ASSERT_OK_AND_ASSIGN(report, store.verify());
    EXPECT_TRUE(report.ok()) << report.damage->reason;
    EXPECT_EQ(report.events_checked, receipts.size());
  };
  {
    SCOPED_TRACE("full scan");
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), read_only(without_footers(options))));
    EXPECT_EQ(store->open_report().index_source, IndexSource::kFullScan);
    EXPECT_EQ(store->open_report().segments_from_footers, 0u);
    EXPECT_EQ(store->open_report().frames_scanned, receipts.size());
    expect_all_read_back(*store);
  }
  {
    SCOPED_TRACE("segment footers");
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), read_only(options)));
    EXPECT_EQ(store->open_report().index_source, IndexSource::kFullScan);
    EXPECT_EQ(store->open_report().segments_from_footers, 2u) << "the sealed segments, the first batch's too";
    EXPECT_TRUE(store->open_report().segment_footer_fallbacks.empty());
    EXPECT_EQ(store->open_report().frames_scanned, batches[1].size()) << "only the newest segment is scanned";
    expect_all_read_back(*store);
  }
  {
    SCOPED_TRACE("index checkpoint");
    // A read-write session with the checkpoint enabled writes one at close.
    BATPAK_ASSERT_OK_AND_ASSIGN(writer, Store::open(dir(), small_segments()));
    BATPAK_ASSERT_OK(writer->close());
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), read_only(small_segments())));
    EXPECT_EQ(store->open_report().index_source, IndexSource::kCheckpoint) << store->open_report().index_source_reason;
    EXPECT_EQ(store->open_report().frames_scanned, 0u);
    expect_all_read_back(*store);
  }
}

using ClockTest = StoreTest;

uint64_t uuid_ms(const EventId& id) {
  uint64_t ms = 0;
  for (size_t i = 0; i < 6; ++i) ms = ms << 8 | id.bytes[i];
  return ms;
}

TEST_F(ClockTest, EventIdsAndWallTimeFollowTheInjectedClock) {
  auto clock = std::make_shared<ManualClock>(1'650'000'000'000'000);  // 2022-04-15.
  StoreOptions options;
  options.clock = clock;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  for (int64_t step : {0, 1, 1000, 86'400'000}) {
    clock->advance_ms(step);
    const int64_t now_us = clock->now_us();
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("c"), kKindA, bytes("x")));
    EXPECT_EQ(uuid_ms(r.event_id), static_cast<uint64_t>(now_us / 1000));
    EXPECT_EQ(r.event_id.bytes[6] >> 4, 0x7) << "UUID version 7";
    EXPECT_EQ(r.event_id.bytes[8] >> 6, 0x2) << "RFC 4122 variant";
    EXPECT_EQ(r.wall_ms, static_cast<uint64_t>(now_us / 1000));
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    EXPECT_EQ(e.header.timestamp_us, now_us);
  }
  EXPECT_EQ(store->now_us(), clock->now_us());
}

TEST_F(ClockTest, WallTimeStaysMonotonePerEntityWhenTheClockGoesBackwards) {
  auto clock = std::make_shared<ManualClock>(1'650'000'000'000'000);
  StoreOptions options;
  options.clock = clock;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append(coord("m"), kKindA, bytes("1")));
  clock->advance_ms(-60'000);  // NTP stepped the clock back a minute.
  BATPAK_ASSERT_OK_AND_ASSIGN(second, store->append(coord("m"), kKindA, bytes("2")));
  EXPECT_EQ(second.wall_ms, first.wall_ms);
  EXPECT_EQ(uuid_ms(second.event_id), first.wall_ms - 60'000) << "ids still follow the clock";
  // Another entity has no earlier time to respect: it takes the clock as it is.
  BATPAK_ASSERT_OK_AND_ASSIGN(other, store->append(coord("n"), kKindA, bytes("3")));
  EXPECT_EQ(other.wall_ms, first.wall_ms - 60'000);
  clock->advance_ms(120'000);
  BATPAK_ASSERT_OK_AND_ASSIGN(third, store->append(coord("m"), kKindA, bytes("4")));
  EXPECT_EQ(third.wall_ms, first.wall_ms + 60'000);
  BATPAK_ASSERT_OK(store->close());
  // The monotone times pass the chain checks at reopen and in verify.
  auto reopened = open(options);
  ASSERT_NE(reopened, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, reopened->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
  clock->advance_ms(-3'600'000);
  BATPAK_ASSERT_OK_AND_ASSIGN(fourth, reopened->append(coord("m"), kKindA, bytes("5")));
  EXPECT_EQ(fourth.wall_ms, third.wall_ms) << "the entity's time survives a reopen";
}

TEST_F(ClockTest, AClockBeforeTheEpochCountsAsTheEpochAndDoesNotWrapWallTime) {
  auto clock = std::make_shared<ManualClock>(-5'000'000);  // 1969-12-31 23:59:55.
  StoreOptions options;
  options.clock = clock;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(early, store->append(coord("m"), kKindA, bytes("1")));
  EXPECT_EQ(early.wall_ms, 0u);
  EXPECT_EQ(uuid_ms(early.event_id), 0u);
  BATPAK_ASSERT_OK_AND_ASSIGN(batch, store->append_batch(std::vector<BatchItem>{{coord("m"), kKindA, bytes("2"), {}},
                                                                               {coord("n"), kKindA, bytes("3"), {}}}));
  for (const Receipt& r : batch) EXPECT_EQ(r.wall_ms, 0u);
  EXPECT_EQ(store->frontier().visible.wall_ms, 0u);
  BATPAK_ASSERT_OK_AND_ASSIGN(event, store->get(early.event_id));
  EXPECT_EQ(event.header.timestamp_us, -5'000'000) << "the event keeps the clock's reading";
  // Once the clock is right again, wall time follows it.
  clock->advance_ms(1'650'000'000'000 + 5'000);
  BATPAK_ASSERT_OK_AND_ASSIGN(later, store->append(coord("m"), kKindA, bytes("4")));
  EXPECT_EQ(later.wall_ms, 1'650'000'000'000u);
  EXPECT_EQ(store->frontier().visible.wall_ms, 1'650'000'000'000u);
  BATPAK_ASSERT_OK(store->close());
  auto reopened = open(options);
  ASSERT_NE(reopened, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, reopened->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
}

// The clamp that keeps an entity's wall_ms from going back applies to every way in: each
// item of a batch (also one that names the entity twice) and each event appended through a
// visibility fence, single or batched, and the clamped times survive commit and reopen.
TEST_F(ClockTest, WallTimeStaysMonotonePerEntityForBatchItemsAndFencedAppendsWhenTheClockGoesBackwards) {
  auto clock = std::make_shared<ManualClock>(1'650'000'000'000'000);
  StoreOptions options;
  options.clock = clock;
  std::vector<Receipt> receipts;
  uint64_t start_ms = 0;
  {
    auto store = open(options);
    ASSERT_NE(store, nullptr);
    BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append(coord("m"), kKindA, bytes("1")));
    start_ms = first.wall_ms;
    clock->advance_ms(-60'000);  // NTP stepped the clock back a minute.
    BATPAK_ASSERT_OK_AND_ASSIGN(batch, store->append_batch(std::vector<BatchItem>{
                                           {coord("m"), kKindA, bytes("2"), {}},
                                           {coord("n"), kKindA, bytes("3"), {}},
                                           {coord("m"), kKindA, bytes("4"), {}}}));
    EXPECT_EQ(batch[0].wall_ms, start_ms);
    EXPECT_EQ(batch[2].wall_ms, start_ms);
    EXPECT_EQ(batch[1].wall_ms, start_ms - 60'000) << "a new entity takes the clock as it is";
    EXPECT_EQ(uuid_ms(batch[0].event_id), start_ms - 60'000) << "ids still follow the clock";

    clock->advance_ms(-60'000);  // Another minute back: "m" is two ahead of it, "n" one.
    BATPAK_ASSERT_OK_AND_ASSIGN(fence, store->begin_fence());
    BATPAK_ASSERT_OK_AND_ASSIGN(fenced, fence.append(coord("m"), kKindA, bytes("5")));
    EXPECT_EQ(fenced.wall_ms, start_ms);
    BATPAK_ASSERT_OK_AND_ASSIGN(fenced_batch, fence.append_batch(std::vector<BatchItem>{
                                                  {coord("n"), kKindA, bytes("6"), {}},
                                                  {coord("m"), kKindA, bytes("7"), {}},
                                                  {coord("o"), kKindA, bytes("8"), {}}}));
    EXPECT_EQ(fenced_batch[0].wall_ms, start_ms - 60'000);
    EXPECT_EQ(fenced_batch[1].wall_ms, start_ms);
    EXPECT_EQ(fenced_batch[2].wall_ms, start_ms - 120'000);
    BATPAK_ASSERT_OK(fence.commit());

    receipts = {first, batch[0], batch[1], batch[2], fenced, fenced_batch[0], fenced_batch[1], fenced_batch[2]};
    for (const Receipt& r : receipts) {
      BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
      EXPECT_EQ(e.header.wall_ms, r.wall_ms) << "the committed event keeps the receipt's time";
    }
    BATPAK_ASSERT_OK(store->close());
  }
  // The monotone times pass the chain checks at reopen and in verify, and the heads the
  // fence left are the ones a later append respects.
  auto reopened = open(options);
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->open_report().events_recovered, receipts.size());
  BATPAK_ASSERT_OK_AND_ASSIGN(report, reopened->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
  clock->advance_ms(-3'600'000);
  BATPAK_ASSERT_OK_AND_ASSIGN(later, reopened->append(coord("o"), kKindA, bytes("9")));
  EXPECT_EQ(later.wall_ms, start_ms - 120'000) << "an entity first seen in a fence keeps its time";
}

}  // namespace
}  // namespace batpak::store_test
