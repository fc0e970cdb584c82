// Typed reactors (include/batpak/reactor.hpp): dispatch by kind, atomic reactions linked to
// their source, no duplicates after a redelivery.
#include <gtest/gtest.h>

#include <thread>

#include "batpak/batpak.hpp"
#include "support/fault_fs.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

struct OrderPlaced {
  static constexpr EventKind kKind{0x1001};
  std::string id;
  int64_t total = 0;
  MSGPACK_DEFINE_MAP(id, total)
};

struct OrderRefunded {
  static constexpr EventKind kKind{0x1003};
  std::string id;
  MSGPACK_DEFINE_MAP(id)
};

struct InvoiceRequested {
  static constexpr EventKind kKind{0x2001};
  std::string id;
  int64_t amount = 0;
  MSGPACK_DEFINE_MAP(id, amount)
};

class ReactorTest : public StoreFixture<> {
 protected:
  void SetUp() override { open(); }
  Receipt place(const std::string& id, int64_t total) {
    auto r = store_->append(Coordinate::make("order:" + id, "shop").value(), OrderPlaced{id, total});
    EXPECT_TRUE(r) << r.error().to_string();
    return *r;
  }
  static Reactor invoicer() {
    Reactor reactor;
    reactor.on<OrderPlaced>([](const OrderPlaced& o, const Event&, ReactionBatch& out) {
      return out.push(Coordinate::make("invoice:" + o.id, "billing").value(), InvoiceRequested{o.id, o.total});
    });
    reactor.on<OrderRefunded>([](const OrderRefunded& r, const Event&, ReactionBatch& out) {
      return out.push(Coordinate::make("invoice:" + r.id, "billing").value(), InvoiceRequested{r.id, 0});
    });
    return reactor;
  }
  static CursorWorkerConfig config() {
    CursorWorkerConfig c;
    c.batch_size = 16;
    c.checkpoint_id = "invoicer";
    return c;
  }
  // Runs the reactor until it has committed everything up to `position`, then stops it.
  Status run_until(const Reactor& reactor, uint64_t position) {
    auto worker = reactor.start(*store_, Region::entity("order"), config());
    while (worker->running() && worker->committed_position() < position) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    worker->request_stop();
    return worker->join();
  }
  std::vector<Event> invoices() { return store_->query(Region::entity("invoice")).value(); }
  // Reopens over a FaultFs, places orders a and b, and runs the invoicer until its first
  // checkpoint fails: their two reactions are committed, the checkpoint is not.
  void react_to_two_orders_then_fail_the_checkpoint() {
    auto fault = std::make_shared<FaultFs>();
    StoreOptions options;
    options.fs = fault;
    open(options);
    place("a", 1);
    place("b", 2);
    fault->fail_nth_sync(2);  // 1: the reactions' fdatasync; 2: the checkpoint's fsync.
    auto first = invoicer().start(*store_, Region::entity("order"), config());
    auto outcome = first->join();
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, ErrorCode::kIo);
    ASSERT_EQ(invoices().size(), 2u) << "the reactions were committed before the checkpoint failed";
    EXPECT_EQ(first->committed_position(), 0u);
  }

};

TEST_F(ReactorTest, ReactsByKindAndLinksEachReactionToItsSource) {
  const Receipt a = place("a", 10);
  ASSERT_TRUE(store_->append(Coordinate::make("order:a", "shop").value(), EventKind(0x1005), {}));  // No handler.
  ASSERT_TRUE(store_->append(Coordinate::make("order:a", "shop").value(), OrderRefunded{"a"}));
  const Receipt b = place("b", 20);
  ASSERT_TRUE(run_until(invoicer(), 4));
  const std::vector<Event> got = invoices();
  ASSERT_EQ(got.size(), 3u) << "two orders and a refund; the kind without a handler is skipped";
  EXPECT_EQ(got[0].header.causation_id, a.event_id);
  EXPECT_EQ(got[0].header.correlation_id, a.event_id) << "a root event's correlation is its own id";
  EXPECT_EQ(got[2].header.causation_id, b.event_id);
  auto invoice = decode_event<InvoiceRequested>(got[2]);
  ASSERT_TRUE(invoice);
  EXPECT_EQ(invoice->id, "b");
  EXPECT_EQ(invoice->amount, 20);
  EXPECT_EQ(got[0].header.global_sequence + 1, got[1].header.global_sequence) << "one atomic batch";
}

// A source whose payload was shredded gets no reaction, and the cursor moves past it.
TEST_F(ReactorTest, AShreddedSourceGetsNoReactionAndDoesNotStopTheReactor) {
  StoreOptions options;
  options.encrypt_payloads = true;
  open(options);
  place("a", 1);
  place("b", 2);
  ASSERT_TRUE(store_->shred_entity("order:a"));
  ASSERT_TRUE(run_until(invoicer(), 2));
  const std::vector<Event> got = invoices();
  ASSERT_EQ(got.size(), 1u);
  auto invoice = decode_event<InvoiceRequested>(got[0]);
  ASSERT_TRUE(invoice);
  EXPECT_EQ(invoice->id, "b");
}

TEST_F(ReactorTest, UndecodablePayloadStopsWithDecodeAndCommitsNothing) {
  place("a", 1);
  const std::vector<uint8_t> not_an_order = {0xc1};  // A MessagePack byte that is never valid.
  ASSERT_TRUE(store_->append(Coordinate::make("order:x", "shop").value(), OrderPlaced::kKind, not_an_order));
  auto worker = invoicer().start(*store_, Region::entity("order"), config());
  auto outcome = worker->join();
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().code, ErrorCode::kDecode) << outcome.error().to_string();
  EXPECT_TRUE(invoices().empty()) << "the batch's reactions are not appended";
  EXPECT_EQ(worker->committed_position(), 0u);
}

// Invariant: a handler's error, or a reaction the store refuses, stops the reactor with that
// error; nothing of the batch is committed and the checkpoint does not move.
TEST_F(ReactorTest, AFailingHandlerOrARefusedReactionCommitsNothing) {
  place("a", 1);
  place("b", 2);
  Reactor failing;
  failing.on<OrderPlaced>([](const OrderPlaced& o, const Event&, ReactionBatch& out) -> Status {
    if (o.id == "b") return make_error(ErrorCode::kConflict, "no invoice for b");
    return out.push(Coordinate::make("invoice:" + o.id, "billing").value(), InvoiceRequested{o.id, o.total});
  });
  Reactor refused;
  refused.on<OrderPlaced>([](const OrderPlaced&, const Event&, ReactionBatch& out) -> Status {
    out.push_raw(Coordinate::make("invoice:x", "billing").value(), EventKind(0x0042), {});  // Reserved category 0.
    return {};
  });
  for (auto [reactor, code] : {std::pair{&failing, ErrorCode::kConflict}, std::pair{&refused, ErrorCode::kReservedKind}}) {
    auto worker = reactor->start(*store_, Region::entity("order"), config());
    auto outcome = worker->join();
    ASSERT_FALSE(outcome);
    EXPECT_EQ(outcome.error().code, code) << outcome.error().to_string();
    EXPECT_TRUE(invoices().empty()) << "a's reaction is not committed either";
    EXPECT_EQ(worker->committed_position(), 0u);
  }
  EXPECT_EQ(store_->stats().event_count, 2u);
}

// Invariant: a crash after the reactions commit but before the checkpoint does redeliver the
// batch, and the derived idempotency keys keep the reactions from being appended twice.
TEST_F(ReactorTest, RedeliveryAfterAFailedCheckpointDoesNotDuplicateReactions) {
  ASSERT_NO_FATAL_FAILURE(react_to_two_orders_then_fail_the_checkpoint());
  ASSERT_TRUE(run_until(invoicer(), 2)) << "the batch is delivered again";
  EXPECT_EQ(invoices().size(), 2u) << "and its reactions replay instead of repeating";
}

// Invariant: a redelivery that holds more sources than the batch whose reactions were
// committed (events arrived while the reactor was down) commits the missing reactions, once,
// instead of being refused for a batch with some keys committed and some not.
TEST_F(ReactorTest, RedeliveryOfALargerBatchCommitsOnlyTheMissingReactions) {
  ASSERT_NO_FATAL_FAILURE(react_to_two_orders_then_fail_the_checkpoint());
  const Receipt c = place("c", 3);
  ASSERT_TRUE(run_until(invoicer(), c.global_sequence)) << "the larger batch is delivered and reacted to";
  const std::vector<Event> after = invoices();
  ASSERT_EQ(after.size(), 3u) << "a's and b's reactions replay, c's is appended once";
  EXPECT_EQ(after.back().header.causation_id, c.event_id);
  ASSERT_TRUE(run_until(invoicer(), c.global_sequence));
  EXPECT_EQ(invoices().size(), 3u);
}

}  // namespace
}  // namespace batpak::testing
