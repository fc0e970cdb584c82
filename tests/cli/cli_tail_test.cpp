// `batpak tail`: region order, --from, durable --checkpoint resume, --follow; a follow that
// finds its store no longer holding the last event it printed stops (exit 1, conflict).
#include <gtest/gtest.h>

#include <stdio.h>

#include <filesystem>
#include <thread>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class CliTail : public ::testing::Test {
 protected:
  std::string store() const { return dir_.sub("store"); }
  // Appends one event to `entity`, retrying while a tail holds the store.
  void append(const std::string& entity) {
    for (int attempt = 0; attempt < 500; ++attempt) {
      auto r = run_cli({"append", store(), "--entity", entity, "--scope", "s", "--kind", "1:001", "--payload", "1"});
      if (r.exit_code == 0) return;
      ASSERT_NE(r.err.find("store_locked"), std::string::npos) << r.err;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "the store stayed locked";
  }
  static std::vector<uint64_t> sequences(const CliResult& r) {
    std::vector<uint64_t> out;
    for (const auto& line : r.lines()) out.push_back(line["global_sequence"].get<uint64_t>());
    return out;
  }
  TempDir dir_;
};

TEST_F(CliTail, PrintsTheRegionInCommitOrderFromAGivenSequence) {
  for (const char* e : {"order:1", "user:1", "order:2", "order:3"}) append(e);
  auto all = run_cli({"tail", store(), "--entity", "order"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(sequences(all), (std::vector<uint64_t>{1, 3, 4}));
  EXPECT_EQ(all.lines().at(0)["entity"], "order:1");
  EXPECT_EQ(sequences(run_cli({"tail", store(), "--entity", "order", "--from", "1", "--limit", "1"})),
            (std::vector<uint64_t>{3}));
}

TEST_F(CliTail, CheckpointResumesAfterTheLastPrintedEvent) {
  for (int i = 0; i < 5; ++i) append("e");
  const std::vector<std::string> tail = {"tail", store(), "--checkpoint", "reader"};
  auto first = tail;
  first.insert(first.end(), {"--limit", "2"});
  EXPECT_EQ(sequences(run_cli(first)), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(sequences(run_cli(tail)), (std::vector<uint64_t>{3, 4, 5}));
  append("e");
  append("e");
  EXPECT_EQ(sequences(run_cli(tail)), (std::vector<uint64_t>{6, 7}));
  auto none = run_cli(tail);
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_TRUE(none.out.empty());
  auto other = run_cli({"tail", store(), "--checkpoint", "reader", "--entity", "e"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("checkpoint_mismatch"), std::string::npos) << other.err;
}

TEST_F(CliTail, BadRequestsAreRefused) {
  append("e");
  EXPECT_EQ(run_cli({"tail", store(), "--checkpoint", "c", "--from", "1"}).exit_code, 2);
  EXPECT_EQ(run_cli({"tail", store(), "--checkpoint", "a/b"}).exit_code, 2);
  EXPECT_EQ(run_cli({"tail", store(), "--kind", "1:001", "--category", "1"}).exit_code, 2);
  auto missing = run_cli({"tail", dir_.sub("nothing"), "--checkpoint", "c"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("nothing"))) << "tail never creates a store";
}

TEST_F(CliTail, FollowPrintsEventsAppendedByOtherProcessesUntilItsLimit) {
  append("e");
  CliResult followed;
  std::thread follower([&] {
    followed = run_cli({"tail", store(), "--follow", "--limit", "3", "--poll-ms", "10"});
  });
  append("e");
  append("e");
  follower.join();
  ASSERT_EQ(followed.exit_code, 0) << followed.err;
  EXPECT_EQ(sequences(followed), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(CliTail, FromEventIdMustBeTheEventAtTheStartSequence) {
  for (int i = 0; i < 3; ++i) append("e");
  const auto events = run_cli({"tail", store()}).lines();
  ASSERT_EQ(events.size(), 3u);
  const std::string first = events[0]["event_id"], second = events[1]["event_id"];
  auto resumed = run_cli({"tail", store(), "--from", "2", "--from-event-id", second});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(sequences(resumed), (std::vector<uint64_t>{3}));
  auto moved = run_cli({"tail", store(), "--from", "2", "--from-event-id", first});
  EXPECT_EQ(moved.exit_code, 1);
  EXPECT_NE(moved.err.find("conflict"), std::string::npos) << moved.err;
  EXPECT_EQ(moved.out, "");
  EXPECT_EQ(run_cli({"tail", store(), "--from", "3", "--from-event-id", second}).exit_code, 1);
  EXPECT_EQ(run_cli({"tail", store(), "--from-event-id", second}).exit_code, 2) << "needs --from";
  EXPECT_EQ(run_cli({"tail", store(), "--from", "2", "--from-event-id", "xyz"}).exit_code, 2);
}

TEST_F(CliTail, FollowStopsWhenTheStoreNoLongerHoldsTheLastEventItPrinted) {
  for (int i = 0; i < 3; ++i) append("x");
  const std::string other = dir_.sub("other");
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(run_cli({"append", other, "--entity", "y", "--scope", "s", "--kind", "1:001", "--payload", "2"}).exit_code, 0);
  }
  CliChild follower = start_cli({"tail", store(), "--follow", "--poll-ms", "10"});
  std::string printed;
  ASSERT_TRUE(follower.read_lines(3, 30'000, printed)) << printed;
  // The directory now holds a longer journal without those events: as a store that lost its
  // unsynced tail to a power cut and then took new appends. Without the check the tail would
  // print the other store's events 4 and 5 as if they followed.
  ASSERT_EQ(::renameat2(AT_FDCWD, store().c_str(), AT_FDCWD, other.c_str(), RENAME_EXCHANGE), 0);
  ASSERT_TRUE(follower.exits_within(30'000)) << "the tail went on after the store went back";
  CliResult r = finish_cli(follower);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("conflict"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "") << "nothing of the other store is printed";
  r.out = printed;
  EXPECT_EQ(sequences(r), (std::vector<uint64_t>{1, 2, 3}));
}

}  // namespace
}  // namespace batpak::testing
