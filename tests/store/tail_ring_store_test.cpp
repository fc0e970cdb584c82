// Durability::kBuffered with the tail ring: an append returns once its frames are in the
// shared-mapped ring file; the writer thread writes them to their segment. Reads see every
// append that returned; the next read-write open writes what only the ring held.
#include <filesystem>

#include "store/store_fixtures.hpp"
#include "support/fault_fs.hpp"
#include "support/file_bytes.hpp"
#include "writer/tail_ring.hpp"

namespace batpak::store_test {
namespace {

StoreOptions buffered(std::shared_ptr<Fs> fs = nullptr) {
  StoreOptions o;
  o.durability = Durability::kBuffered;
  o.fs = std::move(fs);
  return o;
}

std::string ring_path(const std::string& dir) { return dir + "/" + writer::kTailRingFileName; }

TEST(TailRingStore, EveryAppendThatReturnedIsReadableAtOnce) {
  testing::TempDir tmp;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp.sub("s"), buffered()));
  ASSERT_TRUE(std::filesystem::exists(ring_path(tmp.sub("s"))));
  for (int i = 0; i < 3000; ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("e:" + std::to_string(i % 5)), kKindA,
                                                 std::vector<uint8_t>(200, static_cast<uint8_t>(i))));
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    ASSERT_EQ(e.header.event_hash, r.event_hash) << "append " << i;
    ASSERT_EQ(store->stats().last_global_sequence, r.global_sequence) << "append " << i;
  }
}

TEST(TailRingStore, CommitsLargerThanTheRingOrFillingItAreAllWrittenInOrder) {
  testing::TempDir tmp;
  StoreOptions o = buffered();
  o.tail_ring_bytes = writer::kTailRingBytesMin;  // 64 KiB: records of ~20 KiB fill it fast.
  std::vector<Receipt> receipts;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp.sub("s"), o));
    for (int i = 0; i < 300; ++i) {
      // Every tenth commit is larger than half the ring: it waits for its segment write.
      const size_t payload_bytes = i % 10 == 9 ? 40u << 10 : 20u << 10;
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("e"), kKindA,
                                                   std::vector<uint8_t>(payload_bytes, static_cast<uint8_t>(i))));
      receipts.push_back(r);
    }
    BATPAK_ASSERT_OK(store->close());
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp.sub("s"), o));
  EXPECT_EQ(store->open_report().events_from_tail_ring, 0u);  // A clean close leaves nothing to take.
  BATPAK_ASSERT_OK_AND_ASSIGN(events, store->query(Region::entity("e")));
  ASSERT_EQ(events.size(), receipts.size());
  for (size_t i = 0; i < events.size(); ++i) expect_receipt_matches(receipts[i], events[i]);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
}

// What a failed segment write leaves: the events acknowledged so far, some only in the ring.
struct Acknowledged {
  std::vector<Receipt> receipts;
  bool writer_failed = false;  // The injected failure hit the writer (not a checkpoint or footer).
};

// Appends up to `events` events to a fresh store whose `fail_at`-th segment pwrite (from the
// first append on) fails, and stops at the first refused append; then closes the store.
Acknowledged append_until_the_write_fails(const std::string& dir, uint64_t fail_at, int events) {
  auto fs = std::make_shared<testing::FaultFs>();
  fs->pass_map_shared(true);
  StoreOptions o = buffered(fs);
  o.segment_bytes_max = 4096;  // A rotation every few events: some writes create segments.
  o.preallocate_bytes = 0;     // Every pwrite is the writer's, of frames or a segment header:
  o.segment_footers = false;   // no preallocation, footer or checkpoint writes.
  o.index_checkpoint = false;
  Acknowledged out;
  auto store = Store::open(dir, o);
  EXPECT_TRUE(store.has_value());
  if (!store) return out;
  fs->fail_nth_write(fail_at);
  for (int i = 0; i < events; ++i) {
    auto r = (*store)->append(coord("e:" + std::to_string(i % 3)), kKindA,
                              std::vector<uint8_t>(200, static_cast<uint8_t>(i)));
    if (!r) break;
    out.receipts.push_back(*r);
  }
  out.writer_failed = !(*store)->close();  // Poisoned: close() returns the write's error.
  return out;
}

TEST(TailRingStore, AFailedSegmentWriteAtAnyPointLosesNoAcknowledgedEvent) {
  uint64_t taken_from_ring = 0;
  uint64_t runs_with_a_writer_failure = 0;
  for (uint64_t fail_at = 1; fail_at <= 24; ++fail_at) {
    SCOPED_TRACE("fail_at " + std::to_string(fail_at));
    testing::TempDir tmp;
    const std::string dir = tmp.sub("s");
    const Acknowledged acked = append_until_the_write_fails(dir, fail_at, 60);
    ASSERT_FALSE(acked.receipts.empty());
    {  // A read-only open neither changes the ring nor takes its events.
      const auto ring_before = testing::read_file_bytes(ring_path(dir));
      StoreOptions ro;
      ro.access = AccessMode::kReadOnly;
      BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, ro));
      EXPECT_EQ(store->open_report().events_from_tail_ring, 0u);
      EXPECT_EQ(testing::read_file_bytes(ring_path(dir)), ring_before);
    }
    StoreOptions o;  // kSync: the ring is still taken, then removed.
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, o));
    const uint64_t from_ring = store->open_report().events_from_tail_ring;
    if (acked.writer_failed) {
      ++runs_with_a_writer_failure;
      EXPECT_GE(from_ring, 1u);  // The failed write's events were acknowledged from the ring.
    }
    taken_from_ring += from_ring;
    EXPECT_EQ(store->stats().event_count, acked.receipts.size());
    for (const Receipt& r : acked.receipts) {
      BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
      expect_receipt_matches(r, e);
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
    EXPECT_TRUE(report.ok());
    EXPECT_FALSE(std::filesystem::exists(ring_path(dir)));
    BATPAK_ASSERT_OK(store->append(coord("e:0"), kKindA, bytes("after")));  // The chain goes on.
  }
  EXPECT_GE(runs_with_a_writer_failure, 12u);  // Frame writes and segment header writes.
  EXPECT_GT(taken_from_ring, runs_with_a_writer_failure);
}

TEST(TailRingStore, ABufferedReopenMakesANewRingAndKeepsTheTakenEvents) {
  testing::TempDir tmp;
  const std::string dir = tmp.sub("s");
  const Acknowledged acked = append_until_the_write_fails(dir, 3, 40);
  ASSERT_TRUE(acked.writer_failed);
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, buffered()));
    EXPECT_GE(store->open_report().events_from_tail_ring, 1u);
    EXPECT_EQ(store->stats().event_count, acked.receipts.size());
    // The new ring holds no record: nothing would be taken twice.
    EXPECT_TRUE(writer::decode_tail_ring(testing::read_file_bytes(ring_path(dir))).empty());
    BATPAK_ASSERT_OK(store->append(coord("e:1"), kKindA, bytes("more")));
    BATPAK_ASSERT_OK(store->close());
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, buffered()));
  EXPECT_EQ(store->open_report().events_from_tail_ring, 0u);
  EXPECT_EQ(store->stats().event_count, acked.receipts.size() + 1);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
}

TEST(TailRingStore, AnFsThatCannotMapStillGetsBufferedAppends) {
  testing::TempDir tmp;
  auto fs = std::make_shared<testing::FaultFs>();  // map_shared: kUnsupported.
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp.sub("s"), buffered(fs)));
  // No ring file is left behind (each open would otherwise read and zero it again).
  BATPAK_ASSERT_OK_AND_ASSIGN(ring_exists, fs->exists(ring_path(tmp.sub("s"))));
  EXPECT_FALSE(ring_exists);
  for (int i = 0; i < 50; ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("e"), kKindA, bytes("x")));
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
    EXPECT_EQ(e.header.clock, static_cast<uint32_t>(i + 1));
  }
}

TEST(TailRingStore, RingSizesOutsideTheLimitsAreRefused) {
  testing::TempDir tmp;
  const uint64_t min = writer::kTailRingBytesMin;
  for (uint64_t bad : {uint64_t{0}, min - 4096, min + 1, writer::kTailRingBytesMax + 4096}) {
    StoreOptions o = buffered();
    o.tail_ring_bytes = bad;
    auto store = Store::open(tmp.sub("s"), o);
    ASSERT_FALSE(store.has_value()) << bad;
    EXPECT_EQ(store.error().code, ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace batpak::store_test
