// Store::drop_history under power cuts and I/O errors (SimFs). Invariants proved here:
// 1. Whatever mutating call of a drop the power fails at, the disk (under durable or current
//    names) opens read-write with the old history or the new one, never a mix: every event at
//    or above the horizon the finished drop reports is there, byte-identical (event_hash); the
//    events below it are all there or all kNotFound; verify() is ok and stats() counts the
//    events kept; entity generations are unchanged, and an append to each entity links to its
//    previous head (prev_hash, clock). After that open nothing of the dropped history remains:
//    no segment below the horizon, no footer of one, no index checkpoint covering them. A drop
//    that returned survives every cut after it.
// 2. Segments left below a durable horizon by a cut are ignored, not removed, by a read-only
//    (or salvage) open, which reads the journal from the horizon; a read-write open removes them.
// 3. An I/O error at any mutating call of a drop fails it and leaves old or new history as in 1;
//    calling drop_history again completes the drop, durably.
// Each runs on a history indexed by an index checkpoint and on one indexed by segment footers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "segment/segment_files.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
const std::string kDir = "/sim/store";
constexpr int kEvents = 48;
constexpr int kEntities = 4;
constexpr uint64_t kDropBefore = 24;  // In the middle: some segments go, some stay.

StoreOptions options_on(std::shared_ptr<Fs> fs, AccessMode access = AccessMode::kReadWrite) {
  StoreOptions options;
  options.fs = std::move(fs);
  options.access = access;
  options.segment_bytes_max = 4096;
  options.preallocate_bytes = 0;  // Megabytes of zeros per segment would only slow SimFs down.
  return options;
}

Coordinate coord_of(const std::string& entity) { return Coordinate::make(entity, "s").value(); }

struct History {
  std::shared_ptr<SimFs> fs;
  std::vector<Receipt> receipts;        // Every event, in global sequence order.
  std::map<std::string, Receipt> heads;  // Each entity's last event.
};

// A closed kSync store of kEvents 200-byte events over kEntities entities: several segments,
// indexed by an index checkpoint or, without one, by segment footers.
History write_history(bool index_checkpoint) {
  History h{std::make_shared<SimFs>(), {}, {}};
  StoreOptions options = options_on(h.fs);
  options.index_checkpoint = index_checkpoint;
  auto store = Store::open(kDir, std::move(options));
  EXPECT_TRUE(store) << store.error().to_string();
  if (!store) return h;
  for (int i = 0; i < kEvents; ++i) {
    auto r = (*store)->append(coord_of("e" + std::to_string(i % kEntities)), kKind,
                              std::vector<uint8_t>(200, static_cast<uint8_t>(i)));
    EXPECT_TRUE(r) << r.error().to_string();
    if (!r) return h;
    h.receipts.push_back(*r);
    h.heads[r->entity] = *r;
  }
  EXPECT_TRUE((*store)->close());
  return h;
}

// What remains in kDir of the history below segment `first_segment_id`: its segment files,
// their footers and, once history was dropped, the index checkpoint (it describes that history).
std::vector<std::string> files_below(Fs& fs, uint64_t first_segment_id) {
  auto names = fs.list_dir(kDir);
  EXPECT_TRUE(names) << names.error().to_string();
  std::vector<std::string> out;
  for (const std::string& name : names ? *names : std::vector<std::string>{}) {
    const std::string segment_name = name.ends_with(".footer") ? name.substr(0, name.size() - 7) : name;
    const auto id = segment::parse_segment_file_name(segment_name);
    if ((id && *id < first_segment_id) || (first_segment_id > 1 && name == "index.checkpoint")) out.push_back(name);
  }
  return out;
}

// The disk as it is now, with no power cut: every unsynced change kept, under current names.
std::shared_ptr<SimFs> snapshot(const SimFs& fs) {
  std::vector<SimFs::Survivor> survivors;
  for (const SimFs::PendingFile& f : fs.pending_files()) survivors.push_back({f.path, f.changes, false, {}});
  return fs.crashed_copy(survivors, /*current_names=*/true);
}

struct Drop {
  std::shared_ptr<SimFs> fs;  // The file system it ran on: a copy of the history's.
  Result<DropHistoryReport> report;
  uint64_t calls = 0;  // The mutating calls it made.
};

// drop_history(kDropBefore) on a copy of `h`'s disk, with a power cut at its `cut`-th mutating
// call and an I/O error at its `error`-th (0: none).
Drop drop_on_copy(const History& h, uint64_t cut, uint64_t error) {
  Drop d{h.fs->crashed_copy({}, false), {}, 0};
  const uint64_t before = d.fs->operations();
  d.fs->crash_at(cut);
  d.fs->fail_at(error, /*persistent=*/false);
  d.report = Store::drop_history(kDir, kDropBefore, DropHistoryOptions{options_on(d.fs), false});
  d.calls = d.fs->operations() - before;
  return d;
}

// Opens `disk` read-write and checks it holds `h`'s old history or the new one `done` reports
// (invariant 1); whether it is the new one.
bool expect_old_or_new(const std::shared_ptr<SimFs>& disk, const History& h, const DropHistoryReport& done) {
  auto opened = Store::open(kDir, options_on(disk));
  EXPECT_TRUE(opened) << opened.error().to_string();
  if (!opened) return false;
  Store& store = **opened;
  size_t below_present = 0;
  size_t below_missing = 0;
  for (const Receipt& r : h.receipts) {
    auto got = store.get(r.event_id);
    if (got) {
      EXPECT_EQ(got->header.event_hash, r.event_hash) << "event " << r.global_sequence;
      below_present += r.global_sequence < done.first_sequence;
    } else {
      EXPECT_EQ(got.error().code, ErrorCode::kNotFound) << got.error().to_string();
      EXPECT_LT(r.global_sequence, done.first_sequence) << "event " << r.global_sequence << " after the horizon lost";
      ++below_missing;
    }
  }
  EXPECT_TRUE(below_present == 0 || below_missing == 0)
      << "a mix: " << below_present << " events below the horizon kept, " << below_missing << " dropped";
  const bool dropped = below_missing > 0;
  const uint64_t kept = dropped ? kEvents - (done.first_sequence - 1) : kEvents;
  auto verified = store.verify();
  EXPECT_TRUE(verified) << verified.error().to_string();
  if (verified) {
    EXPECT_TRUE(verified->ok()) << verified->damage->reason;
    EXPECT_EQ(verified->events_checked, kept);
  }
  EXPECT_EQ(store.stats().event_count, kept);
  if (dropped) {
    EXPECT_EQ(files_below(*disk, done.first_segment_id), std::vector<std::string>{}) << "dropped segments remain";
  }
  for (const auto& [entity, head] : h.heads) {
    EXPECT_EQ(store.entity_generation(entity), head.clock) << entity;
    auto next = store.append(coord_of(entity), kKind, std::vector<uint8_t>{1});
    EXPECT_TRUE(next) << next.error().to_string();
    if (!next) continue;
    EXPECT_EQ(next->clock, head.clock + 1) << entity;
    EXPECT_EQ(next->prev_hash, head.event_hash) << entity;
  }
  EXPECT_TRUE(store.close());
  return dropped;
}

// Parameter: whether the history has an index checkpoint (else segment footers).
class DropHistoryCrash : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    history_ = write_history(GetParam());
    auto names = history_.fs->list_dir(kDir);
    ASSERT_TRUE(names);
    ASSERT_EQ(std::count(names->begin(), names->end(), "index.checkpoint"), GetParam() ? 1 : 0);
    ASSERT_EQ(std::count(names->begin(), names->end(), "000000000001.seg.footer"), GetParam() ? 0 : 1);
    ASSERT_EQ(history_.receipts.size(), static_cast<size_t>(kEvents));
    whole_ = drop_on_copy(history_, 0, 0);
    ASSERT_TRUE(whole_.report) << whole_.report.error().to_string();
    ASSERT_GE(whole_.report->segments_removed, 2u);
    ASSERT_GT(whole_.report->first_sequence, 1u);
    ASSERT_LE(whole_.report->first_sequence, kDropBefore);
    ASSERT_GT(whole_.calls, 6u);
  }

  const DropHistoryReport& done() const { return *whole_.report; }

  History history_;
  Drop whole_;  // The drop without a fault.
};

TEST_P(DropHistoryCrash, APowerCutAtAnyCallLeavesTheOldHistoryOrTheNew) {
  size_t old_history = 0;
  size_t new_history = 0;
  for (uint64_t cut = 1; cut <= whole_.calls + 1; ++cut) {
    const Drop run = drop_on_copy(history_, cut, 0);
    ASSERT_EQ(run.report.has_value(), cut > whole_.calls) << "cut at call " << cut << " of " << whole_.calls;
    for (bool current_names : {false, true}) {
      SCOPED_TRACE("cut at call " + std::to_string(cut) + (current_names ? ", current names" : ", durable names"));
      const bool is_new = expect_old_or_new(run.fs->crashed_copy({}, current_names), history_, done());
      EXPECT_TRUE(is_new || !run.report) << "a drop that returned was lost";
      (is_new ? new_history : old_history) += 1;
      if (HasFailure()) return;
    }
  }
  std::printf("drop_history power cuts: %llu mutating calls: old history on %zu disks, new on %zu\n",
              static_cast<unsigned long long>(whole_.calls), old_history, new_history);
  EXPECT_GT(old_history, 0u);
  EXPECT_GT(new_history, 0u);
}

TEST_P(DropHistoryCrash, SegmentsLeftBelowADurableHorizonAreIgnoredReadOnlyAndRemovedReadWrite) {
  // Cut at the drop's first removal of a segment: the horizon is durable, every segment stays.
  const std::vector<std::string> calls = whole_.fs->calls();
  uint64_t cut = 0;
  for (size_t i = calls.size() - whole_.calls; i < calls.size() && cut == 0; ++i) {
    if (calls[i].starts_with("remove ") && calls[i].ends_with(".seg")) cut = i - (calls.size() - whole_.calls) + 1;
  }
  ASSERT_GT(cut, 0u) << "the drop removes no segment";
  const Drop run = drop_on_copy(history_, cut, 0);
  ASSERT_FALSE(run.report);
  const std::shared_ptr<SimFs> disk = run.fs->crashed_copy({}, false);
  const std::vector<std::string> left = files_below(*disk, done().first_segment_id);
  // Each dropped segment, and its footer or the index checkpoint.
  ASSERT_EQ(left.size(), GetParam() ? done().segments_removed + 1 : 2 * done().segments_removed);
  for (AccessMode access : {AccessMode::kReadOnly, AccessMode::kSalvage}) {
    SCOPED_TRACE(access == AccessMode::kReadOnly ? "read-only" : "salvage");
    auto store = Store::open(kDir, options_on(disk, access));
    ASSERT_TRUE(store) << store.error().to_string();
    EXPECT_EQ(files_below(*disk, done().first_segment_id), left) << "a read-only open removed files";
    auto all = (*store)->query(Region::all());
    ASSERT_TRUE(all) << all.error().to_string();
    ASSERT_EQ(all->size(), kEvents - (done().first_sequence - 1));
    EXPECT_EQ(all->front().header.global_sequence, done().first_sequence);
    auto first = (*store)->get(history_.receipts.front().event_id);
    ASSERT_FALSE(first);
    EXPECT_EQ(first.error().code, ErrorCode::kNotFound);
    auto verified = (*store)->verify();
    ASSERT_TRUE(verified) << verified.error().to_string();
    EXPECT_TRUE(verified->ok()) << verified->damage->reason;
  }
  EXPECT_EQ(files_below(*disk, done().first_segment_id), left);
  EXPECT_TRUE(expect_old_or_new(disk, history_, done())) << "the read-write open did not finish the drop";
}

TEST_P(DropHistoryCrash, AnIOErrorAtAnyCallFailsTheDropAndASecondDropCompletesIt) {
  size_t old_history = 0;
  size_t new_history = 0;
  for (uint64_t error = 1; error <= whole_.calls; ++error) {
    Drop run = drop_on_copy(history_, 0, error);
    SCOPED_TRACE("I/O error at call " + std::to_string(error) + ": " + run.fs->failed_call());
    ASSERT_FALSE(run.fs->failed_call().empty());
    EXPECT_FALSE(run.report) << "the drop did not report the error";
    run.fs->fail_at(0, false);
    (expect_old_or_new(snapshot(*run.fs), history_, done()) ? new_history : old_history) += 1;
    auto again = Store::drop_history(kDir, kDropBefore, DropHistoryOptions{options_on(run.fs), false});
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_EQ(again->first_sequence, done().first_sequence);
    EXPECT_EQ(again->first_segment_id, done().first_segment_id);
    EXPECT_EQ(files_below(*run.fs, done().first_segment_id), std::vector<std::string>{})
        << "the second drop left dropped segments";
    EXPECT_TRUE(expect_old_or_new(run.fs->crashed_copy({}, false), history_, done())) << "second drop not durable";
    if (HasFailure()) return;
  }
  EXPECT_GT(old_history, 0u);
  EXPECT_GT(new_history, 0u);
}

INSTANTIATE_TEST_SUITE_P(, DropHistoryCrash, ::testing::Bool(), [](const ::testing::TestParamInfo<bool>& param) {
  return param.param ? "IndexCheckpoint" : "SegmentFooters";
});

}  // namespace
}  // namespace batpak::testing
