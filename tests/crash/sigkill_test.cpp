// SIGKILL crash test: a child process (crash_child.cpp) appends with Durability::kSync (or
// kBuffered) from several threads and reports each acknowledged event id on a pipe only
// after its append returned. The parent kills it with SIGKILL after a random delay (counted
// from launch or from the first acknowledgement), then reopens the store
// and checks that nothing acknowledged was lost, for many cycles on the same directory.
// Set BATPAK_CRASH_SEED to replay a run.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "crash/child_process.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class SigkillTest : public ::testing::Test {
 protected:
  // Reopens the store after a kill and checks every invariant; returns the events.
  std::vector<Event> reopen_and_check(const std::string& dir, const std::set<EventId>& acked) {
    // A child killed before it created its first segment leaves none: this open creates it.
    const auto segments_before = segment_paths(dir);
    const size_t segments_found = segments_before.size();
    auto opened = Store::open(dir);
    EXPECT_TRUE(opened.has_value()) << opened.error().to_string();
    if (!opened) return {};
    std::unique_ptr<Store> store = std::move(*opened);
    const OpenReport& report = store->open_report();
    const auto segments = segment_paths(dir);
    EXPECT_EQ(report.segments, segments_found);
    // kBuffered: the tail ring's events may continue into segments the writer had not created.
    const bool from_ring = report.events_from_tail_ring > 0;
    if (!from_ring) {
      EXPECT_EQ(segments.size(), std::max<size_t>(segments_found, 1));
    }
    EXPECT_GE(segments.size(), std::max<size_t>(segments_found, 1));
    if (from_ring) ++tail_ring_takes_;
    EXPECT_EQ(report.events_recovered, store->stats().event_count);
    // The child writes checkpoints in the background: count the opens that resumed from one
    // of those (covering more than the last reopen's close did) rather than from our own.
    const uint64_t last_sequence = store->stats().last_global_sequence;
    if (report.index_source == IndexSource::kCheckpoint && last_sequence - report.frames_scanned > last_seen_[dir]) {
      ++checkpoint_resumes_;
    }
    last_seen_[dir] = last_sequence;
    if (report.torn_tail) {
      // Only the newest segment may have a torn tail, and it was saved before the cut.
      EXPECT_EQ(report.torn_tail_file, segments_before.back());
      EXPECT_TRUE(std::filesystem::exists(report.torn_tail_saved_as)) << report.torn_tail_saved_as;
      // The ring's frames, if any, were written from where the torn tail was cut.
      if (!from_ring) {
        EXPECT_EQ(std::filesystem::file_size(report.torn_tail_file), report.torn_tail_offset);
      }
      ++torn_tails_;
    }
    for (const EventId& id : acked) {
      auto e = store->get(id);
      EXPECT_TRUE(e.has_value()) << "acknowledged event lost: " << id.to_hex();
    }
    std::vector<Event> all = expect_log_invariants(*store);
    EXPECT_GE(all.size(), acked.size());
    expect_verify_ok(*store, all.size());
    EXPECT_TRUE(store->close().has_value());
    return all;
  }

  // Kills a child appending single events with `durability` ("sync" or "buffered") after a
  // random delay, `cycles` times (a fresh store every 10); checks every acknowledged event
  // after each kill. Prints one figures line naming `what`.
  void kill_single_appenders(const char* durability, int cycles, const char* what) {
    const uint32_t seed = seed_from_env();
    SCOPED_TRACE("BATPAK_CRASH_SEED=" + std::to_string(seed));
    std::mt19937 rng(seed);
    std::set<EventId> acked;
    uint64_t acked_total = 0;
    int killed = 0;
    constexpr int kCyclesPerStore = 10;  // Keeps the reopen checks short as cycles add up.
    for (int cycle = 0; cycle < cycles; ++cycle) {
      SCOPED_TRACE("cycle " + std::to_string(cycle));
      if (cycle % kCyclesPerStore == 0) {
        acked_total += acked.size();
        acked.clear();
      }
      const std::string dir = tmp_.sub(std::string(durability) + "-store-" + std::to_string(cycle / kCyclesPerStore));
      const int delay_ms = std::uniform_int_distribution<int>(5, 120)(rng);
      // One cycle in four may kill the child while it opens the store; the others count the
      // delay from its first acknowledgement, so that a loaded machine still appends.
      const KillClock clock = cycle % 4 == 0 ? KillClock::kFromLaunch : KillClock::kFromFirstOutput;
      ChildRun run = run_and_kill(BATPAK_CRASH_CHILD, {dir, "single", "4", durability}, delay_ms, clock);
      ASSERT_TRUE(run.killed || run.exit_code == 0) << "child failed, exit code " << run.exit_code;
      killed += run.killed;
      ASSERT_TRUE(run.output.empty() || run.output.back() == '\n') << "a torn acknowledgement line";
      for (const auto& words : lines_of(run.output)) {
        ASSERT_EQ(words.size(), 2u);
        ASSERT_EQ(words[0], "A");
        BATPAK_ASSERT_OK_AND_ASSIGN(id, EventId::parse(words[1]));
        acked.insert(id);
      }
      reopen_and_check(dir, acked);
      if (HasFatalFailure()) return;
    }
    acked_total += acked.size();
    std::printf("SIGKILL cycles (%s): %d (killed mid-run: %d), acknowledged events checked: %llu, reopens that "
                "resumed from the child's background index checkpoint: %d, that took events from the tail ring: %d, "
                "failures: %d\n",
                what, cycles, killed, static_cast<unsigned long long>(acked_total), checkpoint_resumes_,
                tail_ring_takes_, HasFailure() ? 1 : 0);
    if (std::string(durability) == "buffered") {
      EXPECT_GT(tail_ring_takes_, 0) << "no kill left events in the tail ring: its recovery went untested";
    }
    EXPECT_GT(killed, cycles * 2 / 3);
    EXPECT_GT(acked_total, 1000u) << "the child barely appended: the test proves little";
    RecordProperty("acknowledged", static_cast<int>(acked_total));
    RecordProperty("torn_tails", torn_tails_);
  }

  TempDir tmp_;
  int torn_tails_ = 0;
  int checkpoint_resumes_ = 0;
  int tail_ring_takes_ = 0;  // Reopens that wrote events only the tail ring held.
  std::map<std::string, uint64_t> last_seen_;  // Per store: last_global_sequence at its last reopen.
};

// Invariant: after a SIGKILL at any moment, every event whose kSync append returned is
// present after reopen, the log verifies, and the open report is consistent.
TEST_F(SigkillTest, EveryAcknowledgedSingleAppendSurvivesManyKills) {
  kill_single_appenders("sync", 300, "kSync");
}

// Invariant: a kBuffered append returns once its bytes reached the OS, so a kill of the
// process (not a power cut) loses none of them either.
TEST_F(SigkillTest, EveryAcknowledgedBufferedAppendSurvivesTheKillOfItsProcess) {
  kill_single_appenders("buffered", 60, "kBuffered");
}

// Invariant: an atomic batch is all or nothing after a SIGKILL: acknowledged batches are
// wholly present and no batch, acknowledged or not, is ever partly present.
TEST_F(SigkillTest, BatchesAreAllOrNothingAfterManyKills) {
  const uint32_t seed = seed_from_env();
  SCOPED_TRACE("BATPAK_CRASH_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed ^ 0x9e3779b9u);
  const std::string dir = tmp_.sub("store");
  std::map<std::string, std::vector<EventId>> acked_batches;  // token -> ids
  std::set<EventId> acked;
  // At least 15 cycles, more on a loaded machine until over 30 batches were acknowledged.
  for (int cycle = 0; cycle < 15 || (acked_batches.size() <= 30 && cycle < 60); ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    const int delay_ms = std::uniform_int_distribution<int>(5, 250)(rng);
    ChildRun run = run_and_kill(BATPAK_CRASH_CHILD, {dir, "batch", "3"}, delay_ms);
    ASSERT_TRUE(run.killed || run.exit_code == 0) << "child failed, exit code " << run.exit_code;
    for (const auto& words : lines_of(run.output)) {
      ASSERT_GE(words.size(), 4u);
      ASSERT_EQ(words[0], "B");
      for (size_t i = 2; i < words.size(); ++i) {
        BATPAK_ASSERT_OK_AND_ASSIGN(id, EventId::parse(words[i]));
        acked.insert(id);
        acked_batches[words[1]].push_back(id);
      }
    }
    const std::vector<Event> all = reopen_and_check(dir, acked);
    if (HasFatalFailure()) return;
    // Payload "<token>/<index>/<count>/...": every batch present is present in full, its
    // items consecutive in commit order.
    std::map<std::string, std::vector<const Event*>> batches;
    for (const Event& e : all) {
      const std::string p = text(e.payload);
      batches[p.substr(0, p.find('/'))].push_back(&e);
    }
    for (const auto& [token, events] : batches) {
      const std::string first = text(events.front()->payload);
      const size_t count = std::stoul(first.substr(first.find('/', first.find('/') + 1) + 1));
      ASSERT_EQ(events.size(), count) << "batch " << token << " is partly present";
      for (size_t i = 1; i < events.size(); ++i) {
        EXPECT_EQ(events[i]->header.global_sequence, events[0]->header.global_sequence + i);
      }
    }
    for (const auto& [token, ids] : acked_batches) {
      ASSERT_TRUE(batches.count(token)) << "acknowledged batch " << token << " lost";
      EXPECT_EQ(batches[token].size(), ids.size());
    }
  }
  EXPECT_GT(acked_batches.size(), 30u) << "the child barely appended: the test proves little";
  std::printf("batch SIGKILL: %zu batches acknowledged, reopens that resumed from the child's background index checkpoint: %d\n",
              acked_batches.size(), checkpoint_resumes_);
}

}  // namespace
}  // namespace batpak::testing
