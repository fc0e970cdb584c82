// `batpak cursors`: the listing of durable cursor checkpoints (a damaged one listed with its
// error and exit 1), --remove and --move with what a later `tail --checkpoint` then prints,
// and bad input that changes nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class CliCursors : public ::testing::Test {
 protected:
  // Four events of order:1, then checkpoint "billing" after the first three of them.
  void SetUp() override {
    ASSERT_EQ(run_cli({"init", store_dir()}).exit_code, 0);
    for (int i = 1; i <= 4; ++i) {
      CliResult r = run_cli({"append", store_dir(), "--entity", "order:1", "--scope", "s", "--kind", "0x1001",
                             "--payload", std::to_string(i)});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    CliResult tail = tail_billing("3");
    ASSERT_EQ(tail.exit_code, 0) << tail.err;
  }

  std::string store_dir() const { return dir_.sub("store"); }
  std::string checkpoint_file(const std::string& id) const { return store_dir() + "/cursors/" + id + ".ckpt"; }

  CliResult tail_billing(const std::string& limit) {
    return run_cli({"tail", store_dir(), "--entity", "order", "--checkpoint", "billing", "--limit", limit});
  }
  // The global sequences the next `tail --checkpoint billing` prints.
  std::vector<uint64_t> billing_delivers() {
    CliResult r = tail_billing("100");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<uint64_t> out;
    for (const auto& line : r.lines()) out.push_back(line.at("global_sequence").get<uint64_t>());
    return out;
  }
  CliResult cursors(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {"cursors", store_dir()};
    args.insert(args.end(), flags.begin(), flags.end());
    return run_cli(args);
  }

  TempDir dir_;
};

TEST_F(CliCursors, ListsEachCheckpointWithItsPositionRegionAndDistanceFromTheEnd) {
  CliResult other = run_cli({"append", store_dir(), "--entity", "user:1", "--scope", "s", "--kind", "0x1001",
                             "--payload", "5"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  CliResult r = cursors();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_EQ(lines[0].at("checkpoint_id"), "billing");
  EXPECT_EQ(lines[0].at("position"), 3);
  EXPECT_EQ(lines[0].at("sequences_behind"), 2);
  EXPECT_EQ(lines[0].at("pending_events"), 1) << "user:1's event is not in its region";
  EXPECT_NE(lines[0].at("region").get<std::string>().find("order"), std::string::npos) << lines[0];
  EXPECT_TRUE(lines[0].at("error").is_null());
}

TEST_F(CliCursors, ADamagedCheckpointIsListedWithItsErrorAndExitsOne) {
  std::ofstream(checkpoint_file("broken"), std::ios::binary) << "not a checkpoint";
  CliResult r = cursors();
  EXPECT_EQ(r.exit_code, 1) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 2u) << r.out;
  EXPECT_EQ(lines[0].at("checkpoint_id"), "billing");
  EXPECT_TRUE(lines[0].at("error").is_null());
  EXPECT_EQ(lines[1].at("checkpoint_id"), "broken");
  EXPECT_EQ(lines[1].at("error").at("error"), "corruption") << lines[1];
  EXPECT_EQ(lines[1].at("error").at("file"), checkpoint_file("broken"));
  CliResult removed = cursors({"--remove", "broken"});
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(cursors().exit_code, 0);
}

TEST_F(CliCursors, MoveBackDeliversAgainAndMoveAheadSkips) {
  CliResult back = cursors({"--move", "billing", "--to", "1"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  ASSERT_EQ(back.lines().size(), 1u);
  EXPECT_EQ(back.lines()[0], (nlohmann::json{{"checkpoint_id", "billing"}, {"position", 1}, {"previous_position", 3}}));
  EXPECT_EQ(billing_delivers(), (std::vector<uint64_t>{2, 3, 4}));
  ASSERT_EQ(cursors({"--move", "billing", "--to", "1"}).exit_code, 0);
  ASSERT_EQ(cursors({"--move", "billing", "--to", "3"}).exit_code, 0);
  EXPECT_EQ(billing_delivers(), (std::vector<uint64_t>{4}));
}

TEST_F(CliCursors, RemoveMakesTheNextTailStartOver) {
  CliResult r = cursors({"--remove", "billing"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.lines().size(), 1u);
  EXPECT_EQ(r.lines()[0], (nlohmann::json{{"checkpoint_id", "billing"}, {"removed", true}}));
  EXPECT_FALSE(std::filesystem::exists(checkpoint_file("billing")));
  CliResult listed = cursors();
  EXPECT_EQ(listed.exit_code, 0);
  EXPECT_TRUE(listed.out.empty()) << listed.out;
  EXPECT_EQ(billing_delivers(), (std::vector<uint64_t>{1, 2, 3, 4}));
}

TEST_F(CliCursors, BadCallsChangeNothing) {
  struct Case {
    std::vector<std::string> flags;
    std::string error;
    int exit_code;
  };
  const std::vector<Case> cases = {
      {{"--remove", "absent"}, "not_found", 1},
      {{"--move", "absent", "--to", "1"}, "not_found", 1},
      {{"--move", "billing", "--to", "5"}, "invalid_argument", 2},  // Beyond the journal's end.
      {{"--move", "billing"}, "invalid_argument", 2},
      {{"--to", "1"}, "invalid_argument", 2},
      {{"--remove", "billing", "--move", "billing", "--to", "1"}, "invalid_argument", 2},
      {{"--remove", ""}, "invalid_argument", 2},
      {{"--remove", "../billing"}, "invalid_argument", 2},
      {{"--move", "billing", "--to", "-1"}, "", 2},  // CLI11's own usage error.
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(nlohmann::json(c.flags).dump());
    CliResult r = cursors(c.flags);
    EXPECT_EQ(r.exit_code, c.exit_code) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
    if (!c.error.empty()) {
      EXPECT_EQ(nlohmann::json::parse(r.err).at("error"), c.error) << r.err;
    }
  }
  CliResult listed = cursors();
  ASSERT_EQ(listed.lines().size(), 1u);
  EXPECT_EQ(listed.lines()[0].at("position"), 3) << "nothing moved";
  CliResult missing_store = run_cli({"cursors", dir_.sub("none"), "--remove", "billing"});
  EXPECT_EQ(missing_store.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("none"))) << "a change never makes a store";
}

}  // namespace
}  // namespace batpak::testing
