// The write API: append, typed append, limits, idempotency, expected clocks, batches.
#include <map>

#include "store_fixtures.hpp"
#include "util/hash.hpp"

namespace batpak::store_test {
namespace {

struct OrderPlaced {
  static constexpr EventKind kKind{0x1001};
  std::string sku;
  int64_t quantity = 0;
  MSGPACK_DEFINE_MAP(sku, quantity)
};

struct OrderShipped {
  static constexpr EventKind kKind{0x1002};
  std::string carrier;
  MSGPACK_DEFINE_MAP(carrier)
};

using AppendTest = StoreTest;

TEST_F(AppendTest, AppendThenGetRoundTripsPayloadHeaderAndCoordinate) {
  auto clock = std::make_shared<ManualClock>(1'700'000'000'123'456);
  StoreOptions options;
  options.clock = clock;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  EventId cause;
  cause.bytes[0] = 0xCA;
  EventId correlation;
  correlation.bytes[0] = 0xC0;
  AppendOptions ao;
  ao.causation_id = cause;
  ao.correlation_id = correlation;
  ao.flags = 0x8001;
  ao.payload_version = 7;
  const std::vector<uint8_t> payload{0, 1, 2, 0xFF, 0x80, 0};
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("order:1", "shop"), kKindA, payload, ao));
  EXPECT_EQ(r.global_sequence, 1u);
  EXPECT_EQ(r.clock, 1u);
  EXPECT_FALSE(r.idempotent_replay);
  EXPECT_FALSE(r.signature.has_value());
  EXPECT_TRUE(r.prev_hash.is_zero());
  EXPECT_EQ(r.content_hash, util::blake3(payload));
  BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
  expect_receipt_matches(r, e);
  EXPECT_EQ(e.coordinate.entity(), "order:1");
  EXPECT_EQ(e.coordinate.scope(), "shop");
  EXPECT_EQ(e.payload, payload);
  EXPECT_EQ(e.header.causation_id, cause);
  EXPECT_EQ(e.header.correlation_id, correlation);
  EXPECT_EQ(e.header.flags, 0x8001);
  EXPECT_EQ(e.header.payload_version, 7);
  EXPECT_EQ(e.header.timestamp_us, 1'700'000'000'123'456);
  EXPECT_EQ(e.header.wall_ms, 1'700'000'000'123u);
  EXPECT_EQ(e.header.kind, kKindA);
}

TEST_F(AppendTest, RootEventCorrelatesWithItselfAndHasNoCause) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, {}));
  EXPECT_EQ(r.correlation_id, r.event_id);
  EXPECT_TRUE(r.causation_id.is_nil());
  BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
  EXPECT_TRUE(e.payload.empty());
  EXPECT_EQ(e.header.correlation_id, e.header.event_id);
}

TEST_F(AppendTest, SuccessiveAppendsChainPerEntityAndSequenceGlobally) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(a1, store->append(coord("a"), kKindA, bytes("1")));
  BATPAK_ASSERT_OK_AND_ASSIGN(b1, store->append(coord("b"), kKindA, bytes("2")));
  BATPAK_ASSERT_OK_AND_ASSIGN(a2, store->append(coord("a"), kKindA, bytes("3")));
  EXPECT_EQ(a1.global_sequence, 1u);
  EXPECT_EQ(b1.global_sequence, 2u);
  EXPECT_EQ(a2.global_sequence, 3u);
  EXPECT_EQ(b1.clock, 1u);
  EXPECT_EQ(a2.clock, 2u);
  EXPECT_TRUE(b1.prev_hash.is_zero());
  EXPECT_EQ(a2.prev_hash, a1.event_hash);
  EXPECT_NE(a1.event_id, a2.event_id);
}

TEST_F(AppendTest, TypedAppendDecodesBackAndTheJsonLaneReadsTheSameBytes) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("order:9"), OrderPlaced{"sku-1", 3}));
  EXPECT_EQ(r.kind, OrderPlaced::kKind);
  BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
  BATPAK_ASSERT_OK_AND_ASSIGN(typed, decode_event<OrderPlaced>(e));
  EXPECT_EQ(typed.sku, "sku-1");
  EXPECT_EQ(typed.quantity, 3);
  BATPAK_ASSERT_OK_AND_ASSIGN(json, payload_to_json(e.payload));
  EXPECT_EQ(json, (nlohmann::json{{"sku", "sku-1"}, {"quantity", 3}})) << json.dump();
  // Decoding as another kind is refused.
  BATPAK_EXPECT_ERROR(decode_event<OrderShipped>(e), ErrorCode::kDecode);
}

TEST_F(AppendTest, JsonPayloadDecodesIntoTheTypedStruct) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  const auto payload = json_to_payload({{"carrier", "ups"}});
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("order:9"), OrderShipped::kKind, payload));
  BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(r.event_id));
  BATPAK_ASSERT_OK_AND_ASSIGN(typed, decode_event<OrderShipped>(e));
  EXPECT_EQ(typed.carrier, "ups");
}

TEST_F(AppendTest, ReservedKindIsRefusedAndNothingIsWritten) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(coord("a"), kKindA, bytes("x")));
  const StoreStats before = store->stats();
  for (uint16_t raw : {uint16_t{0x0000}, uint16_t{0x0001}, uint16_t{0x0FFF}, uint16_t{0xD000},
                       uint16_t{0xD123}, uint16_t{0xDFFF}}) {
    BATPAK_EXPECT_ERROR(store->append(coord("a"), EventKind(raw), bytes("y")), ErrorCode::kReservedKind);
  }
  std::vector<BatchItem> items{{coord("b"), kKindA, bytes("ok"), {}},
                               {coord("b"), EventKind(0xD001), bytes("bad"), {}}};
  BATPAK_EXPECT_ERROR(store->append_batch(items), ErrorCode::kReservedKind);
  const StoreStats after = store->stats();
  EXPECT_EQ(after.event_count, before.event_count);
  EXPECT_EQ(after.data_bytes, before.data_bytes);
  EXPECT_EQ(store->entity_generation("a"), 1u);
  EXPECT_EQ(store->entity_generation("b"), 0u);
}

TEST_F(AppendTest, PayloadOverTheLimitIsTooLargeAndAtTheLimitIsAccepted) {
  StoreOptions options;
  options.payload_bytes_max = 16;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  BATPAK_EXPECT_ERROR(store->append(coord("a"), kKindA, std::vector<uint8_t>(17, 1)), ErrorCode::kTooLarge);
  EXPECT_EQ(store->stats().event_count, 0u);
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("a"), kKindA, std::vector<uint8_t>(16, 1)));
  EXPECT_EQ(r.global_sequence, 1u);
  std::vector<BatchItem> items{{coord("b"), kKindA, std::vector<uint8_t>(17, 2), {}}};
  BATPAK_EXPECT_ERROR(store->append_batch(items), ErrorCode::kTooLarge);
  EXPECT_EQ(store->stats().event_count, 1u);
}

TEST_F(AppendTest, BatchOverTheEventOrByteLimitIsTooLargeAndWritesNothingAndAtTheLimitsCommits) {
  StoreOptions options;
  options.batch_events_max = 2;
  options.batch_bytes_max = 10;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  std::vector<BatchItem> three{{coord("a"), kKindA, bytes("1"), {}},
                               {coord("a"), kKindA, bytes("2"), {}},
                               {coord("a"), kKindA, bytes("3"), {}}};
  BATPAK_EXPECT_ERROR(store->append_batch(three), ErrorCode::kTooLarge);
  std::vector<BatchItem> heavy{{coord("a"), kKindA, bytes("123456"), {}},
                               {coord("a"), kKindA, bytes("12345"), {}}};
  BATPAK_EXPECT_ERROR(store->append_batch(heavy), ErrorCode::kTooLarge);
  EXPECT_EQ(store->stats().event_count, 0u);
  // Exactly at both limits is accepted.
  std::vector<BatchItem> full{{coord("a"), kKindA, bytes("12345"), {}},
                              {coord("a"), kKindA, bytes("12345"), {}}};
  BATPAK_ASSERT_OK_AND_ASSIGN(receipts, store->append_batch(full));
  EXPECT_EQ(receipts.size(), 2u);
  EXPECT_EQ(store->stats().event_count, 2u);
}

// The payload limit is checked per item before anything is sequenced: one oversized item,
// wherever it stands among valid ones, fails the whole batch and leaves no trace, neither in
// the running store nor in what a reopen finds on disk.
TEST_F(AppendTest, BatchWithOneItemOverThePayloadLimitIsTooLargeWholeAndWritesNothing) {
  StoreOptions options;
  options.payload_bytes_max = 64;
  {
    auto store = open(options);
    ASSERT_NE(store, nullptr);
    BATPAK_ASSERT_OK_AND_ASSIGN(existing, store->append(coord("a"), kKindA, bytes("a1")));
    const StoreStats before = store->stats();
    std::vector<BatchItem> items{{coord("a"), kKindA, std::vector<uint8_t>(64, 1), {}},
                                 {coord("b"), kKindA, bytes("b1"), {}},
                                 {coord("c"), kKindA, std::vector<uint8_t>(65, 3), {}},
                                 {coord("d"), kKindA, bytes("d1"), {}}};
    auto r = store->append_batch(items);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, ErrorCode::kTooLarge) << r.error().to_string();
    EXPECT_NE(r.error().message.find("batch item 2"), std::string::npos) << r.error().message;
    const StoreStats after = store->stats();
    EXPECT_EQ(after.event_count, before.event_count);
    EXPECT_EQ(after.last_global_sequence, before.last_global_sequence);
    EXPECT_EQ(after.entity_count, before.entity_count);
    EXPECT_EQ(after.data_bytes, before.data_bytes);
    EXPECT_EQ(store->entity_generation("a"), 1u);
    for (const char* entity : {"b", "c", "d"}) EXPECT_EQ(store->entity_generation(entity), 0u) << entity;
    // The next commit follows the earlier one directly: no sequence or clock was used up.
    BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("a"), kKindA, bytes("a2")));
    EXPECT_EQ(next.global_sequence, 2u);
    EXPECT_EQ(next.clock, 2u);
    EXPECT_EQ(next.prev_hash, existing.event_hash);
    BATPAK_ASSERT_OK(store->close());
  }
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->open_report().events_recovered, 2u);
  BATPAK_ASSERT_OK_AND_ASSIGN(all, store->query(Region::all()));
  ASSERT_EQ(all.size(), 2u);
  for (const Event& e : all) EXPECT_EQ(e.coordinate.entity(), "a");
  for (const char* entity : {"b", "c", "d"}) EXPECT_EQ(store->entity_generation(entity), 0u) << entity;
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
}

TEST_F(AppendTest, IdempotencyKeyOfMalformedLengthIsInvalidArgument) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  AppendOptions empty;
  empty.idempotency_key = "";
  BATPAK_EXPECT_ERROR(store->append(coord("a"), kKindA, bytes("x"), empty), ErrorCode::kInvalidArgument);
  AppendOptions long_key;
  long_key.idempotency_key = std::string(kIdempotencyKeyBytesMax + 1, 'k');
  BATPAK_EXPECT_ERROR(store->append(coord("a"), kKindA, bytes("x"), long_key), ErrorCode::kInvalidArgument);
  AppendOptions max_key;
  max_key.idempotency_key = std::string(kIdempotencyKeyBytesMax, 'k');
  EXPECT_TRUE(store->append(coord("a"), kKindA, bytes("x"), max_key).has_value());
  EXPECT_EQ(store->stats().event_count, 1u);
}

TEST_F(AppendTest, DuplicateIdempotencyKeyReturnsTheOriginalReceiptAndWritesNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  AppendOptions keyed;
  keyed.idempotency_key = "order-42-placed";
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append(coord("order:42"), kKindA, bytes("v1"), keyed));
  EXPECT_FALSE(first.idempotent_replay);
  ASSERT_TRUE(store->append(coord("order:42"), kKindA, bytes("other")));
  const StoreStats before = store->stats();
  // The duplicate differs in payload and even coordinate: the key alone decides.
  BATPAK_ASSERT_OK_AND_ASSIGN(again, store->append(coord("order:43"), kKindB, bytes("v2"), keyed));
  EXPECT_TRUE(again.idempotent_replay);
  EXPECT_EQ(again.event_id, first.event_id);
  EXPECT_EQ(again.global_sequence, first.global_sequence);
  EXPECT_EQ(again.event_hash, first.event_hash);
  EXPECT_EQ(again.entity, "order:42");
  EXPECT_EQ(again.clock, first.clock);
  EXPECT_EQ(again.wall_ms, first.wall_ms);
  EXPECT_EQ(store->stats().event_count, before.event_count);
  EXPECT_EQ(store->stats().data_bytes, before.data_bytes);
  EXPECT_EQ(store->entity_generation("order:43"), 0u);
  BATPAK_ASSERT_OK(store->close());

  auto reopened = open();
  ASSERT_NE(reopened, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(after_reopen, reopened->append(coord("order:42"), kKindA, bytes("v3"), keyed));
  EXPECT_TRUE(after_reopen.idempotent_replay);
  EXPECT_EQ(after_reopen.event_id, first.event_id);
  EXPECT_EQ(after_reopen.global_sequence, first.global_sequence);
  EXPECT_EQ(after_reopen.event_hash, first.event_hash);
  EXPECT_EQ(reopened->stats().event_count, 2u);
  BATPAK_ASSERT_OK_AND_ASSIGN(e, reopened->get(first.event_id));
  EXPECT_EQ(e.payload, bytes("v1"));
}

TEST_F(AppendTest, ReceiptForKeyIsTheReplayReceiptAndAppendsNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  AppendOptions keyed;
  keyed.idempotency_key = "order-7-placed";
  BATPAK_ASSERT_OK_AND_ASSIGN(none_yet, store->receipt_for_key("order-7-placed"));
  EXPECT_FALSE(none_yet.has_value());
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append(coord("order:7"), kKindA, bytes("v1"), keyed));
  ASSERT_TRUE(store->append(coord("order:7"), kKindA, bytes("later")));
  const StoreStats before = store->stats();
  BATPAK_ASSERT_OK_AND_ASSIGN(found, store->receipt_for_key("order-7-placed"));
  ASSERT_TRUE(found.has_value());
  BATPAK_ASSERT_OK_AND_ASSIGN(replay, store->append(coord("order:7"), kKindA, bytes("v1"), keyed));
  for (const Receipt* r : {&*found, &replay}) {
    EXPECT_TRUE(r->idempotent_replay);
    EXPECT_EQ(r->event_id, first.event_id);
    EXPECT_EQ(r->global_sequence, first.global_sequence);
    EXPECT_EQ(r->event_hash, first.event_hash);
    EXPECT_EQ(r->clock, first.clock);
  }
  EXPECT_EQ(store->stats().event_count, before.event_count);
  BATPAK_ASSERT_OK(store->verify_receipt(*found));
  BATPAK_ASSERT_OK_AND_ASSIGN(other, store->receipt_for_key("order-8-placed"));
  EXPECT_FALSE(other.has_value());
  for (const std::string& bad : {std::string(), std::string(kIdempotencyKeyBytesMax + 1, 'k')}) {
    auto refused = store->receipt_for_key(bad);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  }
  // A key used only inside a cancelled fence names no visible event.
  BATPAK_ASSERT_OK_AND_ASSIGN(fence, store->begin_fence());
  AppendOptions fenced;
  fenced.idempotency_key = "order-9-placed";
  ASSERT_TRUE(fence.append(coord("order:9"), kKindA, bytes("v1"), fenced));
  BATPAK_ASSERT_OK(fence.cancel());
  BATPAK_ASSERT_OK_AND_ASSIGN(cancelled, store->receipt_for_key("order-9-placed"));
  EXPECT_FALSE(cancelled.has_value());
  BATPAK_ASSERT_OK(store->close());
  auto reopened = open();
  ASSERT_NE(reopened, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(after_reopen, reopened->receipt_for_key("order-7-placed"));
  ASSERT_TRUE(after_reopen.has_value());
  EXPECT_EQ(after_reopen->event_id, first.event_id);
}

TEST_F(AppendTest, RetriedKeyedAppendReplaysEvenWhenItsExpectedClockIsNowStale) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  AppendOptions o;
  o.idempotency_key = "transfer-9";
  o.expected_clock = 0;
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append(coord("acct:9"), kKindA, bytes("x"), o));
  // The retry carries the same expected clock, which the first attempt itself moved past.
  BATPAK_ASSERT_OK_AND_ASSIGN(retry, store->append(coord("acct:9"), kKindA, bytes("x"), o));
  EXPECT_TRUE(retry.idempotent_replay);
  EXPECT_EQ(retry.event_id, first.event_id);
  EXPECT_EQ(store->stats().event_count, 1u);
}

TEST_F(AppendTest, DifferentIdempotencyKeysGiveDifferentEvents) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  AppendOptions k1;
  k1.idempotency_key = "k1";
  AppendOptions k2;
  k2.idempotency_key = "k2";
  BATPAK_ASSERT_OK_AND_ASSIGN(r1, store->append(coord("a"), kKindA, bytes("x"), k1));
  BATPAK_ASSERT_OK_AND_ASSIGN(r2, store->append(coord("a"), kKindA, bytes("x"), k2));
  EXPECT_NE(r1.event_id, r2.event_id);
  EXPECT_FALSE(r2.idempotent_replay);
  EXPECT_EQ(store->stats().event_count, 2u);
}

std::vector<BatchItem> keyed_batch(std::initializer_list<const char*> keys) {
  std::vector<BatchItem> items;
  int i = 0;
  for (const char* key : keys) {
    AppendOptions o;
    o.idempotency_key = key;
    items.push_back({coord("e:" + std::to_string(i++)), kKindA, bytes(key), o});
  }
  return items;
}

TEST_F(AppendTest, BatchWhoseKeysWereAllCommittedReplaysTheOriginalReceipts) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(first, store->append_batch(keyed_batch({"k1", "k2", "k3"})));
  ASSERT_EQ(first.size(), 3u);
  BATPAK_ASSERT_OK_AND_ASSIGN(again, store->append_batch(keyed_batch({"k1", "k2", "k3"})));
  ASSERT_EQ(again.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(again[i].idempotent_replay);
    EXPECT_EQ(again[i].event_id, first[i].event_id);
    EXPECT_EQ(again[i].global_sequence, first[i].global_sequence);
  }
  EXPECT_EQ(store->stats().event_count, 3u);
  BATPAK_ASSERT_OK(store->close());
  auto reopened = open();
  ASSERT_NE(reopened, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(after, reopened->append_batch(keyed_batch({"k1", "k2", "k3"})));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(after[i].idempotent_replay);
    EXPECT_EQ(after[i].event_hash, first[i].event_hash);
  }
  EXPECT_EQ(reopened->stats().event_count, 3u);
}

TEST_F(AppendTest, BatchWithSomeButNotAllKeysCommittedIsConflictAndWritesNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append_batch(keyed_batch({"k1", "k2"})));
  BATPAK_EXPECT_ERROR(store->append_batch(keyed_batch({"k1", "k2", "k3"})), ErrorCode::kConflict);
  BATPAK_EXPECT_ERROR(store->append_batch(keyed_batch({"new", "k2"})), ErrorCode::kConflict);
  EXPECT_EQ(store->stats().event_count, 2u);
  // A batch mixing a committed key with an unkeyed item is also partial.
  auto mixed = keyed_batch({"k1"});
  mixed.push_back({coord("z"), kKindA, bytes("unkeyed"), {}});
  BATPAK_EXPECT_ERROR(store->append_batch(mixed), ErrorCode::kConflict);
  EXPECT_EQ(store->stats().event_count, 2u);
  EXPECT_EQ(store->entity_generation("z"), 0u);
}

TEST_F(AppendTest, SameKeyTwiceInOneBatchIsInvalidArgument) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_EXPECT_ERROR(store->append_batch(keyed_batch({"dup", "dup"})), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store->stats().event_count, 0u);
}

TEST_F(AppendTest, ExpectedClockZeroOnANewEntityPassesAndTheCurrentClockPasses) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  AppendOptions o;
  o.expected_clock = 0;
  BATPAK_ASSERT_OK_AND_ASSIGN(r1, store->append(coord("acct:1"), kKindA, bytes("open"), o));
  EXPECT_EQ(r1.clock, 1u);
  o.expected_clock = 1;
  BATPAK_ASSERT_OK_AND_ASSIGN(r2, store->append(coord("acct:1"), kKindA, bytes("deposit"), o));
  EXPECT_EQ(r2.clock, 2u);
}

TEST_F(AppendTest, WrongExpectedClockIsConflictNamingTheEntityAndWritesNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(coord("acct:1"), kKindA, bytes("open")));
  const StoreStats before = store->stats();
  for (uint32_t wrong : {0u, 2u, 100u}) {
    AppendOptions o;
    o.expected_clock = wrong;
    auto r = store->append(coord("acct:1"), kKindA, bytes("stale"), o);
    ASSERT_FALSE(r.has_value()) << wrong;
    EXPECT_EQ(r.error().code, ErrorCode::kConflict);
    EXPECT_EQ(r.error().entity, "acct:1");
  }
  AppendOptions on_new;
  on_new.expected_clock = 1;
  auto r = store->append(coord("acct:2"), kKindA, bytes("x"), on_new);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().entity, "acct:2");
  EXPECT_EQ(store->stats().event_count, before.event_count);
  EXPECT_EQ(store->stats().data_bytes, before.data_bytes);
  EXPECT_EQ(store->entity_generation("acct:1"), 1u);
  EXPECT_EQ(store->entity_generation("acct:2"), 0u);
  // The entity is still appendable at its real clock.
  AppendOptions right;
  right.expected_clock = 1;
  BATPAK_ASSERT_OK_AND_ASSIGN(ok, store->append(coord("acct:1"), kKindA, bytes("fresh"), right));
  EXPECT_EQ(ok.global_sequence, 2u);
}

TEST_F(AppendTest, BatchIsAtomicAcrossEntitiesWithConsecutiveClocksAndSequences) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(coord("a"), kKindA, bytes("a1")));
  auto item = [](const char* entity, const char* payload, std::optional<uint32_t> expected) {
    AppendOptions o;
    o.expected_clock = expected;
    return BatchItem{coord(entity), kKindA, bytes(payload), o};
  };
  // Each item's expected clock counts the batch's earlier items for the same entity.
  std::vector<BatchItem> items{item("a", "a2", 1), item("b", "b1", 0), item("a", "a3", 2),
                               item("b", "b2", std::nullopt), item("c", "c1", 0)};
  BATPAK_ASSERT_OK_AND_ASSIGN(rs, store->append_batch(items));
  ASSERT_EQ(rs.size(), 5u);
  for (size_t i = 0; i < rs.size(); ++i) EXPECT_EQ(rs[i].global_sequence, 2 + i);
  EXPECT_EQ(rs[0].clock, 2u);
  EXPECT_EQ(rs[1].clock, 1u);
  EXPECT_EQ(rs[2].clock, 3u);
  EXPECT_EQ(rs[3].clock, 2u);
  EXPECT_EQ(rs[4].clock, 1u);
  EXPECT_EQ(rs[2].prev_hash, rs[0].event_hash);
  EXPECT_EQ(rs[3].prev_hash, rs[1].event_hash);
  for (size_t i = 0; i < rs.size(); ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store->get(rs[i].event_id));
    expect_receipt_matches(rs[i], e);
    EXPECT_EQ(e.payload, items[i].payload);
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
}

TEST_F(AppendTest, BatchWithOneBadExpectedClockWritesNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->append(coord("a"), kKindA, bytes("a1")));
  const StoreStats before = store->stats();
  AppendOptions ok0;
  ok0.expected_clock = 0;
  AppendOptions stale;
  stale.expected_clock = 1;  // Should be 2: the batch's first item moved "a" to clock 2.
  std::vector<BatchItem> items{{coord("b"), kKindA, bytes("b1"), ok0},
                               {coord("a"), kKindA, bytes("a2"), {}},
                               {coord("a"), kKindA, bytes("a3"), stale}};
  auto r = store->append_batch(items);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kConflict);
  EXPECT_EQ(r.error().entity, "a");
  EXPECT_EQ(store->stats().event_count, before.event_count);
  EXPECT_EQ(store->stats().data_bytes, before.data_bytes);
  EXPECT_EQ(store->entity_generation("a"), 1u);
  EXPECT_EQ(store->entity_generation("b"), 0u);
  // Nothing of the failed batch leaks into the next commit's chain.
  BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("b"), kKindA, bytes("b1")));
  EXPECT_EQ(next.clock, 1u);
  EXPECT_TRUE(next.prev_hash.is_zero());
  EXPECT_EQ(next.global_sequence, 2u);
}

TEST_F(AppendTest, EmptyBatchCommitsNothing) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  BATPAK_ASSERT_OK_AND_ASSIGN(rs, store->append_batch({}));
  EXPECT_TRUE(rs.empty());
  EXPECT_EQ(store->stats().event_count, 0u);
  BATPAK_ASSERT_OK_AND_ASSIGN(fence, store->begin_fence());
  BATPAK_ASSERT_OK_AND_ASSIGN(during_fence, store->append_batch({}));
  EXPECT_TRUE(during_fence.empty()) << "nothing to keep out";
  BATPAK_ASSERT_OK(fence.commit());
  EXPECT_EQ(store->stats().last_global_sequence, 0u);
}

TEST_F(AppendTest, BatchSurvivesReopenWhole) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    std::vector<BatchItem> items;
    for (int i = 0; i < 50; ++i) items.push_back({coord("e:" + std::to_string(i % 5)), kKindA, bytes("p" + std::to_string(i)), {}});
    BATPAK_ASSERT_OK_AND_ASSIGN(rs, store->append_batch(items));
    EXPECT_EQ(rs.back().global_sequence, 50u);
  }
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->stats().event_count, 50u);
  EXPECT_EQ(store->entity_generation("e:3"), 10u);
}

// Every event of a batch links to its entity's previous event, whether that one is before
// the batch or earlier in it: a hot entity that appears every other event, entities that
// appear once or a few times, and an entity whose name makes the hash input longer than one
// BLAKE3 chunk.
TEST_F(AppendTest, BatchedEventHashesLinkEachEventToItsEntitysPreviousOne) {
  const std::string long_entity(1000, 'l');  // Its hash input is 1,145 bytes.
  std::map<std::string, Hash32> head;  // Entity -> event hash of its latest event.
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    for (const std::string& entity : {std::string("hot"), std::string("cold:3"), long_entity}) {
      BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord(entity), kKindA, bytes("before")));
      head[entity] = r.event_hash;
    }
    std::vector<BatchItem> items;
    for (int i = 0; i < 200; ++i) {
      const std::string entity = i % 2 == 0 ? "hot" : i % 7 == 1 ? long_entity : "cold:" + std::to_string(i % 40);
      items.push_back({coord(entity), kKindA, bytes("p" + std::to_string(i)), {}});
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(rs, store->append_batch(items));
    ASSERT_EQ(rs.size(), items.size());
    for (size_t i = 0; i < rs.size(); ++i) {
      const std::string& entity = items[i].coordinate.entity();
      const Hash32 expected_prev = head.count(entity) ? head[entity] : Hash32{};
      EXPECT_EQ(rs[i].prev_hash, expected_prev) << "event " << i << " of the batch";
      head[entity] = rs[i].event_hash;
    }
    BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());  // Recomputes every hash one at a time.
    EXPECT_TRUE(report.ok());
  }
  StoreOptions full_scan;
  full_scan.index_checkpoint = false;
  full_scan.segment_footers = false;
  auto store = open(full_scan);  // Checks every event hash and chain link again.
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->stats().event_count, 203u);
  BATPAK_ASSERT_OK_AND_ASSIGN(next, store->append(coord("hot"), kKindA, bytes("after")));
  EXPECT_EQ(next.prev_hash, head["hot"]);
}

}  // namespace
}  // namespace batpak::store_test
