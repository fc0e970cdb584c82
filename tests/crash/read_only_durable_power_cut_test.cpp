// The durable watermark of a read-only open, against power cuts (SimFs). Invariant proved
// here: whatever mutating call of a writer's session the machine dies at, an open of what
// the page cache held (every unsynced write kept: what another process reads while the writer
// waits for its fdatasync, or after the writer crashed) calls durable only events that the
// disk a power cut leaves (every unsynced write lost) still holds, at the same sequences.
// Both durability modes, with segment rotations; a read-write open calls all it recovered
// durable (it syncs them), and after a clean close a read-only open does too. And
// Store::holds_event_at tells a reader of the page cache whether the power cut took back the
// last event it saw.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "batpak/batpak.hpp"
#include "store/store_fixtures.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const std::string kDir = "/sim/store";

StoreOptions options_on(std::shared_ptr<Fs> fs, Durability durability, AccessMode access) {
  StoreOptions options;
  options.fs = std::move(fs);
  options.access = access;
  options.durability = durability;
  options.sync_every_events = 4;        // kBuffered: a sync every few events, within the session.
  options.sync_every_ms = 3'600'000;    // Never by time: the same calls in every run.
  options.segment_bytes_max = 4096;     // A few rotations.
  options.preallocate_bytes = 0;
  options.index_checkpoint = false;
  options.segment_footers = false;
  return options;
}

// Single appends and batches across entities, 600-byte payloads; returns the mutating calls.
uint64_t run_session(const std::shared_ptr<SimFs>& fs, Durability durability) {
  auto store = Store::open(kDir, options_on(fs, durability, AccessMode::kReadWrite));
  if (!store) return fs->operations();
  const std::vector<uint8_t> payload(600, 'p');
  for (int round = 0; round < 6; ++round) {
    const std::string entity = "order:" + std::to_string(round % 2);
    if (!(*store)->append(store_test::coord(entity), store_test::kKindA, payload)) break;
    std::vector<BatchItem> batch(2, BatchItem{store_test::coord(entity), store_test::kKindB, payload, {}});
    if (!(*store)->append_batch(batch)) break;
  }
  (void)(*store)->close();
  return fs->operations();
}

// What the page cache held when the machine died: every unsynced change, under current names.
std::shared_ptr<SimFs> page_cache_of(const SimFs& fs) {
  std::vector<SimFs::Survivor> all;
  for (const SimFs::PendingFile& f : fs.pending_files()) all.push_back({f.path, f.changes, false, std::nullopt});
  return fs.crashed_copy(all, /*current_names=*/true);
}

// The file system of a session the machine died in at mutating call `cut`.
std::shared_ptr<SimFs> session_cut_at(uint64_t cut, Durability mode) {
  auto fs = std::make_shared<SimFs>();
  fs->crash_at(cut);
  run_session(fs, mode);
  return fs;
}

class ReadOnlyDurablePowerCut : public ::testing::TestWithParam<Durability> {};

TEST_P(ReadOnlyDurablePowerCut, EveryEventAReadOnlyOpenCallsDurableSurvivesAPowerCut) {
  const Durability mode = GetParam();
  const uint64_t calls = run_session(std::make_shared<SimFs>(), mode);
  size_t states = 0, below_visible = 0;
  for (uint64_t cut = 1; cut <= calls; ++cut) {
    const auto fs = session_cut_at(cut, mode);
    const std::string when = "cut at call " + std::to_string(cut);
    auto seen = Store::open(kDir, options_on(page_cache_of(*fs), mode, AccessMode::kReadOnly));
    if (!seen) {  // No store yet: the cut came before its first segment.
      ASSERT_EQ(seen.error().code, ErrorCode::kNotFound) << when << ": " << seen.error().to_string();
      continue;
    }
    const Frontier f = (*seen)->frontier();
    ASSERT_LE(f.durable, f.visible) << when;
    auto claimed = (*seen)->query_after(Region::all(), 0, static_cast<size_t>(f.durable.global_sequence));
    ASSERT_TRUE(claimed) << when;

    auto kept = Store::open(kDir, options_on(fs->crashed_copy({}, /*current_names=*/false), mode, AccessMode::kReadWrite));
    ASSERT_TRUE(kept) << when << ": " << kept.error().to_string();
    EXPECT_EQ((*kept)->frontier().durable, (*kept)->frontier().visible) << when << ": a read-write open syncs";
    for (const Event& e : *claimed) {
      auto survivor = (*kept)->get(e.header.event_id);
      ASSERT_TRUE(survivor) << when << ": event " << e.header.global_sequence << " was called durable but is lost";
      EXPECT_EQ(survivor->header.global_sequence, e.header.global_sequence) << when;
    }
    ++states;
    below_visible += f.durable.global_sequence < f.visible.global_sequence;
  }
  std::printf("%llu mutating calls, %zu crash states, %zu with events not yet known durable\n",
              static_cast<unsigned long long>(calls), states, below_visible);
  EXPECT_GT(below_visible, 0u) << "no state had events written but not yet synced";

  // After a clean close every event is durable, and the manifest says so.
  auto clean = std::make_shared<SimFs>();
  run_session(clean, mode);
  auto closed = Store::open(kDir, options_on(clean, mode, AccessMode::kReadOnly));
  ASSERT_TRUE(closed) << closed.error().to_string();
  EXPECT_EQ((*closed)->frontier().durable, (*closed)->frontier().visible);
  EXPECT_EQ((*closed)->frontier().visible.global_sequence, 18u);
}

// A reader that saw the last visible event of the page cache asks the store the power cut left,
// after its writer appended anew, whether it still holds that event there: the answer is false
// exactly when the cut took the event back, which happens in some states.
TEST_P(ReadOnlyDurablePowerCut, HoldsEventAtIsFalseExactlyWhenThePowerCutTookBackTheEventAReaderSaw) {
  const Durability mode = GetParam();
  const uint64_t calls = run_session(std::make_shared<SimFs>(), mode);
  size_t lost = 0, kept_states = 0;
  for (uint64_t cut = 1; cut <= calls; ++cut) {
    const auto fs = session_cut_at(cut, mode);
    const std::string when = "cut at call " + std::to_string(cut);
    auto seen = Store::open(kDir, options_on(page_cache_of(*fs), mode, AccessMode::kReadOnly));
    if (!seen || (*seen)->frontier().visible.global_sequence == 0) continue;  // Nothing to have seen.
    auto last = (*seen)->query_after(Region::all(), (*seen)->frontier().visible.global_sequence - 1, 1);
    ASSERT_TRUE(last && last->size() == 1) << when;
    const uint64_t sequence = last->front().header.global_sequence;
    const EventId id = last->front().header.event_id;

    auto after = Store::open(kDir, options_on(fs->crashed_copy({}, /*current_names=*/false), mode, AccessMode::kReadWrite));
    ASSERT_TRUE(after) << when << ": " << after.error().to_string();
    auto survivor = (*after)->get(id);
    const bool survived = survivor && survivor->header.global_sequence == sequence;
    for (int i = 0; i < 20; ++i) {  // The writer goes on: new events take the lost ones' places.
      ASSERT_TRUE((*after)->append(store_test::coord("next"), store_test::kKindA, std::vector<uint8_t>(8, 'n'))) << when;
    }
    auto holds = (*after)->holds_event_at(sequence, id);
    ASSERT_TRUE(holds) << when;
    EXPECT_EQ(*holds, survived) << when;
    lost += !survived;
    kept_states += survived;
  }
  EXPECT_GT(lost, 0u) << "no state lost an event a reader saw";
  EXPECT_GT(kept_states, 0u);
}

INSTANTIATE_TEST_SUITE_P(Modes, ReadOnlyDurablePowerCut, ::testing::Values(Durability::kSync, Durability::kBuffered),
                         [](const ::testing::TestParamInfo<Durability>& param) {
                           return param.param == Durability::kSync ? "Sync" : "Buffered";
                         });

}  // namespace
}  // namespace batpak::testing
