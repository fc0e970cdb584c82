// Payload schema versions (batpak/codec.hpp, docs/payloads.md). Invariants proved here: a
// typed append records its type's version; an older event decodes as the current type
// through the chain of Previous types (the stored bytes never change); a newer version, or
// one no Previous reaches, is refused with kUnsupported; a contradicting payload_version
// writes nothing; reactors and fences follow the same rules.
#include "store/store_fixtures.hpp"

namespace batpak::store_test {
namespace {

constexpr EventKind kCartKind{0x1101};

struct CartAddedV0 {  // The first shape, written before versions were declared.
  static constexpr EventKind kKind = kCartKind;
  std::string sku;
  MSGPACK_DEFINE_MAP(sku)
};

struct CartAddedV1 {
  static constexpr EventKind kKind = kCartKind;
  static constexpr uint16_t kPayloadVersion = 1;
  using Previous = CartAddedV0;
  static CartAddedV1 upcast(CartAddedV0 old) { return {old.sku, 1}; }
  std::string sku;
  int64_t quantity = 0;
  MSGPACK_DEFINE_MAP(sku, quantity)
};

struct CartAdded {  // The current shape: version 3 (2 was never released).
  static constexpr EventKind kKind = kCartKind;
  static constexpr uint16_t kPayloadVersion = 3;
  using Previous = CartAddedV1;
  static CartAdded upcast(CartAddedV1 old) { return {old.sku, old.quantity, "EUR"}; }
  std::string sku;
  int64_t quantity = 0;
  std::string currency;
  MSGPACK_DEFINE_MAP(sku, quantity, currency)
};

struct CartAddedWithoutChain {  // Version 3 with no Previous: reads only 3 and 0.
  static constexpr EventKind kKind = kCartKind;
  static constexpr uint16_t kPayloadVersion = 3;
  std::string sku;
  int64_t quantity = 0;
  std::string currency;
  MSGPACK_DEFINE_MAP(sku, quantity, currency)
};

struct CartCounted {  // A reaction type.
  static constexpr EventKind kKind{0x1102};
  static constexpr uint16_t kPayloadVersion = 2;
  int64_t quantity = 0;
  MSGPACK_DEFINE_MAP(quantity)
};

class PayloadVersionTest : public StoreTest {
 protected:
  void SetUp() override { store_ = open(); }
  template <class T>
  Event append_and_read(const T& value) {
    auto r = store_->append(coord("cart:1"), value);
    EXPECT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->payload_version, payload_version_of<T>());
    auto e = store_->get(r->event_id);
    EXPECT_TRUE(e) << e.error().to_string();
    return *e;
  }
  std::unique_ptr<Store> store_;
};

TEST_F(PayloadVersionTest, TypedAppendsRecordTheirTypesVersion) {
  EXPECT_EQ(append_and_read(CartAddedV0{"a"}).header.payload_version, 0);
  EXPECT_EQ(append_and_read(CartAddedV1{"a", 2}).header.payload_version, 1);
  EXPECT_EQ(append_and_read(CartAdded{"a", 2, "USD"}).header.payload_version, 3);
}

TEST_F(PayloadVersionTest, OlderEventsAreUpcastThroughTheChainAndTheirBytesStay) {
  const Event v0 = append_and_read(CartAddedV0{"tea"});
  const Event v1 = append_and_read(CartAddedV1{"jam", 4});
  const Event v3 = append_and_read(CartAdded{"oat", 5, "USD"});
  BATPAK_ASSERT_OK_AND_ASSIGN(from_v0, decode_event<CartAdded>(v0));
  EXPECT_EQ(from_v0.sku, "tea");
  EXPECT_EQ(from_v0.quantity, 1);
  EXPECT_EQ(from_v0.currency, "EUR");
  BATPAK_ASSERT_OK_AND_ASSIGN(from_v1, decode_event<CartAdded>(v1));
  EXPECT_EQ(from_v1.quantity, 4);
  EXPECT_EQ(from_v1.currency, "EUR");
  BATPAK_ASSERT_OK_AND_ASSIGN(same, decode_event<CartAdded>(v3));
  EXPECT_EQ(same.currency, "USD");
  BATPAK_ASSERT_OK_AND_ASSIGN(middle, decode_event<CartAddedV1>(v0));
  EXPECT_EQ(middle.quantity, 1);
  // Reading never rewrites: the stored payload is still the version 0 encoding.
  BATPAK_ASSERT_OK_AND_ASSIGN(again, store_->get(v0.header.event_id));
  EXPECT_EQ(again.payload, encode_payload(CartAddedV0{"tea"}));
}

TEST_F(PayloadVersionTest, ANewerVersionOrOneNoPreviousReachesIsUnsupported) {
  const Event v3 = append_and_read(CartAdded{"oat", 5, "USD"});
  BATPAK_EXPECT_ERROR(decode_event<CartAddedV1>(v3), ErrorCode::kUnsupported);
  BATPAK_EXPECT_ERROR(decode_event<CartAddedV0>(v3), ErrorCode::kUnsupported);
  const Event v1 = append_and_read(CartAddedV1{"jam", 4});
  BATPAK_EXPECT_ERROR(decode_event<CartAddedWithoutChain>(v1), ErrorCode::kUnsupported);
  // Version 0 is read as the oldest type of a chain; without a chain, as the type itself.
  const Event v0 = append_and_read(CartAddedV0{"tea"});
  BATPAK_ASSERT_OK_AND_ASSIGN(direct, decode_event<CartAddedWithoutChain>(v0));
  EXPECT_EQ(direct.sku, "tea");
  EXPECT_EQ(direct.quantity, 0);
}

TEST_F(PayloadVersionTest, AContradictingPayloadVersionIsRefusedAndNothingIsWritten) {
  AppendOptions options;
  options.payload_version = 2;
  BATPAK_EXPECT_ERROR(store_->append(coord("cart:1"), CartAdded{"a", 1, "EUR"}, options), ErrorCode::kInvalidArgument);
  EXPECT_EQ(store_->stats().last_global_sequence, 0u);
  options.payload_version = 3;  // Saying the type's own version is fine.
  BATPAK_ASSERT_OK_AND_ASSIGN(r, store_->append(coord("cart:1"), CartAdded{"a", 1, "EUR"}, options));
  EXPECT_EQ(r.payload_version, 3);
}

TEST_F(PayloadVersionTest, FenceAppendsRecordTheVersionToo) {
  BATPAK_ASSERT_OK_AND_ASSIGN(fence, store_->begin_fence());
  BATPAK_ASSERT_OK_AND_ASSIGN(r, fence.append(coord("cart:1"), CartAdded{"a", 1, "EUR"}));
  EXPECT_EQ(r.payload_version, 3);
  AppendOptions options;
  options.payload_version = 1;
  BATPAK_EXPECT_ERROR(fence.append(coord("cart:1"), CartAdded{"a", 1, "EUR"}, options), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(fence.commit());
  BATPAK_ASSERT_OK_AND_ASSIGN(e, store_->get(r.event_id));
  EXPECT_EQ(e.header.payload_version, 3);
}

TEST_F(PayloadVersionTest, ReactorsSeeUpcastValuesAndStampTheirReactions) {
  const std::vector<Event> sources{append_and_read(CartAddedV0{"tea"}), append_and_read(CartAddedV1{"jam", 4})};
  Reactor reactor;
  reactor.on<CartAdded>([](const CartAdded& added, const Event&, ReactionBatch& out) {
    return out.push(coord("count:1"), CartCounted{added.quantity});
  });
  ASSERT_TRUE(reactor.react(*store_, sources));
  BATPAK_ASSERT_OK_AND_ASSIGN(counted, store_->query(Region::entity("count:1")));
  ASSERT_EQ(counted.size(), 2u);
  for (const Event& e : counted) EXPECT_EQ(e.header.payload_version, 2);
  BATPAK_ASSERT_OK_AND_ASSIGN(first, decode_event<CartCounted>(counted[0]));
  BATPAK_ASSERT_OK_AND_ASSIGN(second, decode_event<CartCounted>(counted[1]));
  EXPECT_EQ(first.quantity, 1) << "the version 0 source reached the handler upcast";
  EXPECT_EQ(second.quantity, 4);

  // A source newer than the handler's type stops the reactor; nothing is appended.
  Reactor old_reactor;
  old_reactor.on<CartAddedV1>([](const CartAddedV1& added, const Event&, ReactionBatch& out) {
    return out.push(coord("count:2"), CartCounted{added.quantity});
  });
  const std::vector<Event> newer{append_and_read(CartAdded{"oat", 5, "USD"})};
  BATPAK_EXPECT_ERROR(old_reactor.react(*store_, newer), ErrorCode::kUnsupported);
  BATPAK_ASSERT_OK_AND_ASSIGN(none, store_->query(Region::entity("count:2")));
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace batpak::store_test
