// Invariant: a cursor worker with a durable checkpoint, SIGKILLed at random moments
// (mid-batch, mid-checkpoint-write) and restarted, handles every committed event at least
// once and in order: each restart resumes at or before the event after the last one handled,
// never after it, and within one run the events are consecutive.
#include <gtest/gtest.h>

#include <algorithm>

#include "batpak/batpak.hpp"
#include "crash/child_process.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr uint64_t kEvents = 3000;

TEST(WorkerKillTest, EveryEventIsHandledAtLeastOnceInOrderAcrossKills) {
  const uint32_t seed = seed_from_env();
  SCOPED_TRACE("BATPAK_CRASH_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);
  TempDir tmp;
  const std::string dir = tmp.sub("store");
  {
    StoreOptions options;
    options.durability = Durability::kBuffered;
    auto store = Store::open(dir, options);
    ASSERT_TRUE(store);
    for (uint64_t i = 0; i < kEvents; ++i) {
      ASSERT_TRUE((*store)->append(Coordinate::make("e:" + std::to_string(i % 7), "s").value(), EventKind(0x1001), {}));
    }
    ASSERT_TRUE((*store)->close());
  }
  uint64_t handled_max = 0;  // The highest sequence any run reported handling.
  int killed = 0;
  int redelivered_runs = 0;
  // Checks one run's report lines against everything handled before it.
  auto check_run = [&](const ChildRun& run) {
    ASSERT_TRUE(run.output.empty() || run.output.back() == '\n') << "a torn report line";
    uint64_t previous = 0;
    for (const auto& words : lines_of(run.output)) {
      ASSERT_GE(words.size(), 2u);
      ASSERT_EQ(words[0], "H");
      for (size_t i = 1; i < words.size(); ++i) {
        const uint64_t seq = std::stoull(words[i]);
        if (previous == 0) {
          ASSERT_GE(seq, 1u);
          ASSERT_LE(seq, handled_max + 1) << "a restart skipped events";
          redelivered_runs += seq <= handled_max;
        } else {
          ASSERT_EQ(seq, previous + 1) << "events out of order or skipped within a run";
        }
        previous = seq;
        handled_max = std::max(handled_max, seq);
      }
    }
  };
  // Kills at random moments; each run resumes from the last committed checkpoint.
  for (int cycle = 0; cycle < 40 && handled_max < kEvents; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    const int delay_ms = std::uniform_int_distribution<int>(5, 60)(rng);
    const std::string batch = std::to_string(std::uniform_int_distribution<int>(1, 16)(rng));
    ChildRun run = run_and_kill(BATPAK_CONSUMER_CHILD, {dir, batch}, delay_ms);
    ASSERT_TRUE(run.killed) << "the consumer exited by itself, code " << run.exit_code;
    ++killed;
    check_run(run);
    if (HasFatalFailure()) return;
  }
  // A last run finishes the stream and stops by itself (however slow the machine is).
  ChildRun last = run_and_kill(BATPAK_CONSUMER_CHILD, {dir, "8", std::to_string(kEvents)}, 120000);
  ASSERT_EQ(last.exit_code, 0) << "the last consumer did not finish";
  check_run(last);
  EXPECT_EQ(handled_max, kEvents) << "the consumers never reached the end";
  EXPECT_GE(killed, 10);
  RecordProperty("kills", killed);
  RecordProperty("runs_that_redelivered", redelivered_runs);
  std::printf("worker kill test: %d kills, %d runs redelivered uncommitted events, seed %u\n", killed,
              redelivered_runs, seed);
}

}  // namespace
}  // namespace batpak::testing
