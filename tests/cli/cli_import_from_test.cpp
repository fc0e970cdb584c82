// `batpak import DIR --from SRC`: the events of another store copied in commit order (a
// region of them with the region flags, those after a source sequence with --after), one
// report line printed once they are durable; a rerun copies nothing twice; a source whose keys
// are wrapped opens only with --from-master-key-file; the --from flags without --from are exit 2.
// With --follow: what a running writer appends to the source is copied pass after pass, each
// pass's report printed once durable, until SIGTERM; a source that no longer holds the event
// at the last watermark stops the command (exit 1, conflict).
#include <gtest/gtest.h>

#include <signal.h>
#include <stdio.h>

#include <chrono>
#include <thread>

#include "cli/cli_runner.hpp"
#include "store/store_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class CliImportFrom : public ::testing::Test {
 protected:
  std::string source() const { return dir_.sub("source"); }
  std::string copy() const { return dir_.sub("copy"); }
  void append(const std::vector<std::string>& global_flags, const std::string& entity, int n) {
    std::vector<std::string> args = global_flags;
    for (const char* a : {"append", "DIR", "--entity", "E", "--scope", "s", "--kind", "f:001", "--payload", "N"}) {
      args.push_back(a);
    }
    args[global_flags.size() + 1] = source();
    args[global_flags.size() + 3] = entity;
    args.back() = std::to_string(n);
    CliResult r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  nlohmann::json import(const std::vector<std::string>& flags, int expected_exit = 0) {
    std::vector<std::string> args = {"import", copy(), "--from", source()};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, expected_exit) << r.err;
    return r.lines().empty() ? nlohmann::json() : r.lines().at(0);
  }
  // Waits until the copy, read as a snapshot (a follower holds its lock), has `count` events.
  ::testing::AssertionResult copy_reaches(uint64_t count) const {
    StoreOptions snapshot;
    snapshot.access = AccessMode::kReadSnapshot;
    uint64_t seen = 0;
    for (int attempt = 0; attempt < 3000; ++attempt) {
      if (auto store = Store::open(copy(), snapshot)) {
        seen = (*store)->stats().event_count;
        if (seen == count) return ::testing::AssertionSuccess();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return ::testing::AssertionFailure() << "the copy holds " << seen << " events, not " << count;
  }
  TempDir dir_;
};

TEST_F(CliImportFrom, ARegionThenTheRestGiveAnExactCopyWithoutDuplicates) {
  for (int n = 1; n <= 3; ++n) append({}, "order:" + std::to_string(n), n);
  const nlohmann::json third_id = run_cli({"export", source()}).lines().at(2)["event_id"];
  EXPECT_EQ(import({"--entity", "order:2"}),
            (nlohmann::json{{"imported", 1}, {"already_present", 0}, {"skipped_shredded", 0},
                            {"source_visible_sequence", 3}, {"source_visible_event_id", third_id}}));
  EXPECT_EQ(import({}), (nlohmann::json{{"imported", 2}, {"already_present", 1}, {"skipped_shredded", 0},
                                        {"source_visible_sequence", 3}, {"source_visible_event_id", third_id}}));
  CliResult query = run_cli({"query", copy()});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  ASSERT_EQ(query.lines().size(), 3u);
  EXPECT_EQ(query.lines()[0]["entity"], "order:2");
  EXPECT_EQ(query.lines()[1]["payload"], 1);

  // Into an empty store, a whole copy exports exactly as its source.
  CliResult whole = run_cli({"import", dir_.sub("exact"), "--from", source()});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  CliResult original = run_cli({"export", source()});
  CliResult copied = run_cli({"export", dir_.sub("exact")});
  ASSERT_EQ(original.exit_code, 0);
  EXPECT_EQ(copied.out, original.out);
}

TEST_F(CliImportFrom, AfterResumesAtTheReportedWatermark) {
  append({}, "x", 1);
  append({}, "x", 2);
  const nlohmann::json first = import({});
  ASSERT_EQ(first["imported"], 2);
  append({}, "x", 3);
  const std::string first_id = first["source_visible_event_id"].get<std::string>();
  // An id the source's event at the watermark does not have: a conflict, nothing copied.
  const std::string wrong_id = (first_id[0] == '0' ? "1" : "0") + first_id.substr(1);
  EXPECT_TRUE(import({"--after", "2", "--after-event-id", wrong_id}, 1).is_null());
  EXPECT_TRUE(import({"--after-event-id", first_id}, 2).is_null());  // Without --after.
  EXPECT_TRUE(import({"--after", "2", "--after-event-id", "xyz"}, 2).is_null());
  const nlohmann::json later =
      import({"--after", first["source_visible_sequence"].dump(), "--after-event-id", first_id});
  EXPECT_EQ(later["imported"], 1);
  EXPECT_EQ(later["already_present"], 0);
  EXPECT_EQ(later["source_visible_sequence"], 3);
  EXPECT_EQ(run_cli({"verify", copy()}).exit_code, 0);
}

TEST_F(CliImportFrom, AWrappedSourceOpensOnlyWithItsOwnMasterKeyFile) {
  const std::string key_file = dir_.sub("source.key");
  ASSERT_EQ(run_cli({"master-keygen", key_file}).exit_code, 0);
  ASSERT_EQ(run_cli({"init", source(), "--master-key-file", key_file}).exit_code, 0);
  append({"--master-key-file", key_file}, "user:a", 7);
  EXPECT_TRUE(import({}, 2).is_null());  // No key for the source.
  const nlohmann::json report = import({"--from-master-key-file", key_file});
  EXPECT_EQ(report["imported"], 1);
  CliResult query = run_cli({"query", copy()});  // The copy does not encrypt: it needs no key.
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.lines().at(0)["payload"], 7);
  EXPECT_EQ(query.lines().at(0)["payload_encrypted"], false);
}

TEST_F(CliImportFrom, TheFromFlagsWithoutFromAreExitTwoAndWriteNothing) {
  append({}, "x", 1);
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--entity", "x"}, {"--after", "0"},
                                                {"--from-master-key-file", "k"}, {"--category", "1"},
                                                {"--follow"}, {"--poll-ms", "5"}, {"--after-event-id", std::string(32, '1')}}) {
    std::vector<std::string> args = {"import", copy()};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = run_cli(args, "");
    EXPECT_EQ(r.exit_code, 2) << flags[0] << ": " << r.err;
  }
  EXPECT_TRUE(import({"--kind", "f:001", "--category", "1"}, 2).is_null());
  EXPECT_TRUE(import({"--poll-ms", "5"}, 2).is_null());  // Without --follow.
  EXPECT_EQ(run_cli({"stats", copy()}).exit_code, 1);  // No store was made.
}

TEST_F(CliImportFrom, FollowCopiesWhatARunningWriterAppendsUntilSigterm) {
  auto opened = Store::open(source());
  ASSERT_TRUE(opened) << opened.error().to_string();
  std::unique_ptr<Store> writer = std::move(*opened);  // Holds the source's lock throughout.
  auto append_events = [&](int count) {
    for (int n = 0; n < count; ++n) {
      ASSERT_TRUE(writer->append(store_test::coord("order:" + std::to_string(n % 2)), store_test::kKindA,
                                 store_test::bytes("p" + std::to_string(n))));
    }
  };
  append_events(3);
  CliChild follower = start_cli({"import", copy(), "--from", source(), "--follow", "--poll-ms", "10"});
  ASSERT_TRUE(copy_reaches(3));
  append_events(4);
  ASSERT_TRUE(copy_reaches(7));
  append_events(1);
  ASSERT_TRUE(copy_reaches(8));
  ASSERT_EQ(::kill(follower.pid, SIGTERM), 0);
  ASSERT_TRUE(follower.exits_within(30'000)) << "SIGTERM did not stop the follower";
  CliResult r = finish_cli(follower);
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // The first pass's report, then one per pass that found the source grown: every event
  // imported once, the watermarks rising to the source's end.
  const std::vector<nlohmann::json> reports = r.lines();
  ASSERT_GE(reports.size(), 3u) << r.out;
  EXPECT_EQ(reports.front()["imported"], 3);
  EXPECT_EQ(reports.front()["source_visible_sequence"], 3);
  uint64_t imported = 0, watermark = 0;
  for (const nlohmann::json& report : reports) {
    imported += report["imported"].get<uint64_t>();
    EXPECT_EQ(report["already_present"], 0);
    EXPECT_GT(report["source_visible_sequence"].get<uint64_t>(), watermark);
    watermark = report["source_visible_sequence"].get<uint64_t>();
  }
  EXPECT_EQ(imported, 8u);
  EXPECT_EQ(watermark, 8u);

  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  auto copied = Store::open(copy(), read_only);  // The follower closed it: the lock is free.
  ASSERT_TRUE(copied) << copied.error().to_string();
  auto original_events = writer->query(Region::all());
  auto copied_events = (*copied)->query(Region::all());
  ASSERT_TRUE(original_events && copied_events);
  ASSERT_EQ(copied_events->size(), original_events->size());
  for (size_t i = 0; i < copied_events->size(); ++i) store_test::expect_same_event((*copied_events)[i], (*original_events)[i]);
}

TEST_F(CliImportFrom, FollowStopsWhenTheSourceNoLongerHoldsWhatItCopied) {
  for (int n = 1; n <= 3; ++n) append({}, "x", n);
  const std::string other = dir_.sub("other");
  for (int n = 1; n <= 5; ++n) {
    ASSERT_EQ(run_cli({"append", other, "--entity", "y", "--scope", "s", "--kind", "f:001", "--payload", "1"}).exit_code, 0);
  }
  CliChild follower = start_cli({"import", copy(), "--from", source(), "--follow", "--poll-ms", "10"});
  ASSERT_TRUE(copy_reaches(3));
  // The source directory now holds another store, longer than what was copied: as a source
  // that lost its unsynced tail and then took new appends. Only the event at the watermark
  // tells the difference.
  ASSERT_EQ(::renameat2(AT_FDCWD, source().c_str(), AT_FDCWD, other.c_str(), RENAME_EXCHANGE), 0);
  ASSERT_TRUE(follower.exits_within(30'000)) << "the follower went on after the source went back";
  CliResult r = finish_cli(follower);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("conflict"), std::string::npos) << r.err;
  ASSERT_EQ(r.lines().size(), 1u) << r.out;
  EXPECT_EQ(r.lines()[0]["imported"], 3);
  EXPECT_EQ(run_cli({"verify", copy()}).exit_code, 0);
  EXPECT_EQ(run_cli({"stats", copy()}).lines().at(0)["event_count"], 3);
}

}  // namespace
}  // namespace batpak::testing
