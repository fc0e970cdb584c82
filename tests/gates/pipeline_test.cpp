// Pipelines (include/batpak/pipeline.hpp): allowed proposals commit, refused ones leave a
// DENIAL event, bypasses commit with a BYPASS audit in the same atomic batch.
#include <gtest/gtest.h>

#include "batpak/batpak.hpp"
#include "batpak/pipeline.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

struct Order {
  int64_t quantity = 0;
  int64_t stock = 0;
};

class PipelineTest : public StoreFixture<> {
 protected:
  void SetUp() override { open(); }
  static Pipeline<Order> pipeline() {
    GateSet<Order> gates;
    EXPECT_TRUE(gates.add({"stock", [](const Order& o) -> std::optional<Denial> {
      if (o.quantity <= o.stock) return std::nullopt;
      return Denial{{}, "out_of_stock", "not enough stock", {}};
    }}));
    return Pipeline<Order>(std::move(gates));
  }
  static BatchItem proposal() { return {Coordinate::make("order:1", "shop").value(), EventKind(0x1001), {7}, {}}; }
  std::vector<Event> order_events() { return store_->query(Region::entity("order:1")).value(); }
};

TEST_F(PipelineTest, AllowedProposalIsCommitted) {
  auto outcome = pipeline().submit(*store_, {1, 5}, proposal());
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  ASSERT_TRUE(outcome->committed);
  EXPECT_FALSE(outcome->denial);
  EXPECT_EQ(outcome->verdict.passed(), (std::vector<std::string>{"stock"}));
  ASSERT_EQ(order_events().size(), 1u);
  EXPECT_EQ(order_events()[0].header.kind, EventKind(0x1001));
}

TEST_F(PipelineTest, APipelineWithoutGatesCommitsEveryProposal) {
  auto outcome = Pipeline<Order>(GateSet<Order>{}).submit(*store_, {9, 5}, proposal());
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_TRUE(outcome->committed);
  EXPECT_FALSE(outcome->denial);
  EXPECT_TRUE(outcome->verdict.trace.empty());
  EXPECT_EQ(order_events().size(), 1u);
}

TEST_F(PipelineTest, RefusedProposalCommitsNothingButItsDenial) {
  auto outcome = pipeline().submit(*store_, {9, 5}, proposal());
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_FALSE(outcome->committed);
  ASSERT_TRUE(outcome->denial);
  const std::vector<Event> events = order_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].header.kind, kDenialKind);
  EXPECT_EQ(decode_denial(events[0]).value().trace.at(0).code, "out_of_stock");
}

TEST_F(PipelineTest, CallerSuppliedCommitIsUsedOnlyWhenAllowed) {
  int commits = 0;
  auto counting = [&](Store& s, const BatchItem& p) {
    ++commits;
    return s.append(p.coordinate, p.kind, p.payload, p.options);
  };
  ASSERT_TRUE(pipeline().submit(*store_, {1, 5}, proposal(), counting));
  ASSERT_TRUE(pipeline().submit(*store_, {9, 5}, proposal(), counting));
  EXPECT_EQ(commits, 1);
}

TEST_F(PipelineTest, BypassCommitsWithAnAuditInTheSameBatch) {
  auto outcome = pipeline().bypass(*store_, proposal(), BypassAudit{"incident-42", "stock count is wrong", "ops", {}, 0});
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  ASSERT_TRUE(outcome->committed && outcome->bypass_audit);
  EXPECT_EQ(outcome->bypass_audit->global_sequence, outcome->committed->global_sequence + 1) << "one atomic batch";
  const std::vector<Event> events = order_events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].header.causation_id, events[0].header.event_id);
  auto audit = decode_bypass(events[1]);
  ASSERT_TRUE(audit) << audit.error().to_string();
  EXPECT_EQ(audit->reason, "incident-42");
  EXPECT_EQ(audit->approved_by, "ops");
  EXPECT_EQ(audit->bypassed_kind, 0x1001);
  EXPECT_EQ(audit->bypassed_content_hash.size(), 32u);
  EXPECT_TRUE(store_->verify()->ok());
}

TEST_F(PipelineTest, BypassNeedsAReasonAndAJustification) {
  EXPECT_EQ(pipeline().bypass(*store_, proposal(), BypassAudit{"", "why", "", {}, 0}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(pipeline().bypass(*store_, proposal(), BypassAudit{"r", "", "", {}, 0}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_TRUE(order_events().empty());
  EXPECT_EQ(store_->append(proposal().coordinate, kBypassKind, {}).error().code, ErrorCode::kReservedKind);
}

}  // namespace
}  // namespace batpak::testing
