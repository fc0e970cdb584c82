// Segment rotation, buffered durability and the injectable clock.
#include <filesystem>

#include "segment/segment_files.hpp"
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

}  // namespace
}  // namespace batpak::store_test
