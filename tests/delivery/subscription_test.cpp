// Lossy subscriptions (include/batpak/subscription.hpp) and the visibility fd.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include "batpak/batpak.hpp"
#include "support/durability_names.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
const EventKind kOtherKind(0x1002);

class SubscriptionTest : public StoreFixture<::testing::TestWithParam<Durability>> {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.durability = GetParam();
    open(options);
  }
  void append(const std::string& entity, EventKind kind = kKind) {
    auto r = store_->append(Coordinate::make(entity, "s").value(), kind, {});
    ASSERT_TRUE(r) << r.error().to_string();
  }
  // The sequences of the next `n` notifications (each must arrive within 10 s).
  std::vector<uint64_t> receive(Subscription& sub, size_t n) {
    std::vector<uint64_t> out;
    for (size_t i = 0; i < n; ++i) {
      auto note = sub.recv(10000);
      EXPECT_TRUE(note) << note.error().to_string();
      if (!note) break;
      out.push_back(note->global_sequence);
    }
    return out;
  }

};

TEST_P(SubscriptionTest, NotifiesMatchingEventsInCommitOrderOnceTheyAreReadable) {
  append("order:0");  // Visible before subscribe: not notified.
  ASSERT_TRUE(store_->wait_for_visible(0, 10000));
  auto sub = store_->subscribe(Region::entity("order"));
  append("order:1");
  append("user:1");
  append("order:2");
  auto first = sub->recv(10000);
  ASSERT_TRUE(first) << first.error().to_string();
  EXPECT_EQ(first->global_sequence, 2u);
  EXPECT_EQ(first->entity, "order:1");
  EXPECT_EQ(first->scope, "s");
  EXPECT_EQ(first->kind, kKind);
  EXPECT_EQ(first->clock, 1u);
  EXPECT_TRUE(store_->get(first->event_id)) << "a notified event is always readable";
  EXPECT_EQ(receive(*sub, 1), (std::vector<uint64_t>{4}));
  EXPECT_EQ(sub->last_global_sequence(), 4u);
  auto none = sub->try_recv();
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
}

TEST_P(SubscriptionTest, LaggingSubscriberIsPrunedAndLearnsItAfterDrainingWithoutSlowingOthers) {
  auto slow = store_->subscribe(Region::all(), 2);
  auto roomy = store_->subscribe(Region::all(), 100);
  for (int i = 0; i < 5; ++i) append("e");
  EXPECT_EQ(receive(*roomy, 5), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(slow->pruned());
  EXPECT_EQ(receive(*slow, 2), (std::vector<uint64_t>{1, 2})) << "queued notifications are kept";
  auto pruned = slow->recv(10);
  ASSERT_FALSE(pruned);
  EXPECT_EQ(pruned.error().code, ErrorCode::kPruned) << pruned.error().to_string();
  EXPECT_EQ(slow->last_global_sequence(), 2u) << "where a Cursor resumes";
  append("e");
  EXPECT_EQ(slow->recv(10).error().code, ErrorCode::kPruned) << "pruned for good";
  EXPECT_EQ(receive(*roomy, 1), (std::vector<uint64_t>{6}));
}

TEST_P(SubscriptionTest, TimesOutThenDrainsAndReportsClosedAfterTheStoreCloses) {
  auto sub = store_->subscribe(Region::all());
  EXPECT_EQ(sub->recv(10).error().code, ErrorCode::kTimeout);
  append("e");
  ASSERT_TRUE(store_->close());
  EXPECT_EQ(receive(*sub, 1), (std::vector<uint64_t>{1}));
  EXPECT_EQ(sub->recv(10).error().code, ErrorCode::kClosed);
  EXPECT_EQ(store_->subscribe(Region::all())->recv(10).error().code, ErrorCode::kClosed);
}

TEST_P(SubscriptionTest, DestroyedSubscriptionIsNoLongerFed) {
  auto kept = store_->subscribe(Region::all(), 1);
  store_->subscribe(Region::all(), 1).reset();
  append("e");
  EXPECT_EQ(receive(*kept, 1), (std::vector<uint64_t>{1}));
  append("e");  // Would touch the destroyed queue if it were still registered (ASan).
  EXPECT_EQ(receive(*kept, 1), (std::vector<uint64_t>{2}));
}

TEST_P(SubscriptionTest, StreamFiltersMapsAndTakes) {
  auto entities = stream(store_->subscribe(Region::all()))
                      .filter([](const Notification& n) { return n.kind == kOtherKind; })
                      .map([](const Notification& n) { return n.entity; })
                      .take(2);
  append("a", kKind);
  append("b", kOtherKind);
  append("c", kKind);
  append("d", kOtherKind);
  append("e", kOtherKind);
  auto b = entities.recv(10000);
  ASSERT_TRUE(b) << b.error().to_string();
  EXPECT_EQ(*b, "b");
  EXPECT_EQ(entities.recv(10000).value(), "d");
  EXPECT_EQ(entities.recv(10000).error().code, ErrorCode::kClosed) << "take(2) ends the stream";
  // Under kAsync "e" may still be on its way; the next subscription must not see it.
  ASSERT_TRUE(store_->wait_for_visible(4, 10000));

  auto clocks = stream(store_->subscribe(Region::all())).map([](const Notification& n) -> std::optional<uint32_t> {
    if (n.entity == "skip") return std::nullopt;
    return n.clock;
  });
  append("skip");
  append("a");
  EXPECT_EQ(clocks.recv(10000).value(), 2u) << "nullopt from map skips";
  EXPECT_EQ(clocks.recv(10).error().code, ErrorCode::kTimeout);
}

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

TEST_P(SubscriptionTest, VisibilityFdIsReadableAfterAppendsAndOnClose) {
  auto fd = store_->visibility_fd();
  ASSERT_TRUE(fd) << fd.error().to_string();
  EXPECT_EQ(*store_->visibility_fd(), *fd) << "one fd per store";
  EXPECT_FALSE(readable(*fd));
  append("e");
  ASSERT_TRUE(store_->wait_for_visible(0, 10000));
  EXPECT_TRUE(readable(*fd));
  uint64_t count = 0;
  ASSERT_EQ(::read(*fd, &count, sizeof count), static_cast<ssize_t>(sizeof count));
  EXPECT_GE(count, 1u);
  EXPECT_FALSE(readable(*fd)) << "reading resets it";
  ASSERT_TRUE(store_->close());
  EXPECT_TRUE(readable(*fd)) << "close wakes event loops too";
}

INSTANTIATE_TEST_SUITE_P(Durabilities, SubscriptionTest,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         durability_name);

}  // namespace
}  // namespace batpak::testing
