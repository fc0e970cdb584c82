// Gates (include/batpak/gate.hpp): order, first-denial semantics, full traces, defects.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "batpak/gate.hpp"

namespace batpak::testing {
namespace {

struct Order {
  int64_t quantity = 0;
  int64_t stock = 0;
  int64_t fraud_score = 0;
};

using Verdict = GateOutcome::Verdict;

class GateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(gates_.add({"stock", [this](const Order& o) -> std::optional<Denial> {
      ++calls_[0];
      if (o.quantity <= o.stock) return std::nullopt;
      return Denial{{}, "out_of_stock", "not enough stock", {{"stock", std::to_string(o.stock)}}};
    }}));
    ASSERT_TRUE(gates_.add({"fraud", [this](const Order& o) -> std::optional<Denial> {
      ++calls_[1];
      if (o.fraud_score < 50) return std::nullopt;
      return Denial{"fraud-model", "suspicious", "score too high", {}};
    }}));
    ASSERT_TRUE(gates_.add({"audit", [this](const Order&) -> std::optional<Denial> {
      ++calls_[2];
      return std::nullopt;
    }}));
  }
  static std::vector<Verdict> verdicts(const GateVerdict& v) {
    std::vector<Verdict> out;
    for (const auto& o : v.trace) out.push_back(o.verdict);
    return out;
  }
  GateSet<Order> gates_;
  std::atomic<int> calls_[3] = {0, 0, 0};
};

TEST_F(GateTest, AllowedWhenEveryGateAllowsInOrder) {
  const GateVerdict v = gates_.evaluate({1, 5, 0});
  EXPECT_TRUE(v.allowed());
  EXPECT_EQ(v.passed(), (std::vector<std::string>{"stock", "fraud", "audit"}));
  EXPECT_EQ(gates_.names(), v.passed());
}

TEST_F(GateTest, EvaluateStopsAtTheFirstDenialAndSkipsTheRest) {
  const GateVerdict v = gates_.evaluate({9, 5, 99});
  ASSERT_FALSE(v.allowed());
  EXPECT_EQ(v.denial->gate, "stock") << "the gate's name is filled in";
  EXPECT_EQ(v.denial->code, "out_of_stock");
  EXPECT_EQ(v.denial->context.at("stock"), "5");
  EXPECT_EQ(verdicts(v), (std::vector<Verdict>{Verdict::kDeny, Verdict::kSkipped, Verdict::kSkipped}));
  EXPECT_EQ(calls_[1].load() + calls_[2].load(), 0) << "gates after a denial do not run";
  EXPECT_TRUE(v.passed().empty());
}

TEST_F(GateTest, EvaluateAllRunsEveryGateAndKeepsTheFirstDenial) {
  const GateVerdict v = gates_.evaluate_all({9, 5, 99});
  EXPECT_EQ(verdicts(v), (std::vector<Verdict>{Verdict::kDeny, Verdict::kDeny, Verdict::kPermit}));
  EXPECT_EQ(v.denial->gate, "stock");
  EXPECT_EQ(v.trace[1].denial->gate, "fraud-model") << "a gate may name itself differently";
  EXPECT_EQ(calls_[2].load(), 1);
}

TEST_F(GateTest, ThrowingGateIsADefectDenialNeverACrashOrAnAllow) {
  GateSet<Order> set;
  ASSERT_TRUE(set.add({"broken", [](const Order&) -> std::optional<Denial> { throw std::runtime_error("boom"); }}));
  ASSERT_TRUE(set.add({"odd", [](const Order&) -> std::optional<Denial> { throw 42; }}));
  const GateVerdict first = set.evaluate({});
  ASSERT_FALSE(first.allowed());
  EXPECT_EQ(first.denial->gate, "broken");
  EXPECT_EQ(first.denial->code, kGateDefectCode);
  EXPECT_NE(first.denial->message.find("boom"), std::string::npos);
  const GateVerdict all = set.evaluate_all({});
  ASSERT_EQ(all.trace.size(), 2u);
  EXPECT_EQ(all.trace[1].verdict, Verdict::kDeny);
  EXPECT_EQ(all.trace[1].denial->code, kGateDefectCode);
}

TEST_F(GateTest, NamesMustBeNonEmptyAndUniqueAndFunctionsPresent) {
  EXPECT_EQ(gates_.add({"", [](const Order&) { return std::optional<Denial>(); }}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(gates_.add({"stock", [](const Order&) { return std::optional<Denial>(); }}).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(gates_.add({"empty", nullptr}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(gates_.size(), 3u);
}

// No gate, no objection: an empty set allows with an empty trace in both modes.
TEST(EmptyGateSet, AllowsWithAnEmptyTrace) {
  const GateSet<Order> none;
  for (const GateVerdict& v : {none.evaluate({99, 0, 99}), none.evaluate_all({99, 0, 99})}) {
    EXPECT_TRUE(v.allowed());
    EXPECT_TRUE(v.trace.empty());
    EXPECT_TRUE(v.passed().empty());
  }
}

TEST_F(GateTest, OneSetEvaluatedFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const bool deny = (i + t) % 2 == 0;
        const GateVerdict v = gates_.evaluate({deny ? 10 : 1, 5, 0});
        if (v.allowed() == deny) ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(calls_[0].load(), 800);
}

}  // namespace
}  // namespace batpak::testing
