// `batpak import DIR --from SRC`: the events of another store copied in commit order (a
// region of them with the region flags, those after a source sequence with --after), one
// report line printed once they are durable; a rerun copies nothing twice; a source whose keys
// are wrapped opens only with --from-master-key-file; the --from flags without --from are exit 2.
#include <gtest/gtest.h>

#include "cli/cli_runner.hpp"
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
  TempDir dir_;
};

TEST_F(CliImportFrom, ARegionThenTheRestGiveAnExactCopyWithoutDuplicates) {
  for (int n = 1; n <= 3; ++n) append({}, "order:" + std::to_string(n), n);
  EXPECT_EQ(import({"--entity", "order:2"}),
            (nlohmann::json{{"imported", 1}, {"already_present", 0}, {"skipped_shredded", 0},
                            {"source_visible_sequence", 3}}));
  EXPECT_EQ(import({}), (nlohmann::json{{"imported", 2}, {"already_present", 1}, {"skipped_shredded", 0},
                                        {"source_visible_sequence", 3}}));
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
  const nlohmann::json later = import({"--after", first["source_visible_sequence"].dump()});
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
                                                {"--from-master-key-file", "k"}, {"--category", "1"}}) {
    std::vector<std::string> args = {"import", copy()};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = run_cli(args, "");
    EXPECT_EQ(r.exit_code, 2) << flags[0] << ": " << r.err;
  }
  EXPECT_TRUE(import({"--kind", "f:001", "--category", "1"}, 2).is_null());
  EXPECT_EQ(run_cli({"stats", copy()}).exit_code, 1);  // No store was made.
}

}  // namespace
}  // namespace batpak::testing
