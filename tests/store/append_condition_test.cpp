// Append conditions (AppendCondition): "fail with kConflict if an event matching R was
// committed after S", checked atomically with the commit, for single appends and batches.
#include <gtest/gtest.h>

#include "batpak/batpak.hpp"
#include "support/durability_names.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);

class AppendConditionTest : public StoreFixture<::testing::TestWithParam<Durability>> {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.durability = GetParam();
    open(options);
  }
  Result<Receipt> append(const std::string& entity, std::optional<AppendCondition> condition = std::nullopt) {
    AppendOptions options;
    options.condition = std::move(condition);
    return store_->append(Coordinate::make(entity, "s").value(), kKind, {}, options);
  }
  uint64_t events() { return store_->stats().last_global_sequence; }

};

TEST_P(AppendConditionTest, HoldsUntilAMatchingEventIsCommittedAfterTheGivenSequence) {
  ASSERT_TRUE(append("account:1"));
  const AppendCondition since_one{Region::entity("account"), 1};
  ASSERT_TRUE(append("audit", since_one)) << "nothing matching after 1";
  ASSERT_TRUE(append("other:1", since_one)) << "a non-matching event does not break it";
  ASSERT_TRUE(append("account:2"));  // Sequence 4 matches the region.
  auto refused = append("audit", since_one);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  EXPECT_NE(refused.error().message.find("event 4"), std::string::npos) << refused.error().message;
  ASSERT_TRUE(store_->wait_for_visible(3, 10000));
  EXPECT_EQ(events(), 4u) << "a refused append writes nothing";
  EXPECT_TRUE(append("audit", AppendCondition{Region::entity("account"), 4}));
}

TEST_P(AppendConditionTest, ARefusedConditionRefusesTheWholeBatch) {
  ASSERT_TRUE(append("account:1"));
  std::vector<BatchItem> batch;
  batch.push_back({Coordinate::make("a", "s").value(), kKind, {}, {}});
  batch.push_back({Coordinate::make("b", "s").value(), kKind, {}, {}});
  batch[1].options.condition = AppendCondition{Region::entity("account"), 0};  // Event 1 matches.
  auto refused = store_->append_batch(batch);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->wait_for_visible(0, 10000));
  EXPECT_EQ(events(), 1u);
  batch[1].options.condition = AppendCondition{Region::entity("account"), 1};
  auto accepted = store_->append_batch(batch);
  ASSERT_TRUE(accepted) << accepted.error().to_string();
  EXPECT_EQ(accepted->size(), 2u);
}

TEST_P(AppendConditionTest, SeesEventsStillInFlightFromAnotherAppend) {
  // kAsync acknowledges before visibility: the condition must still see the first event.
  ASSERT_TRUE(append("account:1"));
  auto refused = append("audit", AppendCondition{Region::entity("account"), 0});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
}

INSTANTIATE_TEST_SUITE_P(Durabilities, AppendConditionTest,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         durability_name);

}  // namespace
}  // namespace batpak::testing
