// `batpak entities`: every entity (or one namespace) in name order with its generation and
// last global sequence, pages with --after and --limit, and a bad prefix as exit 2.
#include <gtest/gtest.h>

#include "cli/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class CliEntities : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_cli({"init", store_dir()}).exit_code, 0);
    for (const char* entity : {"user:2", "order:1", "user:10", "user:2", "order7"}) {
      CliResult r = run_cli({"append", store_dir(), "--entity", entity, "--scope", "s", "--kind", "0x1001",
                             "--payload", "1"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
  }
  std::string store_dir() const { return dir_.sub("store"); }
  // The entity names `entities` prints with `flags`.
  std::vector<std::string> names(const std::vector<std::string>& flags) {
    std::vector<std::string> args = {"entities", store_dir()};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<std::string> out;
    for (const auto& line : r.lines()) out.push_back(line.at("entity").get<std::string>());
    return out;
  }
  TempDir dir_;
};

TEST_F(CliEntities, PrintsEveryEntityInNameOrderWithItsGenerationAndLastSequence) {
  CliResult r = run_cli({"entities", store_dir()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 4u) << r.out;
  EXPECT_EQ(lines[0], (nlohmann::json{{"entity", "order7"}, {"generation", 1}, {"last_global_sequence", 5}}));
  EXPECT_EQ(lines[1], (nlohmann::json{{"entity", "order:1"}, {"generation", 1}, {"last_global_sequence", 2}}));
  EXPECT_EQ(lines[2], (nlohmann::json{{"entity", "user:10"}, {"generation", 1}, {"last_global_sequence", 3}}));
  EXPECT_EQ(lines[3], (nlohmann::json{{"entity", "user:2"}, {"generation", 2}, {"last_global_sequence", 4}}));
}

TEST_F(CliEntities, PrefixAfterAndLimitSelectAPage) {
  EXPECT_EQ(names({"--prefix", "order"}), (std::vector<std::string>{"order:1"})) << "order7 is not in order";
  EXPECT_EQ(names({"--prefix", "user", "--limit", "1"}), (std::vector<std::string>{"user:10"}));
  EXPECT_EQ(names({"--prefix", "user", "--after", "user:10"}), (std::vector<std::string>{"user:2"}));
  EXPECT_EQ(names({"--after", "user:2"}), std::vector<std::string>{});
  EXPECT_EQ(names({"--limit", "0"}), std::vector<std::string>{});
}

TEST_F(CliEntities, ABadPrefixOrLimitIsExitTwo) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--prefix", "a/b"}, {"--prefix", "a..b"}, {"--limit", "-1"}}) {
    std::vector<std::string> args = {"entities", store_dir()};
    args.insert(args.end(), flags.begin(), flags.end());
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << flags[1] << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(run_cli({"entities", dir_.sub("none")}).exit_code, 1) << "no store";
}

}  // namespace
}  // namespace batpak::testing
