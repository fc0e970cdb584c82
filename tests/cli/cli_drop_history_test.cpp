// `batpak drop-history`: the report, what reads and verify see afterwards, bad input that
// changes nothing, and the refusal while a durable cursor has not consumed the dropped events.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/cli_runner.hpp"
#include "store/store_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

using store_test::segment_files;

constexpr int kEvents = 60;

class CliDropHistory : public ::testing::Test {
 protected:
  // Writes kEvents events of four entities over several 4 KiB segments (the CLI has no
  // segment size flag) and closes the store.
  void SetUp() override {
    StoreOptions options;
    options.segment_bytes_max = 4096;
    auto store = Store::open(store_dir(), options);
    ASSERT_TRUE(store) << store.error().to_string();
    const std::vector<uint8_t> payload(100, 'x');
    for (int i = 0; i < kEvents; ++i) {
      const std::string entity = "e" + std::to_string(i % 4);
      auto r = (*store)->append(store_test::coord(entity), store_test::kKindA, payload);
      ASSERT_TRUE(r) << r.error().to_string();
      event_ids_.push_back(r->event_id.to_hex());
    }
    ASSERT_TRUE((*store)->close());
    ASSERT_GE(segment_files(store_dir()).size(), 4u);
  }

  std::string store_dir() const { return dir_.sub("store"); }
  // The id of the event with global sequence `seq` (1-based).
  const std::string& event_id(uint64_t seq) const { return event_ids_.at(seq - 1); }

  CliResult drop(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"drop-history", store_dir()};
    args.insert(args.end(), flags.begin(), flags.end());
    return run_cli(args);
  }
  // Runs drop-history with `flags`, expects success and returns its single JSON object.
  nlohmann::json drop_ok(const std::vector<std::string>& flags) {
    CliResult r = drop(flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(r.err.empty()) << r.err;
    auto lines = r.lines();
    EXPECT_EQ(lines.size(), 1u) << r.out;
    return lines.empty() ? nlohmann::json::object() : lines.front();
  }
  // Runs drop-history with `flags` and expects it to fail with `error_name` and `exit_code`,
  // printing nothing on stdout and leaving every segment in place without a horizon file.
  void expect_refused(const std::vector<std::string>& flags, const std::string& error_name, int exit_code) {
    const auto segments = segment_files(store_dir());
    CliResult r = drop(flags);
    std::string shown = "(no flags)";
    if (!flags.empty()) shown = flags.front() + " '" + flags.back() + "'";
    EXPECT_EQ(r.exit_code, exit_code) << shown << " -> " << r.err;
    EXPECT_NE(r.err.find(error_name), std::string::npos) << shown << " -> " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    EXPECT_EQ(segment_files(store_dir()), segments) << shown;
    EXPECT_FALSE(std::filesystem::exists(store_dir() + "/horizon")) << shown;
  }

  TempDir dir_;
  std::vector<std::string> event_ids_;
};

TEST_F(CliDropHistory, DropsWholeSealedSegmentsAndReportsThem) {
  const size_t segments_before = segment_files(store_dir()).size();
  const nlohmann::json report = drop_ok({"--before", "30"});
  EXPECT_EQ(report.size(), 5u) << report;
  const auto first_sequence = report["first_sequence"].get<uint64_t>();
  const auto segments_removed = report["segments_removed"].get<uint64_t>();
  EXPECT_GT(first_sequence, 1u);
  EXPECT_LE(first_sequence, 30u) << "the segment holding event 30 stays whole";
  EXPECT_GE(segments_removed, 1u);
  EXPECT_EQ(report["first_segment_id"].get<uint64_t>(), segments_removed + 1);
  EXPECT_EQ(report["events_removed"].get<uint64_t>(), first_sequence - 1);
  EXPECT_GT(report["bytes_removed"].get<uint64_t>(), (first_sequence - 1) * 100);
  EXPECT_EQ(segment_files(store_dir()).size(), segments_before - segments_removed);
}

TEST_F(CliDropHistory, WhatIsKeptVerifiesAndReadsAndWhatIsDroppedIsNotFound) {
  const auto first_sequence = drop_ok({"--before", "30"})["first_sequence"].get<uint64_t>();
  const auto kept = static_cast<uint64_t>(kEvents) - (first_sequence - 1);

  auto verified = run_cli({"verify", store_dir()});
  ASSERT_EQ(verified.exit_code, 0) << verified.err << verified.out;
  EXPECT_TRUE(verified.lines().at(0)["ok"].get<bool>());
  EXPECT_EQ(verified.lines().at(0)["events_checked"].get<uint64_t>(), kept);

  auto all = run_cli({"query", store_dir()});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  ASSERT_EQ(all.lines().size(), kept);
  EXPECT_EQ(all.lines().front()["global_sequence"].get<uint64_t>(), first_sequence);
  EXPECT_EQ(all.lines().back()["global_sequence"].get<uint64_t>(), static_cast<uint64_t>(kEvents));

  auto dropped = run_cli({"get", store_dir(), event_id(first_sequence - 1)});
  EXPECT_EQ(dropped.exit_code, 1);
  EXPECT_NE(dropped.err.find("not_found"), std::string::npos) << dropped.err;
  auto first_kept = run_cli({"get", store_dir(), event_id(first_sequence)});
  ASSERT_EQ(first_kept.exit_code, 0) << first_kept.err;
  EXPECT_EQ(first_kept.lines().at(0)["global_sequence"].get<uint64_t>(), first_sequence);
}

// A fold without the dropped events says so; a cached state folded before the drop keeps
// the whole history (docs/retention.md).
TEST_F(CliDropHistory, ProjectSaysWhenTheStateLacksDroppedEvents) {
  const std::string cache = "file:" + dir_.sub("cache");
  auto project = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args = {"project", store_dir(), "--entity", "e0", "--fold", "count-by-kind"};
    args.insert(args.end(), extra.begin(), extra.end());
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.lines().empty() ? nlohmann::json::object() : r.lines().front();
  };
  const nlohmann::json before = project({"--cache", cache});
  EXPECT_EQ(before["folded_from_horizon"], false) << before;
  drop_ok({"--before", "30"});
  const nlohmann::json replayed = project({});
  EXPECT_EQ(replayed["folded_from_horizon"], true) << replayed;
  EXPECT_NE(replayed["state"], before["state"]) << "the dropped events of e0 are not folded";
  EXPECT_EQ(replayed["generation"], before["generation"]);
  const nlohmann::json cached = project({"--cache", cache});
  EXPECT_EQ(cached["cache_status"], "hit") << cached;
  EXPECT_EQ(cached["folded_from_horizon"], false) << cached;
  EXPECT_EQ(cached["state"], before["state"]);
}

// The CLI's own appends can rotate sooner, so that a drop keeps less; a size out of the
// store's range writes nothing.
TEST_F(CliDropHistory, AppendWithSmallSegmentsLetsADropKeepLess) {
  const std::string small = dir_.sub("small");
  std::string lines;
  for (int i = 0; i < kEvents; ++i) {
    lines += R"({"entity":"e","scope":"s","kind":"1:001","payload":")" + std::string(100, 'x') + "\"}\n";
  }
  for (const std::string bad : {"4095", "17179869185", "0x1000", "-1"}) {
    CliResult r = run_cli({"append", small, "--stdin", "--segment-bytes-max", bad}, lines);
    EXPECT_EQ(r.exit_code, 2) << bad << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << bad;
    EXPECT_TRUE(!std::filesystem::exists(small) || segment_files(small).empty()) << bad;
  }
  // import takes the same flag, checked the same way.
  CliResult bad_import = run_cli({"import", small, "--segment-bytes-max", "4095"}, "");
  EXPECT_EQ(bad_import.exit_code, 2) << bad_import.err;
  EXPECT_TRUE(!std::filesystem::exists(small) || segment_files(small).empty());
  CliResult import = run_cli({"import", small, "--segment-bytes-max", "4096"}, "");
  EXPECT_EQ(import.exit_code, 0) << import.err;
  CliResult appended = run_cli({"append", small, "--stdin", "--segment-bytes-max", "4096"}, lines);
  ASSERT_EQ(appended.exit_code, 0) << appended.err;
  ASSERT_EQ(appended.lines().size(), static_cast<size_t>(kEvents));
  const size_t segments = segment_files(small).size();
  ASSERT_GE(segments, 4u);
  CliResult dropped = run_cli({"drop-history", small, "--before", std::to_string(kEvents)});
  ASSERT_EQ(dropped.exit_code, 0) << dropped.err;
  EXPECT_EQ(dropped.lines().at(0)["segments_removed"].get<size_t>(), segments - 1);
  EXPECT_GT(dropped.lines().at(0)["first_sequence"].get<uint64_t>(), static_cast<uint64_t>(kEvents) * 3 / 4);
}

TEST_F(CliDropHistory, TheNewestSegmentStaysAndASecondDropRemovesNothing) {
  const nlohmann::json everything = drop_ok({"--before", "18446744073709551615"});
  EXPECT_EQ(segment_files(store_dir()).size(), 1u) << "only the newest segment is left";
  auto last = run_cli({"get", store_dir(), event_id(kEvents)});
  EXPECT_EQ(last.exit_code, 0) << last.err;
  const nlohmann::json again = drop_ok({"--before", "18446744073709551615"});
  EXPECT_EQ(again["segments_removed"], 0);
  EXPECT_EQ(again["events_removed"], 0);
  EXPECT_EQ(again["bytes_removed"], 0);
  EXPECT_EQ(again["first_sequence"], everything["first_sequence"]);
  EXPECT_EQ(again["first_segment_id"], everything["first_segment_id"]);
}

// --before-wall-ms alone: a time before every event drops nothing, one after every event
// keeps only the newest segment; with --before as well, the earlier bound rules.
TEST_F(CliDropHistory, ATimeBoundDropsWhatIsOlder) {
  const nlohmann::json none = drop_ok({"--before-wall-ms", "1"});
  EXPECT_EQ(none["segments_removed"], 0);
  const nlohmann::json both = drop_ok({"--before", "30", "--before-wall-ms", "18446744073709551614"});
  EXPECT_GE(both["segments_removed"].get<uint64_t>(), 1u);
  EXPECT_LE(both["first_sequence"].get<uint64_t>(), 30u) << "--before is the earlier bound";
  drop_ok({"--before-wall-ms", "18446744073709551614"});
  EXPECT_EQ(segment_files(store_dir()).size(), 1u);
  auto verified = run_cli({"verify", store_dir()});
  EXPECT_EQ(verified.exit_code, 0) << verified.err << verified.out;
}

// The largest --before has a counterpart in reads: nothing comes after the largest sequence.
// (Store::query_after once wrapped `after + 1` to 0 there and returned the whole journal.)
TEST_F(CliDropHistory, NothingFollowsTheLargestSequenceBeforeOrAfterADrop) {
  const std::vector<std::string> after_max = {"query", store_dir(), "--after", "18446744073709551615"};
  for (int round = 0; round < 2; ++round) {
    auto none = run_cli(after_max);
    EXPECT_EQ(none.exit_code, 0) << none.err;
    EXPECT_TRUE(none.out.empty()) << "round " << round << ": " << none.out.substr(0, 200);
    if (round == 0) drop_ok({"--before", "30"});
  }
}

TEST_F(CliDropHistory, BadUsageExitsTwoAndChangesNothing) {
  expect_refused({"--before", "0"}, "invalid_argument", 2);
  expect_refused({"--before", "abc"}, "invalid_argument", 2);
  // CLI11's own integer parsing would take each of these as some sequence (docs/cli.md).
  for (const char* lax : {"-1", "18446744073709551616", "0x1e", "+30", " 30", "30 ", "1e3", ""}) {
    expect_refused({"--before", lax}, "invalid_argument", 2);
  }
  for (const char* lax : {"-1", "0x1e", "1e3", ""}) expect_refused({"--before-wall-ms", lax}, "invalid_argument", 2);
  expect_refused({}, "invalid_argument", 2);
  expect_refused({"--ignore-cursors"}, "invalid_argument", 2);
  auto no_dir = run_cli({"drop-history", "--before", "30"});
  EXPECT_EQ(no_dir.exit_code, 2) << no_dir.err;
  EXPECT_EQ(run_cli({"query", store_dir()}).lines().size(), static_cast<size_t>(kEvents));
}

TEST_F(CliDropHistory, AMissingOrOpenStoreIsRefused) {
  auto missing = run_cli({"drop-history", dir_.sub("nothing"), "--before", "30"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("not_found"), std::string::npos) << missing.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("nothing"))) << "drop-history never creates a store";
  auto held = Store::open(store_dir());
  ASSERT_TRUE(held) << held.error().to_string();
  expect_refused({"--before", "30"}, "store_locked", 1);
}

TEST_F(CliDropHistory, ACursorBehindTheHorizonRefusesUnlessIgnored) {
  // `tail --checkpoint` commits a durable cursor checkpoint (Cursor::resume, poll, commit)
  // after the events it printed: here at global sequence 3.
  auto tailed = run_cli({"tail", store_dir(), "--checkpoint", "slow", "--limit", "3"});
  ASSERT_EQ(tailed.exit_code, 0) << tailed.err;
  ASSERT_EQ(tailed.lines().size(), 3u);
  expect_refused({"--before", "30"}, "cursor_behind", 1);
  auto refused = drop({"--before", "30"});
  EXPECT_NE(refused.err.find("slow.ckpt"), std::string::npos) << refused.err;

  const nlohmann::json report = drop_ok({"--before", "30", "--ignore-cursors"});
  EXPECT_GE(report["segments_removed"].get<uint64_t>(), 1u);
  // The cursor resumes at the horizon, without the dropped events.
  auto resumed = run_cli({"tail", store_dir(), "--checkpoint", "slow", "--limit", "1"});
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_EQ(resumed.lines().at(0)["global_sequence"], report["first_sequence"]);
}

TEST_F(CliDropHistory, ACursorThatConsumedTheDroppedEventsDoesNotStopTheDrop) {
  auto tailed = run_cli({"tail", store_dir(), "--checkpoint", "fast"});
  ASSERT_EQ(tailed.exit_code, 0) << tailed.err;
  ASSERT_EQ(tailed.lines().size(), static_cast<size_t>(kEvents));
  EXPECT_GE(drop_ok({"--before", "30"})["segments_removed"].get<uint64_t>(), 1u);
}

}  // namespace
}  // namespace batpak::testing
