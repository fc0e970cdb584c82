// Durability::kAsync: appends return once queued; the writer writes and syncs them.
#include "store/store_fixtures.hpp"

namespace batpak::store_test {
namespace {

class AsyncStore : public ::testing::Test {
 protected:
  StoreOptions options() const {
    StoreOptions o;
    o.durability = Durability::kAsync;
    o.sync_every_events = 50;
    o.sync_every_ms = 5;
    o.segment_bytes_max = 16 * 1024;  // Rotation happens under the async writer too.
    return o;
  }
  std::string dir() const { return tmp_.sub("store"); }
  testing::TempDir tmp_;
};

TEST_F(AsyncStore, SyncMakesEveryQueuedEventVisibleAndDurable) {
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), options()));
  std::vector<Receipt> receipts;
  for (int i = 0; i < 500; ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("e:" + std::to_string(i % 7)), EventKind{0x1001},
                                                 std::vector<uint8_t>(100, static_cast<uint8_t>(i))));
    receipts.push_back(r);
  }
  BATPAK_ASSERT_OK(store->sync());
  EXPECT_EQ(store->stats().durable_global_sequence, 500u);
  EXPECT_EQ(store->stats().event_count, 500u);
  for (const Receipt& r : receipts) {
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    EXPECT_EQ(e.header.event_hash, r.event_hash);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
}

TEST_F(AsyncStore, CloseDrainsTheQueueSoReopenSeesEverything) {
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), options()));
    for (int i = 0; i < 300; ++i) {
      BATPAK_ASSERT_OK(store->append(coord("e"), EventKind{0x1001}, std::vector<uint8_t>(10, 1)));
    }
    BATPAK_ASSERT_OK(store->close());
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), options()));
  EXPECT_EQ(store->stats().event_count, 300u);
  EXPECT_EQ(store->entity_generation("e"), 300u);
}

TEST_F(AsyncStore, ConflictsAndIdempotencySeeQueuedEvents) {
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), options()));
  AppendOptions keyed;
  keyed.idempotency_key = "once";
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append(coord("e"), EventKind{0x1001}, std::vector<uint8_t>{1}, keyed));
  BATPAK_ASSERT_OK_AND_ASSIGN(again, store->append(coord("e"), EventKind{0x1001}, std::vector<uint8_t>{1}, keyed));
  EXPECT_TRUE(again.idempotent_replay);
  EXPECT_EQ(again.global_sequence, first.global_sequence);
  AppendOptions stale;
  stale.expected_clock = 0;  // The queued event already moved the entity to clock 1.
  BATPAK_EXPECT_ERROR(store->append(coord("e"), EventKind{0x1001}, std::vector<uint8_t>{2}, stale),
                      ErrorCode::kConflict);
  BATPAK_ASSERT_OK(store->sync());
  EXPECT_EQ(store->stats().event_count, 1u);
}

TEST_F(AsyncStore, WaitForVisibleSeesQueuedEventsOnceWritten) {
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir(), options()));
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("e"), EventKind{0x1001}, std::vector<uint8_t>{1}));
  BATPAK_ASSERT_OK_AND_ASSIGN(visible, store->wait_for_visible(r.global_sequence - 1, 5000));
  EXPECT_GE(visible, r.global_sequence);
  BATPAK_ASSERT_OK(store->get(r.event_id));
}

}  // namespace
}  // namespace batpak::store_test
