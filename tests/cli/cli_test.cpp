// The CLI contract (docs/cli.md): happy paths, receipts, exit codes, export/import.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "batpak/batpak.hpp"
#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

const char* kThreeEvents =
    "{\"entity\":\"order:1\",\"scope\":\"shop\",\"kind\":\"1:001\",\"payload\":{\"qty\":3}}\n"
    "{\"entity\":\"order:1\",\"scope\":\"shop\",\"kind\":\"1:002\",\"payload\":{\"qty\":4},\"idempotency_key\":\"k\"}\n"
    "{\"entity\":\"order:2\",\"scope\":\"shop\",\"kind\":\"1:001\",\"payload\":[1,\"two\",null]}\n";

class Cli : public ::testing::Test {
 protected:
  std::string store() const { return dir_.sub("store"); }
  std::vector<nlohmann::json> append_three() {
    auto r = run_cli({"append", store(), "--stdin"}, kThreeEvents);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.lines();
  }
  TempDir dir_;
};

TEST_F(Cli, InitCreatesAnEmptyStore) {
  auto r = run_cli({"init", store()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines().at(0)["events"], 0);
  EXPECT_TRUE(r.lines().at(0)["created"].get<bool>());
  auto again = run_cli({"init", store()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(again.lines().at(0)["created"].get<bool>()) << "the store already existed";
  auto stats = run_cli({"stats", store()});
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(stats.lines().at(0)["event_count"], 0);
}

TEST_F(Cli, AppendPrintsOneReceiptPerEventWithEveryContractField) {
  auto receipts = append_three();
  ASSERT_EQ(receipts.size(), 3u);
  for (const char* field : {"event_id", "global_sequence", "entity", "scope", "kind", "clock", "wall_ms",
                            "content_hash", "prev_hash", "event_hash", "signature", "idempotent_replay"}) {
    EXPECT_TRUE(receipts[0].contains(field)) << field;
  }
  EXPECT_EQ(receipts[2]["global_sequence"], 3);
  EXPECT_EQ(receipts[1]["prev_hash"], receipts[0]["event_hash"]);
  EXPECT_EQ(receipts[0]["event_id"].get<std::string>().size(), 32u);
  EXPECT_EQ(receipts[0]["event_hash"].get<std::string>().size(), 64u);
  EXPECT_TRUE(receipts[0]["signature"].is_null());
}

TEST_F(Cli, AppendFromFlagsAndIdempotentReplay) {
  append_three();
  auto again = run_cli({"append", store(), "--entity", "order:1", "--scope", "shop", "--kind", "1:002",
                        "--payload", "{\"qty\":4}", "--idempotency-key", "k"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(again.lines().at(0)["idempotent_replay"].get<bool>());
  EXPECT_EQ(again.lines().at(0)["global_sequence"], 2);
  EXPECT_EQ(run_cli({"stats", store()}).lines().at(0)["event_count"], 3);
}

TEST_F(Cli, ExpectedClockConflictExitsOneAndWritesNothing) {
  append_three();
  auto r = run_cli({"append", store(), "--entity", "order:1", "--scope", "shop", "--kind", "1:001",
                    "--payload", "{}", "--expected-clock", "7"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("conflict"), std::string::npos);
  EXPECT_EQ(run_cli({"stats", store()}).lines().at(0)["event_count"], 3);
}

TEST_F(Cli, GetQueryAndWalk) {
  auto receipts = append_three();
  auto got = run_cli({"get", store(), receipts[1]["event_id"]});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.lines().at(0)["payload"]["qty"], 4);
  for (const char* field : {"payload", "causation", "correlation", "timestamp_us"}) {
    EXPECT_TRUE(got.lines().at(0).contains(field)) << field;
  }

  auto by_entity = run_cli({"query", store(), "--entity", "order:1"});
  EXPECT_EQ(by_entity.lines().size(), 2u);
  auto by_kind = run_cli({"query", store(), "--kind", "1:001"});
  EXPECT_EQ(by_kind.lines().size(), 2u);
  auto by_category = run_cli({"query", store(), "--category", "1", "--after", "1", "--limit", "1"});
  ASSERT_EQ(by_category.lines().size(), 1u);
  EXPECT_EQ(by_category.lines()[0]["global_sequence"], 2);
  auto count = [&](std::vector<std::string> flags) {
    flags.insert(flags.begin(), {"query", store(), "--count"});
    CliResult r = run_cli(flags);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.lines().at(0).at("count").get<uint64_t>();
  };
  EXPECT_EQ(count({}), 3u);
  EXPECT_EQ(count({"--entity", "order:1"}), 2u);
  EXPECT_EQ(count({"--kind", "1:001", "--after", "1"}), 1u);
  EXPECT_EQ(count({"--category", "1", "--limit", "1"}), 1u) << "what the query would print";

  auto walk = run_cli({"walk", store(), receipts[1]["event_id"]});
  ASSERT_EQ(walk.lines().size(), 2u);
  EXPECT_EQ(walk.lines()[0]["clock"], 2) << "anchor first";
  EXPECT_EQ(walk.lines()[1]["clock"], 1);
}

// walk --evidence prints a chain walk report: exit 0 when every hash and link holds, 1 when
// the report has a finding (here: the start is not the event the given hash names).
TEST_F(Cli, WalkEvidenceReportsTheWalkAndExitsOneOnAFinding) {
  auto receipts = append_three();
  const std::string start = receipts[1]["event_id"];
  auto clean = run_cli({"walk", store(), start, "--evidence", "--expect-hash", receipts[1]["event_hash"]});
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  ASSERT_EQ(clean.lines().size(), 1u);
  const nlohmann::json body = clean.lines()[0]["body"];
  EXPECT_EQ(body["boundary"], "reached_genesis");
  EXPECT_EQ(body["checked_count"], 2);
  EXPECT_EQ(body["first_ref"]["event_id"], start);
  EXPECT_EQ(clean.lines()[0]["body_hash"].get<std::string>().size(), 64u);
  auto wrong = run_cli({"walk", store(), start, "--evidence", "--expect-hash", receipts[0]["event_hash"]});
  EXPECT_EQ(wrong.exit_code, 1);
  ASSERT_EQ(wrong.lines().size(), 1u);
  EXPECT_EQ(wrong.lines()[0]["body"]["findings"].at(0)["type"], "start_hash_mismatch");
  auto ended = run_cli({"walk", store(), start, "--evidence", "--end", start});
  ASSERT_EQ(ended.exit_code, 0) << ended.err;
  EXPECT_EQ(ended.lines().at(0)["body"]["boundary"], "reached_end");
}

// verify-receipt checks the receipts append printed: each gets a verdict line; a changed
// field makes its receipt invalid (naming the field) and the exit code 1.
TEST_F(Cli, VerifyReceiptChecksEachReceiptAgainstTheStore) {
  auto receipts = append_three();
  std::string lines;
  for (const nlohmann::json& r : receipts) lines += r.dump() + "\n";
  auto valid = run_cli({"verify-receipt", store()}, lines);
  ASSERT_EQ(valid.exit_code, 0) << valid.err;
  ASSERT_EQ(valid.lines().size(), 3u);
  for (const nlohmann::json& verdict : valid.lines()) EXPECT_EQ(verdict["valid"], true) << verdict;
  nlohmann::json altered = receipts[2];
  altered["wall_ms"] = altered["wall_ms"].get<uint64_t>() + 1;
  auto invalid = run_cli({"verify-receipt", store()}, receipts[0].dump() + "\n" + altered.dump() + "\n");
  EXPECT_EQ(invalid.exit_code, 1);
  ASSERT_EQ(invalid.lines().size(), 2u);
  EXPECT_EQ(invalid.lines()[0]["valid"], true);
  EXPECT_EQ(invalid.lines()[1]["valid"], false);
  EXPECT_EQ(invalid.lines()[1]["error"], "invalid_signature");
  EXPECT_EQ(invalid.lines()[1]["message"], "wall_ms differs");
}

TEST_F(Cli, UnknownEventIsAFindingNotAUsageError) {
  append_three();
  auto r = run_cli({"get", store(), std::string(32, 'a')});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_found"), std::string::npos);
}

TEST_F(Cli, GetByIdempotencyKeyPrintsTheEventCommittedWithIt) {
  auto receipts = append_three();
  auto got = run_cli({"get", store(), "--key", "k"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.lines().at(0)["event_id"], receipts[1]["event_id"]);
  EXPECT_EQ(got.lines().at(0)["payload"]["qty"], 4);
  auto unknown = run_cli({"get", store(), "--key", "never-used"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("not_found"), std::string::npos);
  EXPECT_EQ(run_cli({"get", store()}).exit_code, 2) << "neither EVENT_ID nor --key";
  EXPECT_EQ(run_cli({"get", store(), receipts[1]["event_id"], "--key", "k"}).exit_code, 2) << "both";
  EXPECT_EQ(run_cli({"get", store(), "--key", ""}).exit_code, 2) << "an empty key is bad input";
}

TEST_F(Cli, ExportImportRoundTripIsByteExact) {
  append_three();
  auto exported = run_cli({"export", store()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  ASSERT_EQ(exported.lines().size(), 3u);
  auto imported = run_cli({"import", dir_.sub("copy")}, exported.out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  auto again = run_cli({"export", dir_.sub("copy")});
  EXPECT_EQ(again.out, exported.out);
  auto rerun = run_cli({"import", dir_.sub("copy")}, exported.out);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_TRUE(rerun.lines().at(0)["idempotent_replay"].get<bool>()) << "re-import is idempotent";
}

TEST_F(Cli, ExportImportRoundTripKeepsDenialAndBypassEvents) {
  {
    auto opened = Store::open(store());
    ASSERT_TRUE(opened.has_value());
    const Coordinate order = Coordinate::make("order:1", "shop").value();
    GateSet<int> gates;
    (void)gates.add({"never", [](const int&) { return std::optional<Denial>(Denial{{}, "closed", "shop closed", {}}); }});
    ASSERT_TRUE((*opened)->append_denial(order, gates.evaluate(1), EventKind(0x1001), {}));
    ASSERT_TRUE((*opened)->append_bypassing_gates({order, EventKind(0x1001), {}, {}}, {"drill", "test", "", {}, 0}));
  }
  auto exported = run_cli({"export", store()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  ASSERT_EQ(exported.lines().size(), 3u);
  EXPECT_EQ(exported.lines()[0]["kind"], "0:001");
  EXPECT_EQ(exported.lines()[2]["kind"], "0:002");
  auto imported = run_cli({"import", dir_.sub("copy")}, exported.out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(run_cli({"export", dir_.sub("copy")}).out, exported.out);
}

TEST_F(Cli, BackupWritesAVerifiedCopyThatExportsTheSameBytes) {
  append_three();
  auto r = run_cli({"backup", store(), dir_.sub("copy")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = r.lines().at(0);
  EXPECT_EQ(report["last_sequence"], 3);
  EXPECT_EQ(report["segments"], 1);
  EXPECT_TRUE(report["verified"].get<bool>());
  EXPECT_EQ(run_cli({"export", dir_.sub("copy")}).out, run_cli({"export", store()}).out);

  auto again = run_cli({"backup", store(), dir_.sub("copy")});
  EXPECT_EQ(again.exit_code, 2) << again.out;
  EXPECT_NE(again.err.find("invalid_argument"), std::string::npos) << again.err;
}

TEST_F(Cli, BackupOfADamagedStoreExitsOneAndWritesNothing) {
  append_three();
  {
    std::fstream f(store() + "/000000000001.seg", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(64 + 16 + 210);  // Inside the first frame's record.
    f.put('\x7f');
  }
  auto r = run_cli({"backup", store(), dir_.sub("copy")});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("corruption"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("copy")));
  EXPECT_FALSE(std::filesystem::exists(dir_.sub("copy.partial")));
}

TEST_F(Cli, VerifyReportsDamageWithExitOne) {
  append_three();
  ASSERT_EQ(run_cli({"verify", store()}).exit_code, 0);
  {
    std::fstream f(store() + "/000000000001.seg", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(64 + 16 + 210);  // Inside the first frame's record, before the newer frames.
    f.put('\x7f');
  }
  auto r = run_cli({"verify", store()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto report = r.lines().at(0);
  EXPECT_FALSE(report["ok"].get<bool>());
  EXPECT_NE(report["damage"]["file"].get<std::string>().find("000000000001.seg"), std::string::npos);
}

// The manifest still names the segment: its loss is damage, not an empty store.
TEST_F(Cli, VerifyReportsAMissingNewestSegmentWithExitOne) {
  append_three();
  std::filesystem::remove(store() + "/000000000001.seg");
  auto r = run_cli({"verify", store()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto report = r.lines().at(0);
  EXPECT_FALSE(report["ok"].get<bool>());
  EXPECT_NE(report["damage"]["file"].get<std::string>().find("000000000001.seg"), std::string::npos);
  EXPECT_NE(report["damage"]["reason"].get<std::string>().find("missing"), std::string::npos);
  auto query = run_cli({"query", store()});
  EXPECT_EQ(query.exit_code, 1) << query.out;
  EXPECT_NE(query.err.find("corruption"), std::string::npos) << query.err;
}

TEST_F(Cli, ProjectFoldsAnEntity) {
  append_three();
  auto count = run_cli({"project", store(), "--entity", "order:1", "--fold", "count-by-kind"});
  ASSERT_EQ(count.exit_code, 0) << count.err;
  EXPECT_EQ(count.lines().at(0)["state"]["1:001"], 1);
  EXPECT_EQ(count.lines().at(0)["generation"], 2);
  auto sum = run_cli({"project", store(), "--entity", "order:1", "--fold", "sum:qty", "--cache", "memory"});
  ASSERT_EQ(sum.exit_code, 0) << sum.err;
  EXPECT_EQ(sum.lines().at(0)["state"]["sum"], 7);
  auto last = run_cli({"project", store(), "--entity", "order:2", "--fold", "last-payload"});
  EXPECT_EQ(last.lines().at(0)["state"]["payload"][1], "two");
  const std::string cache = "file:" + dir_.sub("cache");
  auto cold = run_cli({"project", store(), "--entity", "order:1", "--fold", "sum:qty", "--cache", cache});
  auto warm = run_cli({"project", store(), "--entity", "order:1", "--fold", "sum:qty", "--cache", cache});
  ASSERT_EQ(warm.exit_code, 0) << warm.err;
  EXPECT_EQ(cold.lines().at(0)["cache_status"], "miss");
  EXPECT_EQ(warm.lines().at(0)["cache_status"], "hit");
  EXPECT_EQ(warm.lines().at(0)["state"]["sum"], 7);
  const std::string lmdb = "lmdb:" + dir_.sub("lmdb");
  run_cli({"project", store(), "--entity", "order:1", "--fold", "count-by-kind", "--cache", lmdb});
  auto lmdb_warm = run_cli({"project", store(), "--entity", "order:1", "--fold", "count-by-kind", "--cache", lmdb});
  ASSERT_EQ(lmdb_warm.exit_code, 0) << lmdb_warm.err;
  EXPECT_EQ(lmdb_warm.lines().at(0)["cache_status"], "hit");
  auto none = run_cli({"project", store(), "--entity", "nobody", "--fold", "count-by-kind"});
  EXPECT_TRUE(none.lines().at(0)["state"].is_null());
}

TEST_F(Cli, SeveralFoldsAreFoldedTogetherEachLineAsItsOwnRunPrintsIt) {
  append_three();
  const std::vector<std::string> folds = {"sum:qty", "count-by-kind", "last-payload"};
  std::vector<std::string> args = {"project", store(), "--entity", "order:1"};
  for (const std::string& fold : folds) args.insert(args.end(), {"--fold", fold});
  auto together = run_cli(args);
  ASSERT_EQ(together.exit_code, 0) << together.err;
  ASSERT_EQ(together.lines().size(), folds.size()) << together.out;
  for (size_t i = 0; i < folds.size(); ++i) {
    auto alone = run_cli({"project", store(), "--entity", "order:1", "--fold", folds[i]});
    ASSERT_EQ(alone.exit_code, 0) << alone.err;
    EXPECT_EQ(together.lines()[i], alone.lines().at(0)) << folds[i];
  }
  EXPECT_EQ(together.lines()[0]["state"]["sum"], 7);
  EXPECT_EQ(together.lines()[1]["state"]["1:002"], 1);

  auto two_sums = run_cli({"project", store(), "--entity", "order:1", "--fold", "sum:qty", "--fold", "sum:other"});
  ASSERT_EQ(two_sums.exit_code, 0) << two_sums.err;
  EXPECT_EQ(two_sums.lines().at(1)["state"]["sum"], 0);
  auto none = run_cli({"project", store(), "--entity", "nobody", "--fold", "sum:qty", "--fold", "count-by-kind"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_TRUE(none.lines().at(1)["state"].is_null());
  EXPECT_EQ(none.lines().at(1)["freshness"], "not_applicable");

  for (const std::vector<std::string>& refused :
       {std::vector<std::string>{"--fold", "sum:qty", "--fold", "sum:qty"},
        std::vector<std::string>{"--fold", "sum:qty", "--fold", "count-by-kind", "--cache", "memory"},
        std::vector<std::string>{"--fold", "sum:qty", "--fold", "count-by-kind", "--evidence"},
        std::vector<std::string>{"--fold", "sum:qty", "--fold", "median"}}) {
    std::vector<std::string> bad = {"project", store(), "--entity", "order:1"};
    bad.insert(bad.end(), refused.begin(), refused.end());
    auto r = run_cli(bad);
    EXPECT_EQ(r.exit_code, 2) << r.out;
    EXPECT_EQ(r.out, "");
  }
}

TEST_F(Cli, ProjectEvidencePrintsTheSameBodyWhateverTheCache) {
  append_three();
  auto plain = run_cli({"project", store(), "--entity", "order:1", "--fold", "sum:qty"});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_FALSE(plain.lines().at(0).contains("evidence")) << "evidence only on request";
  const std::string cache = "file:" + dir_.sub("cache");
  std::vector<nlohmann::json> runs;
  for (const std::string& spec : {std::string("none"), cache, cache}) {
    auto r = run_cli({"project", store(), "--entity", "order:1", "--fold", "sum:qty", "--cache", spec, "--evidence"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    runs.push_back(r.lines().at(0)["evidence"]);
  }
  const nlohmann::json& body = runs[0]["body"];
  EXPECT_EQ(body["projection_id"], "cli.sum-fields@1:order:1");
  EXPECT_EQ(body["observed_freshness"]["status"], "fresh");
  EXPECT_EQ(body["input_frontier"]["global_sequence"], 2) << "order:1 is events 1 and 2";
  EXPECT_EQ(runs[0]["body_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(runs[1]["cache_status"]["status"], "miss");
  EXPECT_EQ(runs[2]["cache_status"]["status"], "hit");
  for (const auto& run : runs) {
    EXPECT_EQ(run["body"], body);
    EXPECT_EQ(run["body_hash"], runs[0]["body_hash"]) << "a cache hit must not change the hashed body";
  }
}

TEST_F(Cli, AppendConditionsRefuseWhenTheRegionMovedOn) {
  append_three();  // order:1 at 1 and 2, order:2 at 3.
  auto append_if = [&](const std::string& after, const std::string& entity) {
    return run_cli({"append", store(), "--entity", "audit", "--scope", "s", "--kind", "1:001", "--payload", "1",
                    "--if-none-after", after, "--if-entity", entity});
  };
  EXPECT_EQ(append_if("2", "order:1").exit_code, 0) << "order:1 has nothing after 2";
  auto refused = append_if("2", "order");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("conflict"), std::string::npos) << refused.err;
  auto line = R"({"entity":"audit","scope":"s","kind":"1:001","payload":1,"condition":{"after":0,"entity":"order:2"}})";
  EXPECT_EQ(run_cli({"append", store(), "--stdin"}, std::string(line) + "\n").exit_code, 1);
  auto bad = R"({"entity":"audit","scope":"s","kind":"1:001","payload":1,"condition":{"after":0,"colour":"red"}})";
  EXPECT_EQ(run_cli({"append", store(), "--stdin"}, std::string(bad) + "\n").exit_code, 2);
  EXPECT_EQ(run_cli({"append", store(), "--entity", "a", "--scope", "s", "--kind", "1:001", "--payload", "1",
                     "--if-entity", "order"}).exit_code, 2) << "a region without --if-none-after";
  EXPECT_EQ(run_cli({"stats", store()}).lines().at(0)["event_count"], 4) << "only the first conditional append";
}

TEST_F(Cli, IfRegionIsAnotherNameForIfEntity) {
  append_three();
  auto refused = run_cli({"append", store(), "--entity", "audit", "--scope", "s", "--kind", "1:001", "--payload", "1",
                          "--if-none-after", "0", "--if-region", "order"});
  EXPECT_EQ(refused.exit_code, 1) << "events of order exist after 0";
}

TEST_F(Cli, FrontierPrintsTheWatermarksAndTheCancelledRanges) {
  append_three();
  {
    auto opened = Store::open(store());
    ASSERT_TRUE(opened);
    auto fence = (*opened)->begin_fence();
    ASSERT_TRUE(fence && fence->append(Coordinate::make("x", "s").value(), EventKind(0x1001), {}));
    ASSERT_TRUE(fence->cancel());
  }
  auto r = run_cli({"frontier", store()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json f = r.lines().at(0);
  for (const char* mark : {"accepted", "written", "durable", "visible", "applied"}) {
    EXPECT_EQ(f[mark]["global_sequence"], 4) << mark;
    EXPECT_GT(f[mark]["wall_ms"].get<uint64_t>(), 0u) << mark;
  }
  EXPECT_EQ(f["cancelled_ranges"], nlohmann::json::parse("[[4,5]]"));
  EXPECT_EQ(f["open_fence_cancelled"], false);
  EXPECT_EQ(run_cli({"stats", store()}).lines().at(0)["event_count"], 3) << "the hidden event is not counted";
}

TEST_F(Cli, CommandsOnALockedStoreExitOneWithStoreLocked) {
  append_three();
  auto held = Store::open(store());
  ASSERT_TRUE(held);
  auto r = run_cli({"stats", store()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("store_locked"), std::string::npos);
}

}  // namespace
}  // namespace batpak::testing
