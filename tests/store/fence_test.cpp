// Visibility fences (batpak/fence.hpp): invisible until commit, hidden for good after
// cancel (also across reopen and after a crash), and the errors for everything else.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "batpak/batpak.hpp"
#include "support/durability_names.hpp"
#include "support/store_fixture.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);

Coordinate at(const std::string& entity) { return Coordinate::make(entity, "s").value(); }

std::vector<uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

class FenceTest : public DurabilityStoreFixture {
 protected:
  std::vector<uint64_t> visible_sequences() {
    auto all = store_->query(Region::all());
    EXPECT_TRUE(all);
    std::vector<uint64_t> out;
    for (const Event& e : *all) out.push_back(e.header.global_sequence);
    return out;
  }
  void expect_verified() {
    auto report = store_->verify();
    ASSERT_TRUE(report);
    EXPECT_TRUE(report->ok()) << report->damage->reason;
  }
};

TEST_P(FenceTest, FencedEventsAreInvisibleUntilCommitThenAllVisibleAtOnce) {
  ASSERT_TRUE(store_->append(at("order"), kKind, bytes_of("placed")));
  auto fence = store_->begin_fence();
  ASSERT_TRUE(fence) << fence.error().to_string();
  EXPECT_EQ(fence->first_global_sequence(), 2u);
  auto paid = fence->append(at("order"), kKind, bytes_of("paid"));
  ASSERT_TRUE(paid) << paid.error().to_string();
  std::vector<BatchItem> batch{{at("stock"), kKind, bytes_of("reserved"), {}}, {at("order"), kKind, bytes_of("packed"), {}}};
  auto batched = fence->append_batch(batch);
  ASSERT_TRUE(batched);
  EXPECT_EQ(paid->clock, 2u);
  EXPECT_EQ(batched->at(1).clock, 3u) << "fenced events chain like any event";

  EXPECT_EQ(store_->get(paid->event_id).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(visible_sequences(), (std::vector<uint64_t>{1}));
  EXPECT_EQ(store_->entity_generation("order"), 1u);
  EXPECT_EQ(store_->entity_generation("stock"), 0u);
  EXPECT_EQ(store_->frontier().visible.global_sequence, 1u);
  EXPECT_EQ(store_->frontier().accepted.global_sequence, 4u);
  EXPECT_TRUE(store_->wait_for(Watermark::kWritten, HlcPoint{0, 4}, 10000)) << "written, not visible";
  EXPECT_EQ(store_->frontier().visible.global_sequence, 1u);

  ASSERT_TRUE(fence->commit());
  EXPECT_FALSE(fence->open());
  EXPECT_EQ(visible_sequences(), (std::vector<uint64_t>{1, 2, 3, 4}));
  auto read = store_->get(paid->event_id);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->payload, bytes_of("paid"));
  EXPECT_EQ(store_->entity_generation("order"), 3u);
  EXPECT_TRUE(store_->verify_receipt(*paid));
  EXPECT_TRUE(store_->cancelled_ranges().empty());
  expect_verified();
  open(options());
  EXPECT_EQ(visible_sequences(), (std::vector<uint64_t>{1, 2, 3, 4})) << "a committed fence survives reopen";
}

TEST_P(FenceTest, CancelHidesTheFencedRangeForGoodAcrossReopen) {
  auto placed = store_->append(at("order"), kKind, bytes_of("placed"));
  ASSERT_TRUE(placed);
  auto fence = store_->begin_fence();
  ASSERT_TRUE(fence);
  auto paid = fence->append(at("order"), kKind, bytes_of("paid"));
  ASSERT_TRUE(paid);
  ASSERT_TRUE(fence->append(at("new-entity"), kKind, bytes_of("x")));
  ASSERT_TRUE(fence->cancel());

  auto after = store_->append(at("order"), kKind, bytes_of("cancelled-and-retried"));
  ASSERT_TRUE(after) << after.error().to_string();
  EXPECT_EQ(after->global_sequence, 4u) << "hidden events keep their sequences";
  EXPECT_EQ(after->clock, 2u) << "the chain continues from the last visible event";
  EXPECT_EQ(after->prev_hash, placed->event_hash);
  ASSERT_TRUE(store_->wait_for_visible(point_of(*after), 10000));
  auto check = [&] {
    EXPECT_EQ(store_->get(paid->event_id).error().code, ErrorCode::kNotFound);
    EXPECT_EQ(visible_sequences(), (std::vector<uint64_t>{1, 4}));
    EXPECT_EQ(store_->entity_generation("order"), 2u);
    EXPECT_EQ(store_->entity_generation("new-entity"), 0u);
    EXPECT_EQ(store_->cancelled_ranges(), (std::vector<SequenceRange>{{2, 4}}));
    EXPECT_EQ(store_->stats().event_count, 2u);
    EXPECT_EQ(store_->stats().last_global_sequence, 4u);
    auto chain = store_->walk_ancestors(after->event_id, 10);
    ASSERT_TRUE(chain);
    ASSERT_EQ(chain->size(), 2u);
    EXPECT_EQ(chain->at(1).header.event_id, placed->event_id);
    expect_verified();
  };
  check();
  open(options());
  check();
  StoreOptions read_only = options();
  read_only.access = AccessMode::kReadOnly;
  open(read_only);
  check();
}

// Invariant: a key used only in a cancelled fence names no event; appending it again makes
// a new, visible event with the same (key-derived) id, which every way of reopening finds
// and later retries replay, though the hidden event keeps that id in the segment.
TEST_P(FenceTest, AKeyCancelledWithItsFenceCanBeUsedAgainAndSurvivesEveryReopen) {
  StoreOptions small = options();
  small.segment_bytes_max = 4096;  // The events below end up in a sealed segment.
  open(small);
  AppendOptions keyed;
  keyed.idempotency_key = "payment-1";
  auto fence = store_->begin_fence();
  ASSERT_TRUE(fence);
  auto hidden = fence->append(at("order"), kKind, bytes_of("cancelled"), keyed);
  ASSERT_TRUE(hidden);
  ASSERT_TRUE(fence->cancel());
  EXPECT_FALSE(store_->receipt_for_key("payment-1").value().has_value());
  auto retried = store_->append(at("order"), kKind, bytes_of("retried"), keyed);
  ASSERT_TRUE(retried) << retried.error().to_string();
  EXPECT_FALSE(retried->idempotent_replay);
  EXPECT_EQ(retried->event_id, hidden->event_id) << "the id comes from the key";
  EXPECT_EQ(retried->global_sequence, 2u);
  constexpr uint64_t kFillers = 30;
  for (uint64_t i = 0; i < kFillers; ++i) ASSERT_TRUE(store_->append(at("filler"), kKind, std::vector<uint8_t>(300, 7)));
  ASSERT_TRUE(store_->sync());
  auto check = [&] {
    auto got = store_->get(retried->event_id);
    ASSERT_TRUE(got) << got.error().to_string();
    EXPECT_EQ(got->payload, bytes_of("retried"));
    auto again = store_->append(at("order"), kKind, bytes_of("third try"), keyed);
    ASSERT_TRUE(again) << again.error().to_string();
    EXPECT_TRUE(again->idempotent_replay);
    EXPECT_EQ(again->global_sequence, retried->global_sequence);
    EXPECT_EQ(store_->stats().event_count, 1 + kFillers);
    expect_verified();
  };
  check();
  // Footers are written by a close without a checkpoint, then loaded; the checkpoint is the
  // one the first close wrote; the last open scans every frame.
  struct Way {
    bool checkpoint, footers, from_footers;
  };
  for (const Way way : {Way{false, true, false}, Way{false, true, true}, Way{true, true, false}, Way{false, false, false}}) {
    StoreOptions reopen = small;
    reopen.index_checkpoint = way.checkpoint;
    reopen.segment_footers = way.footers;
    ASSERT_TRUE(store_->close());
    open(reopen);
    const OpenReport& report = store_->open_report();
    SCOPED_TRACE(report.index_source_reason);
    EXPECT_EQ(report.index_source == IndexSource::kCheckpoint, way.checkpoint);
    EXPECT_EQ(report.segments_from_footers > 0, way.from_footers);
    EXPECT_GE(report.segments, 2u);
    check();
  }
}

TEST_P(FenceTest, AFenceIsTheOnlyWayInWhileOpen) {
  auto fence = store_->begin_fence();
  ASSERT_TRUE(fence);
  auto plain = store_->append(at("a"), kKind, {});
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().code, ErrorCode::kFenceActive);
  auto second = store_->begin_fence();
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, ErrorCode::kFenceActive);
  AppendOptions conditional;
  conditional.condition = AppendCondition{Region::all(), 0};
  auto refused = fence->append(at("a"), kKind, {}, conditional);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  AppendOptions keyed;
  keyed.idempotency_key = "k1";
  ASSERT_TRUE(fence->append(at("a"), kKind, {}, keyed));
  auto again = fence->append(at("a"), kKind, {}, keyed);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(fence->commit());
  EXPECT_EQ(fence->commit().error().code, ErrorCode::kFenceNotActive);
  EXPECT_EQ(fence->append(at("a"), kKind, {}).error().code, ErrorCode::kFenceNotActive);
  EXPECT_TRUE(store_->append(at("a"), kKind, {})) << "plain appends work again";
  auto replay = store_->append(at("a"), kKind, {}, keyed);
  ASSERT_TRUE(replay);
  EXPECT_TRUE(replay->idempotent_replay) << "a committed fenced event is an ordinary event";
}

TEST_P(FenceTest, ADroppedFenceAndAFenceOpenAtCloseAreCancelled) {
  uint64_t dropped_id = 0;
  {
    auto fence = store_->begin_fence();
    ASSERT_TRUE(fence);
    auto r = fence->append(at("a"), kKind, {});
    ASSERT_TRUE(r);
    dropped_id = r->global_sequence;
  }
  EXPECT_EQ(store_->cancelled_ranges(), (std::vector<SequenceRange>{{dropped_id, dropped_id + 1}}));
  auto fence = store_->begin_fence();
  ASSERT_TRUE(fence);
  ASSERT_TRUE(fence->append(at("a"), kKind, {}));
  ASSERT_TRUE(store_->close());
  EXPECT_EQ(fence->commit().error().code, ErrorCode::kClosed);
  open(options());
  EXPECT_EQ(store_->cancelled_ranges(), (std::vector<SequenceRange>{{1, 3}})) << "adjacent ranges merge";
  EXPECT_TRUE(visible_sequences().empty());
}

TEST_P(FenceTest, GapObservationKeepsTheNewestUpToItsCapacityAndZeroTurnsItOff) {
  Cursor bounded(*store_, Region::all());
  bounded.observe_gaps(2);
  Cursor off(*store_, Region::all());
  off.observe_gaps(0);
  for (int gap = 0; gap < 3; ++gap) {
    ASSERT_TRUE(store_->append(at("a"), kKind, {}));  // 1, 3, 5
    auto fence = store_->begin_fence();
    ASSERT_TRUE(fence);
    ASSERT_TRUE(fence->append(at("a"), kKind, {}));  // 2, 4, 6: hidden
    ASSERT_TRUE(fence->cancel());
  }
  ASSERT_TRUE(store_->append(at("a"), kKind, {}));  // 7
  ASSERT_TRUE(store_->wait_for_visible(6, 10000));  // kAsync publishes after the append returns.
  for (Cursor* cursor : {&bounded, &off}) {
    auto batch = cursor->poll_batch(10);
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->size(), 4u);
  }
  const std::vector<GapObservation> gaps = bounded.take_gaps();
  ASSERT_EQ(gaps.size(), 2u) << "three gaps, the newest two kept";
  EXPECT_EQ(gaps[0].expected_sequence, 4u);
  EXPECT_EQ(gaps[1].expected_sequence, 6u);
  EXPECT_EQ(gaps[1].delivered_sequence, 7u);
  EXPECT_TRUE(off.take_gaps().empty());
}

TEST_P(FenceTest, SubscribersSeeCommittedFencesOnlyAndCursorsObserveCancelledGaps) {
  auto sub = store_->subscribe(Region::all());
  Cursor cursor(*store_, Region::all());
  cursor.observe_gaps(4);
  Cursor filtered(*store_, Region::entity("b"));
  filtered.observe_gaps(4);
  ASSERT_TRUE(store_->append(at("a"), kKind, {}));  // 1
  auto cancelled = store_->begin_fence();
  ASSERT_TRUE(cancelled);
  ASSERT_TRUE(cancelled->append(at("b"), kKind, {}));  // 2, hidden
  ASSERT_TRUE(cancelled->append(at("a"), kKind, {}));  // 3, hidden
  ASSERT_TRUE(cancelled->cancel());
  auto committed = store_->begin_fence();
  ASSERT_TRUE(committed);
  ASSERT_TRUE(committed->append(at("b"), kKind, {}));  // 4
  ASSERT_TRUE(committed->commit());
  ASSERT_TRUE(store_->append(at("a"), kKind, {}));  // 5

  std::vector<uint64_t> notified;
  while (notified.size() < 3) {
    auto n = sub->recv(10000);
    ASSERT_TRUE(n) << n.error().to_string();
    notified.push_back(n->global_sequence);
  }
  EXPECT_EQ(notified, (std::vector<uint64_t>{1, 4, 5}));
  auto batch = cursor.poll_batch(10);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->size(), 3u);
  const std::vector<GapObservation> gaps = cursor.take_gaps();
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].expected_sequence, 2u);
  EXPECT_EQ(gaps[0].delivered_sequence, 4u);
  EXPECT_EQ(gaps[0].cancelled_ranges, (std::vector<SequenceRange>{{2, 4}}));
  EXPECT_TRUE(cursor.take_gaps().empty()) << "take_gaps drains";

  ASSERT_TRUE(filtered.poll_batch(10));  // Delivers 4: skips 1 (filter) and 2..3 (cancelled).
  const std::vector<GapObservation> filtered_gaps = filtered.take_gaps();
  ASSERT_EQ(filtered_gaps.size(), 1u);
  EXPECT_EQ(filtered_gaps[0].expected_sequence, 1u);
  EXPECT_EQ(filtered_gaps[0].cancelled_ranges, (std::vector<SequenceRange>{{2, 4}}));
  Cursor plain(*store_, Region::entity("a"));
  plain.observe_gaps(4);
  ASSERT_TRUE(plain.poll_batch(1));  // 1
  ASSERT_TRUE(store_->append(at("b"), kKind, {}));
  ASSERT_TRUE(store_->append(at("a"), kKind, {}));
  Cursor late(*store_, Region::entity("a"), 5);
  late.observe_gaps(4);
  ASSERT_TRUE(late.poll_batch(10));  // Skips 6 (entity b): the filter, not a gap.
  EXPECT_TRUE(late.take_gaps().empty());
}

INSTANTIATE_TEST_SUITE_P(Durabilities, FenceTest,
                         ::testing::Values(Durability::kSync, Durability::kBuffered, Durability::kAsync),
                         durability_name);

// A process that dies with a fence open: its events were written (durably, kSync) but the
// fence never ended, so the next open cancels it.
TEST(FenceCrashTest, AFenceACrashLeftOpenIsCancelledAtTheNextOpen) {
  TempDir dir;
  const std::string path = dir.sub("store");
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = Store::open(path);
    if (!store || !(*store)->append(at("a"), kKind, {})) ::_exit(2);
    auto fence = (*store)->begin_fence();
    if (!fence || !fence->append(at("a"), kKind, {}) || !fence->append(at("b"), kKind, {})) ::_exit(3);
    ::_exit(0);  // No commit, no close: as if killed.
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  StoreOptions read_only;
  read_only.access = AccessMode::kReadOnly;
  {
    auto store = Store::open(path, read_only);
    ASSERT_TRUE(store) << store.error().to_string();
    EXPECT_TRUE((*store)->open_report().open_fence_cancelled);
    EXPECT_EQ((*store)->stats().event_count, 1u) << "read-only: hidden, nothing recorded";
  }
  auto store = Store::open(path);
  ASSERT_TRUE(store) << store.error().to_string();
  EXPECT_TRUE((*store)->open_report().open_fence_cancelled);
  EXPECT_EQ((*store)->stats().event_count, 1u);
  EXPECT_EQ((*store)->cancelled_ranges(), (std::vector<SequenceRange>{{2, 4}}));
  auto next = (*store)->append(at("a"), kKind, {});
  ASSERT_TRUE(next);
  EXPECT_EQ(next->global_sequence, 4u);
  EXPECT_EQ(next->clock, 2u);
  ASSERT_TRUE((*store)->close());
  auto again = Store::open(path);
  ASSERT_TRUE(again);
  EXPECT_FALSE((*again)->open_report().open_fence_cancelled) << "recorded once";
  auto report = (*again)->verify();
  ASSERT_TRUE(report && report->ok());
}

// The fences file is checked like every other file: damage refuses to open.
TEST(FenceFileTest, ADamagedFencesFileRefusesToOpen) {
  TempDir dir;
  const std::string path = dir.sub("store");
  {
    auto store = Store::open(path);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->append(at("a"), kKind, {}));
    auto fence = (*store)->begin_fence();
    ASSERT_TRUE(fence && fence->append(at("a"), kKind, {}));
    ASSERT_TRUE(fence->cancel());
  }
  const std::string file = path + "/fences";
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_EQ(bytes.size(), 44u) << "header 20 + one range 16 + checksum 8";
  for (size_t at_byte : {0ul, 8ul, 20ul, 28ul, 43ul}) {
    std::string damaged = bytes;
    damaged[at_byte] = static_cast<char>(damaged[at_byte] ^ 0x01);
    std::ofstream(file, std::ios::binary | std::ios::trunc) << damaged;
    auto store = Store::open(path);
    ASSERT_FALSE(store) << "byte " << at_byte;
    EXPECT_EQ(store.error().code, ErrorCode::kCorruption) << "byte " << at_byte;
    EXPECT_EQ(store.error().file, file);
  }
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes.substr(0, 30);
  EXPECT_EQ(Store::open(path).error().code, ErrorCode::kCorruption) << "truncated";
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_TRUE(Store::open(path)) << "restored";
}

}  // namespace
}  // namespace batpak::testing
