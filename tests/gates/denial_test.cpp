// Denials persisted (Store::append_denial): a reserved DENIAL event on the entity's chain,
// with the per-gate trace, queryable and verifiable like any event.
#include <gtest/gtest.h>

#include "batpak/batpak.hpp"
#include "support/temp_dir.hpp"
#include "util/hash.hpp"

namespace batpak::testing {
namespace {

struct Order {
  int64_t quantity = 0;
  int64_t stock = 0;
};

GateSet<Order> order_gates() {
  GateSet<Order> gates;
  (void)gates.add({"stock", [](const Order& o) -> std::optional<Denial> {
    if (o.quantity <= o.stock) return std::nullopt;
    return Denial{{}, "out_of_stock", "not enough stock", {{"stock", std::to_string(o.stock)}}};
  }});
  (void)gates.add({"credit", [](const Order&) { return std::optional<Denial>(); }});
  return gates;
}

TEST(Denial, RefusalIsARecordedVerifiableEventOnTheEntityChain) {
  TempDir dir;
  auto store = Store::open(dir.sub("store"));
  ASSERT_TRUE(store);
  const Coordinate order = Coordinate::make("order:7", "shop").value();
  ASSERT_TRUE((*store)->append(order, EventKind(0x1001), {}));
  const std::vector<uint8_t> proposed = {1, 2, 3};
  const GateVerdict verdict = order_gates().evaluate({9, 5});
  ASSERT_FALSE(verdict.allowed());
  auto receipt = (*store)->append_denial(order, verdict, EventKind(0x1002), proposed);
  ASSERT_TRUE(receipt) << receipt.error().to_string();
  EXPECT_EQ(receipt->kind, kDenialKind);
  EXPECT_EQ(receipt->clock, 2u) << "on the entity's own chain";
  EXPECT_TRUE((*store)->verify_receipt(*receipt));
  auto denials = (*store)->query(Region::entity("order:7").with_kinds(KindFilter::exact(kDenialKind)));
  ASSERT_TRUE(denials);
  ASSERT_EQ(denials->size(), 1u);
  auto record = decode_denial(denials->front());
  ASSERT_TRUE(record) << record.error().to_string();
  ASSERT_EQ(record->trace.size(), 2u);
  EXPECT_EQ(record->trace[0].gate, "stock");
  EXPECT_EQ(record->trace[0].verdict, "deny");
  EXPECT_EQ(record->trace[0].code, "out_of_stock");
  EXPECT_EQ(record->trace[0].context.at("stock"), "5");
  EXPECT_EQ(record->trace[1].verdict, "skipped");
  EXPECT_EQ(record->proposed_kind, 0x1002);
  const Hash32 expected = util::blake3(proposed);
  EXPECT_EQ(record->proposed_content_hash, std::vector<uint8_t>(expected.bytes.begin(), expected.bytes.end()));
  EXPECT_TRUE((*store)->verify()->ok());
  EXPECT_EQ(decode_denial((*store)->get(receipt->event_id).value()).value().trace.size(), 2u);
}

TEST(Denial, AllowedVerdictsAndPublicAppendsOfTheDenialKindAreRefused) {
  TempDir dir;
  auto store = Store::open(dir.sub("store"));
  ASSERT_TRUE(store);
  const Coordinate order = Coordinate::make("order:7", "shop").value();
  const GateVerdict allowed = order_gates().evaluate({1, 5});
  EXPECT_EQ((*store)->append_denial(order, allowed, EventKind(0x1002), {}).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ((*store)->append(order, kDenialKind, {}).error().code, ErrorCode::kReservedKind)
      << "only the library writes DENIAL events";
  auto wrong = decode_denial(Event{order, EventHeader{}, {}});
  EXPECT_EQ(wrong.error().code, ErrorCode::kDecode);
}

}  // namespace
}  // namespace batpak::testing
