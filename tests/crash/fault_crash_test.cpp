// Crash states produced through the Fs seam (FaultFs): a torn last group write, a torn
// batch, and failed fsyncs and writes. After each, the directory is reopened with the real
// posix file system, as a restarted process would.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>

#include "format/format.hpp"
#include "format/record.hpp"
#include "support/fault_fs.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr EventKind kKind{0x1001};

std::vector<uint8_t> read_file(const std::string& path, uint64_t offset = 0,
                               uint64_t len = UINT64_MAX) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> all{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (offset >= all.size()) return {};
  const uint64_t end = std::min<uint64_t>(all.size(), offset + std::min<uint64_t>(len, all.size()));
  return {all.begin() + static_cast<ptrdiff_t>(offset), all.begin() + static_cast<ptrdiff_t>(end)};
}

BatchItem item(const std::string& entity, const std::string& payload) {
  return BatchItem{coord(entity), kKind, bytes(payload), {}};
}

uint64_t frame_size(const BatchItem& i) {
  return format::frame_bytes(i.coordinate.entity().size(), i.coordinate.scope().size(), i.payload.size());
}

// A frame without its zero padding: a write torn inside the padding is complete, because
// the preallocated bytes it would have written are zeros already.
uint64_t unpadded_frame_size(const BatchItem& i) {
  return format::kFrameHeaderBytes + format::kRecordFixedBytes + i.coordinate.entity().size() +
         i.coordinate.scope().size() + i.payload.size();
}

StoreOptions options_with(std::shared_ptr<Fs> fs) {
  StoreOptions o;
  o.fs = std::move(fs);
  o.durability = Durability::kSync;
  o.preallocate_bytes = 8192;
  return o;
}

// kBuffered over `fs`, syncing only when asked: no background sync interferes with a test.
StoreOptions buffered_options_with(std::shared_ptr<Fs> fs) {
  StoreOptions o = options_with(std::move(fs));
  o.durability = Durability::kBuffered;
  o.sync_every_events = 1000000;
  o.sync_every_ms = 60000;
  return o;
}

// The outcome of one simulated crash in the middle of a commit.
struct CrashedCommit {
  std::vector<Receipt> acked;  // Appends that returned before the crash.
  std::string segment;         // File the torn group write went to.
  uint64_t group_offset = 0;   // Where the torn group write started.
  uint64_t group_bytes = 0;    // Its full length.
  std::vector<uint8_t> kept;   // The bytes of it that reached the disk.
};

class FaultCrashTest : public ::testing::Test {
 protected:
  // Appends `acked_count` events durably through a FaultFs, then commits `group` (one
  // append_batch, or one append when it holds a single item) while the group's fdatasync
  // "kills the machine" (fails and freezes the file system). Then makes the disk look like
  // only `keep(group_bytes)` bytes of the group write had reached it, and drops the store.
  void crash_mid_commit(const std::string& dir, int acked_count, const std::vector<BatchItem>& group,
                        const std::function<uint64_t(uint64_t)>& keep, CrashedCommit& out) {
    auto fs = std::make_shared<FaultFs>();
    auto opened = Store::open(dir, options_with(fs));
    ASSERT_TRUE(opened.has_value()) << opened.error().to_string();
    std::unique_ptr<Store> store = std::move(*opened);
    for (int i = 0; i < acked_count; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("acct:" + std::to_string(i % 3)), kKind,
                                                    bytes("acked-" + std::to_string(i))));
      out.acked.push_back(r);
    }
    fs->set_freeze_on_fault(true);
    fs->fail_nth_sync(1);
    if (group.size() == 1) {
      BATPAK_EXPECT_ERROR(store->append(group[0].coordinate, group[0].kind, group[0].payload), ErrorCode::kIo);
    } else {
      BATPAK_EXPECT_ERROR(store->append_batch(group), ErrorCode::kIo);
    }
    ASSERT_TRUE(fs->frozen());
    // The group's frames went out in one write; find it among the unsynced changes.
    const auto pending = fs->pending();
    std::optional<size_t> group_write;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!pending[i].truncate && !pending[i].all_zero && pending[i].path.ends_with(".seg")) {
        ASSERT_FALSE(group_write.has_value()) << "the group was written with more than one pwrite";
        group_write = i;
      }
    }
    ASSERT_TRUE(group_write.has_value());
    const auto& w = pending[*group_write];
    uint64_t expected_bytes = 0;
    for (const BatchItem& i : group) expected_bytes += frame_size(i);
    ASSERT_EQ(w.bytes, expected_bytes);
    out.segment = w.path;
    out.group_offset = w.offset;
    out.group_bytes = w.bytes;
    const uint64_t kept = keep(w.bytes);
    BATPAK_ASSERT_OK(fs->crash(*group_write, kept));
    out.kept = read_file(w.path, w.offset, kept);
    ASSERT_EQ(out.kept.size(), kept);
    store.reset();  // Its close fails (poisoned, frozen fs); the lock is released.
  }

  std::unique_ptr<Store> reopen(const std::string& dir, AccessMode access = AccessMode::kReadWrite) {
    StoreOptions o;
    o.access = access;
    auto store = Store::open(dir, o);
    EXPECT_TRUE(store.has_value()) << store.error().to_string();
    return store ? std::move(*store) : nullptr;
  }

  // Every acknowledged event is present with its committed hash.
  void expect_acked_present(const Store& store, const std::vector<Receipt>& acked) {
    for (const Receipt& r : acked) {
      auto e = store.get(r.event_id);
      ASSERT_TRUE(e.has_value()) << "acknowledged event lost: " << r.event_id.to_hex();
      EXPECT_EQ(e->header.event_hash, r.event_hash);
      EXPECT_EQ(e->header.global_sequence, r.global_sequence);
    }
  }

  TempDir tmp_;
};

// Invariant: a torn write of the last group in the newest segment is an unacknowledged
// write. Open reports it (file, offset), saves its bytes beside the segment, cuts it off,
// keeps every acknowledged event, and every later open is clean while appends continue.
TEST_F(FaultCrashTest, TornLastGroupWriteIsReportedSavedCutAndLaterOpensAreClean) {
  const std::vector<BatchItem> group{item("acct:1", std::string(149, 'z'))};
  const uint64_t f = frame_size(group[0]);
  const uint64_t body = unpadded_frame_size(group[0]);
  ASSERT_LT(body, f) << "pick a payload size whose frame has padding";
  for (uint64_t keep : {uint64_t{1}, uint64_t{8}, uint64_t{16}, uint64_t{17}, f / 2, body - 1}) {
    SCOPED_TRACE("kept " + std::to_string(keep) + " of " + std::to_string(f) + " bytes");
    const std::string dir = tmp_.sub("torn-" + std::to_string(keep));
    CrashedCommit c;
    crash_mid_commit(dir, 10, group, [&](uint64_t) { return keep; }, c);
    if (HasFatalFailure()) return;
    auto trimmed = c.kept;
    while (!trimmed.empty() && trimmed.back() == 0) trimmed.pop_back();
    auto store = reopen(dir);
    ASSERT_NE(store, nullptr);
    const OpenReport& report = store->open_report();
    if (trimmed.empty()) {  // The kept bytes of the checksum were zeros (1 in 256 for 1 byte):
      EXPECT_FALSE(report.torn_tail);  // no different from a write that never started.
      EXPECT_EQ(report.events_recovered, 10u);
      continue;
    }
    EXPECT_TRUE(report.torn_tail);
    EXPECT_EQ(report.torn_tail_file, c.segment);
    EXPECT_EQ(report.torn_tail_offset, c.group_offset);
    EXPECT_EQ(report.torn_tail_bytes, trimmed.size());
    EXPECT_EQ(report.events_recovered, 10u);
    ASSERT_FALSE(report.torn_tail_saved_as.empty());
    EXPECT_EQ(read_file(report.torn_tail_saved_as), trimmed) << "saved torn bytes differ";
    EXPECT_EQ(std::filesystem::file_size(c.segment), c.group_offset) << "torn tail not cut";
    expect_acked_present(*store, c.acked);
    EXPECT_EQ(expect_log_invariants(*store).size(), 10u);
    expect_verify_ok(*store, 10);
    BATPAK_ASSERT_OK(store->close());

    // Later opens are clean, and the log continues where the acknowledged events ended.
    store = reopen(dir);
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->open_report().torn_tail);
    EXPECT_EQ(torn_files(dir).size(), 1u);
    BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("acct:1"), kKind, bytes("after")));
    EXPECT_EQ(next.global_sequence, 11u);
    EXPECT_EQ(next.clock, store->entity_generation("acct:1"));
    expect_log_invariants(*store);
    expect_verify_ok(*store, 11);
    BATPAK_ASSERT_OK(store->close());
    store = reopen(dir, AccessMode::kReadOnly);
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->open_report().torn_tail);
    expect_acked_present(*store, c.acked);
    expect_acked_present(*store, {next});
  }
}

// Invariant: read-only opens report a torn tail but never modify a file.
TEST_F(FaultCrashTest, ReadOnlyOpenOfATornTailReportsItAndChangesNothing) {
  const std::string dir = tmp_.sub("ro");
  CrashedCommit c;
  crash_mid_commit(dir, 4, {item("acct:0", "torn")}, [](uint64_t n) { return n / 2; }, c);
  if (HasFatalFailure()) return;
  const auto size_before = std::filesystem::file_size(c.segment);
  for (AccessMode mode : {AccessMode::kReadOnly, AccessMode::kSalvage}) {
    auto store = reopen(dir, mode);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(store->open_report().torn_tail);
    EXPECT_EQ(store->open_report().torn_tail_offset, c.group_offset);
    EXPECT_TRUE(store->open_report().torn_tail_saved_as.empty());
    expect_acked_present(*store, c.acked);
    expect_verify_ok(*store, 4);
  }
  EXPECT_EQ(std::filesystem::file_size(c.segment), size_before);
  EXPECT_TRUE(torn_files(dir).empty());
}

// Invariant: batches are atomic across a crash. A batch write torn anywhere (even exactly
// between two complete, valid frames of it) leaves none of its events visible; a batch
// write that fully reached the disk is wholly visible.
TEST_F(FaultCrashTest, TornBatchWriteLeavesNoneOfTheBatchVisible) {
  std::vector<BatchItem> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(item(i % 2 ? "acct:1" : "acct:batch", "batch-item-" + std::to_string(i) +
                                                             std::string(static_cast<size_t>(20 * i), 'b')));
  }
  std::vector<uint64_t> ends;  // Frame boundaries inside the batch write.
  uint64_t at = 0;
  for (const BatchItem& i : batch) ends.push_back(at += frame_size(i));
  const uint64_t total = ends.back();
  ASSERT_LT(unpadded_frame_size(batch.back()), frame_size(batch.back())) << "pick sizes with padding";
  struct Case {
    uint64_t keep;
    bool whole_batch_visible;
  };
  const std::vector<Case> cases{{ends[0], false},      {ends[0] + 5, false}, {ends[2], false},
                                {ends[2] + 100, false}, {ends[3], false},
                                {ends[3] + unpadded_frame_size(batch.back()) - 1, false},
                                {total - 1, true},  // Only padding missing: complete.
                                {total, true}};
  for (const Case& k : cases) {
    SCOPED_TRACE("kept " + std::to_string(k.keep) + " of " + std::to_string(total) + " bytes");
    const std::string dir = tmp_.sub("batch-" + std::to_string(k.keep));
    CrashedCommit c;
    crash_mid_commit(dir, 6, batch, [&](uint64_t) { return k.keep; }, c);
    if (HasFatalFailure()) return;

    auto store = reopen(dir);
    ASSERT_NE(store, nullptr);
    expect_acked_present(*store, c.acked);
    const std::vector<Event> all = expect_log_invariants(*store);
    size_t batch_events = 0;
    for (const Event& e : all) batch_events += text(e.payload).starts_with("batch-item-");
    if (k.whole_batch_visible) {
      EXPECT_EQ(batch_events, batch.size());
      EXPECT_FALSE(store->open_report().torn_tail);
      EXPECT_EQ(all.size(), 6u + batch.size());
    } else {
      EXPECT_EQ(batch_events, 0u) << "a torn batch is partly visible";
      EXPECT_EQ(all.size(), 6u);
      EXPECT_TRUE(store->open_report().torn_tail);
      EXPECT_EQ(store->open_report().torn_tail_offset, c.group_offset);
      EXPECT_EQ(store->entity_generation("acct:batch"), 0u);
    }
    expect_verify_ok(*store, all.size());
    // Appends continue on a clean log.
    BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("acct:batch"), kKind, bytes("after")));
    EXPECT_EQ(next.global_sequence, all.size() + 1);
    BATPAK_ASSERT_OK(store->close());
    store = reopen(dir);
    ASSERT_NE(store, nullptr);
    EXPECT_FALSE(store->open_report().torn_tail);
    expect_verify_ok(*store, all.size() + 1);
  }
}

// Invariant: a failed fdatasync poisons the writer. The append whose sync failed returns
// kIo; every later write returns kPoisoned (never a retried fsync); reads keep working; a
// reopen recovers a verifiable log with every acknowledged event.
TEST_F(FaultCrashTest, FailedFsyncPoisonsTheWriterUntilReopen) {
  const std::string dir = tmp_.sub("poison-sync");
  auto fs = std::make_shared<FaultFs>();
  std::vector<Receipt> acked;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, options_with(fs)));
    for (int i = 0; i < 5; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("acct:0"), kKind, bytes("ok-" + std::to_string(i))));
      acked.push_back(r);
    }
    fs->fail_nth_sync(1);
    BATPAK_EXPECT_ERROR(store->append(coord("acct:0"), kKind, bytes("failed-sync")), ErrorCode::kIo);
    const uint64_t syncs_after_failure = fs->syncs();
    BATPAK_EXPECT_ERROR(store->append(coord("acct:0"), kKind, bytes("later")), ErrorCode::kPoisoned);
    BATPAK_EXPECT_ERROR(store->append(coord("acct:9"), kKind, bytes("later")), ErrorCode::kPoisoned);
    BATPAK_EXPECT_ERROR(store->append_batch(std::vector<BatchItem>{item("acct:1", "b")}), ErrorCode::kPoisoned);
    BATPAK_EXPECT_ERROR(store->sync(), ErrorCode::kPoisoned);
    EXPECT_EQ(fs->syncs(), syncs_after_failure) << "the writer retried a sync after a failed one";
    expect_acked_present(*store, acked);
    EXPECT_FALSE(store->close().has_value()) << "close hides the poisoned writer";
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir));
  expect_acked_present(*store, acked);
  const std::vector<Event> all = expect_log_invariants(*store);
  // The event whose sync failed reached the page cache: its fate was unknown, and either
  // outcome is honest, but nothing written after the failure may exist.
  ASSERT_TRUE(all.size() == 5 || all.size() == 6) << all.size();
  if (all.size() == 6) {
    EXPECT_EQ(text(all[5].payload), "failed-sync");
  }
  expect_verify_ok(*store, all.size());
  BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("acct:0"), kKind, bytes("after reopen")));
  EXPECT_EQ(next.global_sequence, all.size() + 1);
}

// Invariant: a failed write poisons the writer too, and the failed append left no event.
TEST_F(FaultCrashTest, FailedWritePoisonsTheWriterAndLeavesNoEvent) {
  const std::string dir = tmp_.sub("poison-write");
  auto fs = std::make_shared<FaultFs>();
  std::vector<Receipt> acked;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, options_with(fs)));
    for (int i = 0; i < 3; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("acct:0"), kKind, bytes("ok")));
      acked.push_back(r);
    }
    fs->fail_nth_write(1);
    BATPAK_EXPECT_ERROR(store->append(coord("acct:0"), kKind, bytes("failed-write")), ErrorCode::kIo);
    BATPAK_EXPECT_ERROR(store->append(coord("acct:0"), kKind, bytes("later")), ErrorCode::kPoisoned);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir));
  EXPECT_FALSE(store->open_report().torn_tail);
  expect_acked_present(*store, acked);
  EXPECT_EQ(expect_log_invariants(*store).size(), 3u);
  expect_verify_ok(*store, 3);
}

// Invariant: in kBuffered mode a failed background or explicit sync poisons the writer as
// well: sync() reports kIo, later appends kPoisoned; the written events survive a reopen.
TEST_F(FaultCrashTest, FailedSyncOfABufferedStorePoisonsItUntilReopen) {
  const std::string dir = tmp_.sub("poison-buffered");
  auto fs = std::make_shared<FaultFs>();
  std::vector<Receipt> written;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, buffered_options_with(fs)));
    for (int i = 0; i < 4; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("acct:0"), kKind, bytes("buffered")));
      written.push_back(r);
    }
    fs->fail_nth_sync(1);
    BATPAK_EXPECT_ERROR(store->sync(), ErrorCode::kIo);
    BATPAK_EXPECT_ERROR(store->append(coord("acct:0"), kKind, bytes("later")), ErrorCode::kPoisoned);
    BATPAK_EXPECT_ERROR(store->sync(), ErrorCode::kPoisoned);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir));
  expect_acked_present(*store, written);  // Written to the OS before the failure: still there.
  EXPECT_EQ(expect_log_invariants(*store).size(), 4u);
  expect_verify_ok(*store, 4);
}

// Invariant: with kBuffered durability a crash (power cut) loses at most the unsynced
// suffix: what remains is a prefix of the log, verifiable, with every synced event.
TEST_F(FaultCrashTest, PowerCutOfABufferedStoreKeepsEverySyncedEventAndAPrefix) {
  const std::string dir = tmp_.sub("buffered-cut");
  auto fs = std::make_shared<FaultFs>();
  std::vector<Receipt> synced;
  std::vector<Receipt> unsynced;
  {
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, buffered_options_with(fs)));
    for (int i = 0; i < 8; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("acct:" + std::to_string(i % 2)), kKind, bytes("s")));
      synced.push_back(r);
    }
    BATPAK_ASSERT_OK(store->sync());
    for (int i = 0; i < 8; ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("acct:" + std::to_string(i % 2)), kKind, bytes("u")));
      unsynced.push_back(r);
    }
    const auto pending = fs->pending();
    size_t frame_writes = 0;
    for (const auto& p : pending) frame_writes += !p.all_zero && !p.truncate;
    ASSERT_EQ(frame_writes, 8u) << "kBuffered writes each append with its own pwrite";
    // Keep the first three unsynced writes whole and tear the fourth.
    size_t keep_whole = 0;
    for (size_t seen = 0; keep_whole < pending.size(); ++keep_whole) {
      if (!pending[keep_whole].all_zero && !pending[keep_whole].truncate && seen++ == 3) break;
    }
    BATPAK_ASSERT_OK(fs->crash(keep_whole, 40));
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir));
  expect_acked_present(*store, synced);
  std::vector<Receipt> kept(unsynced.begin(), unsynced.begin() + 3);
  expect_acked_present(*store, kept);
  EXPECT_EQ(expect_log_invariants(*store).size(), 11u);
  EXPECT_TRUE(store->open_report().torn_tail);
  expect_verify_ok(*store, 11);
}

// Invariant: wherever a crash lands (at every fdatasync/fsync of a workload that rotates
// segments and commits batches), and whatever part of the unsynced writes reached the disk
// (none, all, or all but a torn last one), the store reopens with every acknowledged event
// and a verifiable log.
TEST_F(FaultCrashTest, CrashAtEverySyncPointOfARotatingWorkloadRecovers) {
  auto workload = [](Store& store, std::vector<Receipt>& acked) {
    for (int i = 0; i < 24; ++i) {
      const std::string entity = "acct:" + std::to_string(i % 3);
      if (i % 5 == 4) {
        std::vector<BatchItem> batch{item(entity, "batch-a-" + std::to_string(i)),
                                     item("acct:shared", "batch-b-" + std::to_string(i))};
        auto r = store.append_batch(batch);
        if (!r) return;
        acked.insert(acked.end(), r->begin(), r->end());
      } else {
        auto r = store.append(coord(entity), kKind, bytes("event-" + std::to_string(i) + std::string(300, 'p')));
        if (!r) return;
        acked.push_back(*r);
      }
    }
  };
  auto options = [](std::shared_ptr<Fs> fs) {
    StoreOptions o = options_with(std::move(fs));
    o.segment_bytes_max = 4096;
    o.preallocate_bytes = 4096;
    // Footers are written by the background thread as segments are sealed: its syncs would
    // make the counts below differ from the dry run's. segment_footer_test.cpp crashes them.
    o.segment_footers = false;
    return o;
  };
  // A dry run counts the syncs the workload performs after open.
  uint64_t total_syncs = 0;
  {
    auto fs = std::make_shared<FaultFs>();
    BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp_.sub("dry"), options(fs)));
    const uint64_t before = fs->syncs();
    std::vector<Receipt> acked;
    workload(*store, acked);
    ASSERT_EQ(acked.size(), 24u + 4u);
    total_syncs = fs->syncs() - before;
    ASSERT_GE(segment_paths(tmp_.sub("dry")).size(), 3u) << "the workload should rotate";
  }
  enum class Kept { kNothing, kEverything, kTornLast };
  int case_no = 0;
  for (uint64_t k = 1; k <= total_syncs; ++k) {
    for (Kept kept : {Kept::kNothing, Kept::kEverything, Kept::kTornLast}) {
      SCOPED_TRACE("crash at sync " + std::to_string(k) + " of " + std::to_string(total_syncs) +
                   ", kept mode " + std::to_string(static_cast<int>(kept)));
      const std::string dir = tmp_.sub("sync-point-" + std::to_string(case_no++));
      std::vector<Receipt> acked;
      {
        auto fs = std::make_shared<FaultFs>();
        BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(dir, options(fs)));
        fs->set_freeze_on_fault(true);
        fs->fail_nth_sync(k);
        workload(*store, acked);
        ASSERT_TRUE(fs->frozen());
        const auto pending = fs->pending();
        size_t keep_whole = 0;
        uint64_t prefix = 0;
        if (kept == Kept::kEverything) keep_whole = pending.size();
        if (kept == Kept::kTornLast) {
          for (size_t i = pending.size(); i > 0; --i) {
            if (!pending[i - 1].truncate && !pending[i - 1].all_zero) {
              keep_whole = i - 1;
              prefix = pending[i - 1].bytes / 2;
              break;
            }
          }
        }
        BATPAK_ASSERT_OK(fs->crash(keep_whole, prefix));
      }
      auto store = reopen(dir);
      ASSERT_NE(store, nullptr);
      expect_acked_present(*store, acked);
      const std::vector<Event> all = expect_log_invariants(*store);
      expect_verify_ok(*store, all.size());
      BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("acct:0"), kKind, bytes("after")));
      EXPECT_EQ(next.global_sequence, all.size() + 1);
      BATPAK_ASSERT_OK(store->close());
      store = reopen(dir);
      ASSERT_NE(store, nullptr);
      EXPECT_FALSE(store->open_report().torn_tail);
      expect_verify_ok(*store, all.size() + 1);
      if (HasFailure()) return;
    }
  }
}

}  // namespace
}  // namespace batpak::testing
