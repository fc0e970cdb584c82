// Property: under concurrent writers, no two conflicting conditional appends both succeed.
// Each writer reads the last event of a shared region, then appends to it on condition that
// nothing in the region came after what it read. Every accepted append must then be the
// first event of the region after the sequence it read; plain appenders to the region and to
// other regions run at the same time. Under ThreadSanitizer in CI.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "batpak/batpak.hpp"
#include "support/durability_names.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

class AppendConditionConcurrency : public ::testing::TestWithParam<Durability> {};

TEST_P(AppendConditionConcurrency, NoTwoConflictingConditionalAppendsBothSucceed) {
  TempDir dir;
  StoreOptions options;
  options.durability = GetParam();
  auto store = Store::open(dir.sub("store"), options);
  ASSERT_TRUE(store);
  const Region region = Region::entity("ledger");
  struct Accepted {
    uint64_t read_up_to;
    uint64_t sequence;
  };
  std::mutex mu;
  std::vector<Accepted> accepted;
  int conflicts = 0;
  auto conditional_writer = [&](int id) {
    const auto coordinate = Coordinate::make("ledger:" + std::to_string(id), "s").value();
    for (int i = 0; i < 40; ++i) {
      auto seen = (*store)->query(region);
      ASSERT_TRUE(seen);
      AppendOptions o;
      o.condition = AppendCondition{region, seen->empty() ? 0 : seen->back().header.global_sequence};
      auto r = (*store)->append(coordinate, EventKind(0x1001), {}, o);
      std::lock_guard lock(mu);
      if (r) accepted.push_back({o.condition->after_global_sequence, r->global_sequence});
      else if (r.error().code == ErrorCode::kConflict) ++conflicts;
      else FAIL() << r.error().to_string();
    }
  };
  auto plain_writer = [&](const std::string& entity) {
    const auto coordinate = Coordinate::make(entity, "s").value();
    for (int i = 0; i < 40; ++i) ASSERT_TRUE((*store)->append(coordinate, EventKind(0x1001), {}));
  };
  std::vector<std::thread> threads;
  for (int id = 0; id < 4; ++id) threads.emplace_back(conditional_writer, id);
  threads.emplace_back(plain_writer, "ledger:plain");
  threads.emplace_back(plain_writer, "elsewhere");
  for (auto& t : threads) t.join();
  ASSERT_TRUE((*store)->sync());
  ASSERT_FALSE(accepted.empty());
  for (const Accepted& a : accepted) {
    auto between = (*store)->query_after(region, a.read_up_to, 1);
    ASSERT_TRUE(between);
    ASSERT_FALSE(between->empty());
    EXPECT_EQ(between->front().header.global_sequence, a.sequence)
        << "an event of the region slipped in between the read (" << a.read_up_to << ") and the append";
  }
  std::printf("append conditions: %zu accepted, %d conflicts\n", accepted.size(), conflicts);
}

INSTANTIATE_TEST_SUITE_P(Durabilities, AppendConditionConcurrency,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         durability_name);

}  // namespace
}  // namespace batpak::testing
