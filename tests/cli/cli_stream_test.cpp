// Streams on the CLI: long `append --stdin` runs, a refusal in the middle of a stream,
// imports of hand-written lines.
#include <gtest/gtest.h>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

std::string append_line(const std::string& entity, int value, const std::string& extra = "") {
  return R"({"entity":")" + entity + R"(","scope":"s","kind":"1:001","payload":{"v":)" + std::to_string(value) +
         "}" + extra + "}\n";
}

class CliStream : public ::testing::Test {
 protected:
  std::string store() const { return dir_.sub("store"); }
  int64_t event_count(const std::string& dir) {
    return run_cli({"stats", dir}).lines().at(0)["event_count"].get<int64_t>();
  }
  TempDir dir_;
};

TEST_F(CliStream, LongStreamPrintsEveryReceiptInCommitOrder) {
  constexpr int kEvents = 2500;  // Crosses the CLI's sync chunks (1024 events).
  std::string input;
  for (int i = 0; i < kEvents; ++i) input += append_line("e:" + std::to_string(i % 7), i);
  auto r = run_cli({"append", store(), "--stdin"}, input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto receipts = r.lines();
  ASSERT_EQ(receipts.size(), static_cast<size_t>(kEvents));
  for (int i = 0; i < kEvents; ++i) ASSERT_EQ(receipts[static_cast<size_t>(i)]["global_sequence"], i + 1);
  EXPECT_EQ(event_count(store()), kEvents);
  EXPECT_EQ(run_cli({"verify", store()}).exit_code, 0);
}

TEST_F(CliStream, ConflictMidStreamKeepsAndReportsTheEventsBeforeIt) {
  const std::string input = append_line("e", 1) + append_line("e", 2, R"(,"expected_clock":1)") +
                            append_line("e", 3, R"(,"expected_clock":7)") + append_line("e", 4);
  auto r = run_cli({"append", store(), "--stdin"}, input);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("conflict"), std::string::npos) << r.err;
  ASSERT_EQ(r.lines().size(), 2u) << "receipts of the committed events, then the error";
  EXPECT_EQ(r.lines()[1]["clock"], 2);
  EXPECT_EQ(event_count(store()), 2) << "the events after the conflict are not appended";
}

TEST_F(CliStream, IdempotencyKeyInOneStreamReplaysTheFirstEvent) {
  const std::string key = R"(,"idempotency_key":"once")";
  auto r = run_cli({"append", store(), "--stdin"}, append_line("e", 1, key) + append_line("e", 1, key));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(r.lines().size(), 2u);
  EXPECT_EQ(r.lines()[0]["event_id"], r.lines()[1]["event_id"]);
  EXPECT_FALSE(r.lines()[0]["idempotent_replay"].get<bool>());
  EXPECT_TRUE(r.lines()[1]["idempotent_replay"].get<bool>());
  EXPECT_EQ(event_count(store()), 1);
}

TEST_F(CliStream, ImportTakesThePayloadWhenPayloadHexIsAbsent) {
  ASSERT_EQ(run_cli({"append", store(), "--stdin"}, append_line("e", 5)).exit_code, 0);
  auto line = run_cli({"export", store()}).lines().at(0);
  line.erase("payload_hex");
  line["payload"] = {{"v", 6}};
  auto imported = run_cli({"import", dir_.sub("copy")}, line.dump() + "\n");
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto got = run_cli({"get", dir_.sub("copy"), line["event_id"]});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.lines().at(0)["payload"]["v"], 6);
}

TEST_F(CliStream, UnicodeCoordinatesAndPayloadsRoundTrip) {
  auto r = run_cli({"append", store(), "--entity", "caf\xc3\xa9", "--scope", "\xe2\x82\xac", "--kind", "2:0ff",
                    "--payload", R"({"name":"\u00e9t\u00e9"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto exported = run_cli({"export", store()});
  ASSERT_EQ(run_cli({"import", dir_.sub("copy")}, exported.out).exit_code, 0);
  EXPECT_EQ(run_cli({"export", dir_.sub("copy")}).out, exported.out);
  auto got = run_cli({"query", store(), "--entity", "caf\xc3\xa9", "--scope", "\xe2\x82\xac"});
  ASSERT_EQ(got.lines().size(), 1u);
  EXPECT_EQ(got.lines()[0]["payload"]["name"], "\xc3\xa9t\xc3\xa9");
}

}  // namespace
}  // namespace batpak::testing
