// Store::import_event: an export copied into another store, gate records included.
#include "batpak/denial.hpp"
#include "store_fixtures.hpp"

namespace batpak::store_test {
namespace {

using ImportTest = StoreTest;

TEST_F(ImportTest, ImportingAWholeExportIntoAnEmptyStoreReproducesItExactly) {
  const std::string dir_a = tmp_.sub("a");
  const std::string dir_b = tmp_.sub("b");
  std::vector<Event> exported;
  {
    auto a = Store::open(dir_a);
    ASSERT_TRUE(a.has_value());
    Store& store = **a;
    BATPAK_ASSERT_OK_AND_ASSIGN(root, store.append(coord("order:1", "shop"), kKindA, bytes("placed")));
    AppendOptions child;
    child.causation_id = root.event_id;
    child.correlation_id = root.correlation_id;
    child.flags = 0x0102;
    child.payload_version = 3;
    ASSERT_TRUE(store.append(coord("payment:1", "bank"), kKindB, bytes("charged"), child));
    AppendOptions keyed;
    keyed.idempotency_key = "ship-1";
    ASSERT_TRUE(store.append(coord("order:1", "shop"), kKindA, json_to_payload({{"carrier", "ups"}}), keyed));
    std::vector<BatchItem> batch{{coord("order:2", "shop"), kKindA, bytes("b1"), {}},
                                 {coord("order:1", "shop"), kKindB, {}, {}}};
    ASSERT_TRUE(store.append_batch(batch));
    BATPAK_ASSERT_OK_AND_ASSIGN(all, store.query(Region::all()));
    exported = all;
  }
  ASSERT_EQ(exported.size(), 5u);

  auto b = Store::open(dir_b);
  ASSERT_TRUE(b.has_value());
  Store& store = **b;
  for (const Event& e : exported) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store.import_event(e));
    EXPECT_FALSE(r.idempotent_replay);
    expect_receipt_matches(r, e);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(imported, store.query(Region::all()));
  ASSERT_EQ(imported.size(), exported.size());
  for (size_t i = 0; i < imported.size(); ++i) expect_same_event(imported[i], exported[i]);

  // Rerunning an interrupted import replays instead of duplicating.
  for (const Event& e : exported) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store.import_event(e));
    EXPECT_TRUE(r.idempotent_replay);
    EXPECT_EQ(r.global_sequence, e.header.global_sequence);
  }
  EXPECT_EQ(store.stats().event_count, exported.size());
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store.verify());
  EXPECT_TRUE(report.ok());
  BATPAK_ASSERT_OK(store.close());

  auto reopened = Store::open(dir_b);
  ASSERT_TRUE(reopened.has_value());
  BATPAK_ASSERT_OK_AND_ASSIGN(again, (*reopened)->query(Region::all()));
  ASSERT_EQ(again.size(), exported.size());
  for (size_t i = 0; i < again.size(); ++i) expect_same_event(again[i], exported[i]);
}

TEST_F(ImportTest, ImportRefusesReservedKindsAndNilIds) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  Event e{coord("x"), {}, bytes("p")};
  e.header.kind = kKindA;
  BATPAK_EXPECT_ERROR(store->import_event(e), ErrorCode::kInvalidArgument);  // Nil id.
  e.header.event_id.bytes[0] = 1;
  e.header.kind = EventKind(0xD001);
  BATPAK_EXPECT_ERROR(store->import_event(e), ErrorCode::kReservedKind);
  EXPECT_EQ(store->stats().event_count, 0u);
}

// A store whose gates refused one proposal and were bypassed for another.
std::vector<Event> export_of_a_store_with_gate_records(const std::string& dir) {
  auto opened = Store::open(dir);
  EXPECT_TRUE(opened.has_value());
  if (!opened) return {};
  Store& store = **opened;
  GateSet<int> gates;
  (void)gates.add({"limit", [](const int& n) -> std::optional<Denial> {
    if (n <= 10) return std::nullopt;
    return Denial{{}, "over_limit", "at most 10", {{"n", std::to_string(n)}}};
  }});
  EXPECT_TRUE(store.append(coord("order:1", "shop"), kKindA, bytes("placed")));
  EXPECT_TRUE(store.append_denial(coord("order:1", "shop"), gates.evaluate(11), kKindB, bytes("eleven")));
  EXPECT_TRUE(store.append_bypassing_gates({coord("order:1", "shop"), kKindB, bytes("twelve"), {}},
                                           {"incident-7", "customer promised", "ops", {}, 0}));
  auto all = store.query(Region::all());
  EXPECT_TRUE(all.has_value());
  return all ? *all : std::vector<Event>{};
}

TEST_F(ImportTest, DenialAndBypassEventsRoundTripExactly) {
  const std::vector<Event> exported = export_of_a_store_with_gate_records(tmp_.sub("a"));
  ASSERT_EQ(exported.size(), 4u);
  ASSERT_EQ(exported[1].header.kind, kDenialKind);
  ASSERT_EQ(exported[3].header.kind, kBypassKind);
  auto b = Store::open(tmp_.sub("b"));
  ASSERT_TRUE(b.has_value());
  for (const Event& e : exported) BATPAK_ASSERT_OK((*b)->import_event(e));
  BATPAK_ASSERT_OK_AND_ASSIGN(imported, (*b)->query(Region::all()));
  ASSERT_EQ(imported.size(), exported.size());
  for (size_t i = 0; i < imported.size(); ++i) expect_same_event(imported[i], exported[i]);
  BATPAK_ASSERT_OK_AND_ASSIGN(record, decode_denial(imported[1]));
  EXPECT_EQ(record.trace.at(0).code, "over_limit");
  BATPAK_ASSERT_OK_AND_ASSIGN(audit, decode_bypass(imported[3]));
  EXPECT_EQ(audit.reason, "incident-7");
  EXPECT_EQ(imported[3].header.causation_id, imported[2].header.event_id);
  BATPAK_ASSERT_OK_AND_ASSIGN(report, (*b)->verify());
  EXPECT_TRUE(report.ok());
}

TEST_F(ImportTest, ReservedEventsTheLibraryWouldNotWriteAreRefused) {
  const std::vector<Event> exported = export_of_a_store_with_gate_records(tmp_.sub("a"));
  ASSERT_EQ(exported.size(), 4u);
  Event denial = exported[1];
  Event bypass = exported[3];
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto refused = [&](Event e, const char* why) {
    auto r = store->import_event(e);
    ASSERT_FALSE(r.has_value()) << why;
    EXPECT_EQ(r.error().code, ErrorCode::kReservedKind) << why;
  };
  Event e = denial;
  e.payload = json_to_payload(nlohmann::json::object());
  refused(e, "a DENIAL without a refusing step");
  DenialRecord permits = decode_denial(denial).value();
  for (DenialRecord::Step& step : permits.trace) step.verdict = "permit";
  e.payload = encode_payload(permits);
  refused(e, "a DENIAL whose steps all permit");
  e.payload = bytes("not msgpack");
  refused(e, "a DENIAL whose payload is not a record");
  e = bypass;
  e.header.causation_id = EventId{};
  refused(e, "a BYPASS without the event it audits");
  BypassAudit unexplained = decode_bypass(bypass).value();
  unexplained.justification.clear();
  e = bypass;
  e.payload = encode_payload(unexplained);
  refused(e, "a BYPASS without a justification");
  e = denial;
  e.header.kind = EventKind(0x0003);
  refused(e, "a category-0 kind the library does not write");
  EXPECT_EQ(store->stats().event_count, 0u) << "nothing was written";
}

}  // namespace
}  // namespace batpak::store_test
