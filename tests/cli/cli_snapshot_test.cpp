// `--snapshot`: read-only commands read a store that another process (here: this test)
// holds open for writing, without its lock; commands that write still need the lock.
#include <gtest/gtest.h>

#include "cli/cli_runner.hpp"
#include "store/store_fixtures.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr uint64_t kEvents = 5;

class CliSnapshot : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::open(store_dir());
    ASSERT_TRUE(store) << store.error().to_string();
    writer_ = std::move(*store);
    for (uint64_t i = 0; i < kEvents; ++i) {
      ASSERT_TRUE(writer_->append(store_test::coord("e"), store_test::kKindA, store_test::bytes("{}")));
    }
  }
  std::string store_dir() const { return dir_.sub("store"); }
  static void expect_locked(const CliResult& r) {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("store_locked"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }

  TempDir dir_;
  std::unique_ptr<Store> writer_;  // Held open (and locked) for the whole test.
};

TEST_F(CliSnapshot, ReadCommandsReadAHeldStoreOnlyWithTheFlag) {
  expect_locked(run_cli({"stats", store_dir()}));
  for (const auto& args : {std::vector<std::string>{"--snapshot", "stats", store_dir()},
                           std::vector<std::string>{"stats", store_dir(), "--snapshot"}}) {
    CliResult r = run_cli(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    ASSERT_EQ(r.lines().size(), 1u) << r.out;
    EXPECT_EQ(r.lines().front()["event_count"], kEvents);
  }
  CliResult query = run_cli({"--snapshot", "query", store_dir()});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(query.lines().size(), kEvents);
  CliResult tail = run_cli({"--snapshot", "tail", store_dir()});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.lines().size(), kEvents);
}

TEST_F(CliSnapshot, ABackupOfAHeldStoreHoldsEveryEventAndOpensOnItsOwn) {
  const std::string copy = dir_.sub("copy");
  CliResult r = run_cli({"--snapshot", "backup", store_dir(), copy});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.lines().front()["verified"], true);
  BATPAK_ASSERT_OK_AND_ASSIGN(opened, Store::open(copy));
  EXPECT_EQ(opened->stats().event_count, kEvents);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, opened->verify());
  EXPECT_TRUE(report.ok());
}

TEST_F(CliSnapshot, CommandsThatWriteStillNeedTheLock) {
  expect_locked(run_cli({"--snapshot", "append", store_dir(), "--entity", "e", "--scope", "s", "--kind", "1:001",
                         "--payload", "{}"}));
  EXPECT_EQ(writer_->stats().event_count, kEvents);
}

}  // namespace
}  // namespace batpak::testing
