// An order workflow with three gates (stock, credit limit, fraud score): permits, denials
// and an audited bypass, then the events they left on the orders' chains.
//
// Usage: example_order_workflow [DIR]   (default: a new directory under /tmp, removed after)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "batpak/batpak.hpp"

namespace {

struct OrderPlaced {
  static constexpr batpak::EventKind kKind{0x1001};
  std::string sku;
  int64_t quantity = 0;
  int64_t amount_cents = 0;
  MSGPACK_DEFINE_MAP(sku, quantity, amount_cents)
};

struct Order {  // What the gates look at.
  OrderPlaced placed;
  int64_t stock = 0;
  int64_t credit_left_cents = 0;
  int fraud_score = 0;  // 0..100
};

std::optional<batpak::Denial> deny(const char* code, std::string message) {
  return batpak::Denial{{}, code, std::move(message), {}};
}

batpak::GateSet<Order> order_gates() {
  batpak::GateSet<Order> gates;
  (void)gates.add({"stock", [](const Order& o) {
    return o.placed.quantity <= o.stock ? std::nullopt : deny("out_of_stock", std::to_string(o.stock) + " in stock");
  }});
  (void)gates.add({"credit", [](const Order& o) {
    return o.placed.amount_cents <= o.credit_left_cents ? std::nullopt : deny("over_credit_limit", "credit exhausted");
  }});
  (void)gates.add({"fraud", [](const Order& o) {
    return o.fraud_score < 80 ? std::nullopt : deny("fraud_suspected", "score " + std::to_string(o.fraud_score));
  }});
  return gates;
}

batpak::BatchItem proposal(const std::string& order_id, const OrderPlaced& placed) {
  return {batpak::Coordinate::make("order:" + order_id, "shop").value(), OrderPlaced::kKind,
          batpak::encode_payload(placed), {}};
}

void print_outcome(const std::string& order_id, const batpak::PipelineOutcome& outcome) {
  if (outcome.bypass_audit) {
    std::printf("order:%s  BYPASSED  event seq %llu, audit seq %llu\n", order_id.c_str(),
                static_cast<unsigned long long>(outcome.committed->global_sequence),
                static_cast<unsigned long long>(outcome.bypass_audit->global_sequence));
  } else if (outcome.committed) {
    std::printf("order:%s  PERMITTED by %zu gates, seq %llu\n", order_id.c_str(), outcome.verdict.passed().size(),
                static_cast<unsigned long long>(outcome.committed->global_sequence));
  } else {
    const batpak::Denial& d = *outcome.verdict.denial;
    std::printf("order:%s  DENIED by %s (%s: %s), denial seq %llu\n", order_id.c_str(), d.gate.c_str(), d.code.c_str(),
                d.message.c_str(), static_cast<unsigned long long>(outcome.denial->global_sequence));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "";
  std::string scratch;
  if (dir.empty()) {
    char tmpl[] = "/tmp/batpak-orders-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    scratch = tmpl;
    dir = scratch + "/store";
  }
  auto store = batpak::Store::open(dir);
  if (!store) {
    std::fprintf(stderr, "open: %s\n", store.error().to_string().c_str());
    return 1;
  }
  const batpak::Pipeline<Order> pipeline(order_gates());
  struct Case {
    std::string id;
    Order order;
  };
  const Case cases[] = {{"1", {{"apple", 3, 900}, 10, 5000, 5}},
                        {"2", {{"pear", 50, 1500}, 10, 5000, 5}},
                        {"3", {{"plum", 1, 9000}, 10, 5000, 5}},
                        {"4", {{"fig", 1, 300}, 10, 5000, 95}}};
  for (const Case& c : cases) {
    auto outcome = pipeline.submit(**store, c.order, proposal(c.id, c.order.placed));
    if (!outcome) return 2;
    print_outcome(c.id, *outcome);
  }
  auto bypassed = pipeline.bypass(**store, proposal("2", {"pear", 50, 1500}),
                                  batpak::BypassAudit{"warehouse-recount", "stock count was stale", "ops-lead", {}, 0});
  if (!bypassed) return 3;
  print_outcome("2", *bypassed);

  std::printf("\nevents in commit order:\n");
  const auto events = (*store)->query(batpak::Region::entity("order"));
  if (!events) return 4;
  for (const batpak::Event& e : *events) {
    std::printf("  seq %llu  %-8s clock %u  kind %s\n", static_cast<unsigned long long>(e.header.global_sequence),
                e.coordinate.entity().c_str(), e.header.clock, e.header.kind.to_string().c_str());
  }
  const bool verified = (*store)->verify().has_value() && (*store)->verify()->ok();
  std::printf("verify: %s\n", verified ? "ok" : "DAMAGED");
  const bool closed = (*store)->close().has_value();
  if (!scratch.empty()) std::filesystem::remove_all(scratch);
  return verified && closed ? 0 : 5;
}
