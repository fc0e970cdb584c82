// Quickstart: open a store, append typed and raw events, read them back, walk a chain,
// verify a receipt and the whole store.
//
//   quickstart [DIR]     (DIR defaults to a fresh temporary directory)
#include <cstdio>
#include <cstdlib>
#include <string>

#include "batpak/batpak.hpp"

struct OrderPlaced {
  static constexpr batpak::EventKind kKind{0x1001};
  std::string sku;
  int64_t quantity = 0;
  MSGPACK_DEFINE_MAP(sku, quantity)
};

static int fail(const batpak::Error& e) {
  std::fprintf(stderr, "error: %s\n", e.to_string().c_str());
  return 1;
}

int main(int argc, char** argv) {
  std::string dir;
  if (argc > 1) {
    dir = argv[1];
  } else {
    char tmpl[] = "/tmp/batpak-quickstart-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return 1;
    dir = tmpl;
  }
  batpak::StoreOptions options;
  options.signing_seed = std::array<uint8_t, 32>{1, 2, 3};  // Demo key: never do this for real.
  auto store = batpak::Store::open(dir, options);
  if (!store) return fail(store.error());

  auto order = batpak::Coordinate::make("order:42", "shop");
  if (!order) return fail(order.error());
  for (int i = 1; i <= 3; ++i) {
    auto receipt = (*store)->append(*order, OrderPlaced{"sku-" + std::to_string(i), i});
    if (!receipt) return fail(receipt.error());
    std::printf("%s\n", batpak::receipt_to_json(*receipt).dump().c_str());
  }
  auto last = (*store)->query(batpak::Region::entity("order"));
  if (!last) return fail(last.error());
  const batpak::EventId newest = last->back().header.event_id;
  auto chain = (*store)->walk_ancestors(newest, 10);
  if (!chain) return fail(chain.error());
  std::printf("chain of %s: %zu events, anchor first\n", newest.to_hex().c_str(), chain->size());
  for (const auto& event : *chain) {
    auto typed = batpak::decode_event<OrderPlaced>(event);
    if (!typed) return fail(typed.error());
    std::printf("  clock %u: %s x%lld\n", event.header.clock, typed->sku.c_str(),
                static_cast<long long>(typed->quantity));
  }
  auto receipt = (*store)->append(*order, batpak::EventKind{0x1002},
                                  batpak::json_to_payload({{"note", "shipped"}}));
  if (!receipt) return fail(receipt.error());
  if (auto ok = batpak::verify_receipt_signature(*receipt, *(*store)->public_key()); !ok) {
    return fail(ok.error());
  }
  auto report = (*store)->verify();
  if (!report) return fail(report.error());
  std::printf("verify: %s, %llu events checked in %s\n", report->ok() ? "ok" : "DAMAGED",
              static_cast<unsigned long long>(report->events_checked), dir.c_str());
  if (auto closed = (*store)->close(); !closed) return fail(closed.error());
  return report->ok() ? 0 : 1;
}
