// The read API: get, query, query_after paging, for_each_matching, walk_ancestors,
// generations, stats, verify.
#include "store_fixtures.hpp"
#include "support/file_bytes.hpp"

namespace batpak::store_test {
namespace {

class ReadTest : public StoreTest {
 protected:
  void SetUp() override {
    store_ = open();
    ASSERT_NE(store_, nullptr);
    // Interleaved commits over several entities, scopes and kinds.
    const char* entities[] = {"order:1", "order:2", "order12", "user:1", "order:1:line"};
    for (int i = 0; i < 25; ++i) {
      const char* entity = entities[i % 5];
      const char* scope = i % 2 ? "odd" : "even";
      const EventKind kind = i % 3 ? kKindA : kKindB;
      auto r = store_->append(coord(entity, scope), kind, bytes("p" + std::to_string(i)));
      ASSERT_TRUE(r.has_value()) << r.error().to_string();
      receipts_.push_back(*r);
    }
  }

  static std::vector<uint64_t> seqs(const std::vector<Event>& events) {
    std::vector<uint64_t> out;
    for (const Event& e : events) out.push_back(e.header.global_sequence);
    return out;
  }

  // The expected answer computed from the receipts with Region::matches.
  std::vector<uint64_t> expected(const Region& region, uint64_t after = 0,
                                 size_t limit = SIZE_MAX) const {
    std::vector<uint64_t> out;
    for (const Receipt& r : receipts_) {
      if (out.size() >= limit) break;
      if (r.global_sequence > after && region.matches(r.entity, r.scope, r.kind, r.clock)) {
        out.push_back(r.global_sequence);
      }
    }
    return out;
  }

  std::unique_ptr<Store> store_;
  std::vector<Receipt> receipts_;
};

TEST_F(ReadTest, GetReturnsEachCommittedEventAndUnknownIdIsNotFound) {
  for (size_t i = 0; i < receipts_.size(); ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(e, store_->get(receipts_[i].event_id));
    expect_receipt_matches(receipts_[i], e);
    EXPECT_EQ(e.payload, bytes("p" + std::to_string(i)));
  }
  EventId unknown;
  unknown.bytes[3] = 0x42;
  BATPAK_EXPECT_ERROR(store_->get(unknown), ErrorCode::kNotFound);
}

TEST_F(ReadTest, QueryReturnsExactlyTheMatchingEventsInCommitOrder) {
  const std::vector<Region> regions = {
      Region::all(),
      Region::entity("order"),
      Region::entity("order:1"),
      Region::entity("order12"),
      Region::entity("order1"),
      Region::all().with_scope("odd"),
      Region::entity("order").with_scope("even").with_kinds(KindFilter::exact(kKindA)),
      Region::all().with_kinds(KindFilter::category(kKindB.category())),
      Region::all().with_clock_range(2, 3),
  };
  for (size_t i = 0; i < regions.size(); ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(events, store_->query(regions[i]));
    EXPECT_EQ(seqs(events), expected(regions[i])) << "region " << i;
    for (const Event& e : events) {
      EXPECT_TRUE(regions[i].matches(e.coordinate.entity(), e.coordinate.scope(), e.header.kind,
                                     e.header.clock));
    }
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(order, store_->query(Region::entity("order")));
  EXPECT_EQ(order.size(), 15u);  // order:1, order:2, order:1:line; not order12.
}

TEST_F(ReadTest, QueryAfterPagesInCommitOrderAcrossEntitiesWithoutGapsOrRepeats) {
  for (const Region& region : {Region::all(), Region::entity("order"), Region::all().with_scope("odd")}) {
    for (size_t page_size : {1u, 2u, 7u, 100u}) {
      std::vector<uint64_t> got;
      uint64_t after = 0;
      for (int guard = 0; guard < 100; ++guard) {
        BATPAK_ASSERT_OK_AND_ASSIGN(page, store_->query_after(region, after, page_size));
        ASSERT_LE(page.size(), page_size);
        if (page.empty()) break;
        EXPECT_EQ(seqs(page), expected(region, after, page_size));
        for (const Event& e : page) got.push_back(e.header.global_sequence);
        after = page.back().header.global_sequence;
      }
      EXPECT_EQ(got, expected(region)) << "page size " << page_size;
    }
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(none, store_->query_after(Region::all(), 25, 10));
  EXPECT_TRUE(none.empty());
  BATPAK_ASSERT_OK_AND_ASSIGN(zero, store_->query_after(Region::all(), 0, 0));
  EXPECT_TRUE(zero.empty());
}

TEST_F(ReadTest, ForEachMatchingVisitsWhatQueryAfterReturnsInCommitOrder) {
  for (const Region& region : {Region::all(), Region::entity("order"), Region::all().with_scope("odd"),
                               Region::all().with_kinds(KindFilter::exact(kKindB))}) {
    for (uint64_t after : {0u, 1u, 12u, 24u, 25u, 40u}) {
      BATPAK_ASSERT_OK_AND_ASSIGN(want, store_->query_after(region, after, SIZE_MAX));
      size_t visited = 0;
      auto status = store_->for_each_matching(region, after, [&](const Event& e) -> Status {
        if (visited < want.size()) expect_same_event(e, want[visited]);
        ++visited;
        return {};
      });
      ASSERT_TRUE(status.has_value()) << status.error().to_string();
      EXPECT_EQ(visited, want.size()) << "after " << after;
    }
  }
}

TEST_F(ReadTest, ForEachMatchingStopsAtTheVisitorsErrorAndSkipsEventsAppendedDuringTheCall) {
  size_t visited = 0;
  auto appending = store_->for_each_matching(Region::all(), 0, [&](const Event&) -> Status {
    ++visited;
    auto r = store_->append(coord("order:9"), kKindA, bytes("late"));
    if (!r) return tl::unexpected(r.error());
    return {};
  });
  ASSERT_TRUE(appending.has_value()) << appending.error().to_string();
  EXPECT_EQ(visited, 25u);  // Only the events visible when the call started.
  EXPECT_EQ(store_->stats().event_count, 50u);

  visited = 0;
  auto stopped = store_->for_each_matching(Region::all(), 0, [&](const Event&) -> Status {
    if (++visited == 3) return make_error(ErrorCode::kConflict, "enough");
    return {};
  });
  BATPAK_EXPECT_ERROR(stopped, ErrorCode::kConflict);
  EXPECT_EQ(visited, 3u);
}

TEST_F(ReadTest, ForEachMatchingReportsADamagedFrameAsCorruption) {
  const std::string path = dir() + "/" + segment_files(dir()).front();
  std::vector<uint8_t> data = testing::read_file_bytes(path);
  const std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
  const size_t at = text.find("p12");
  ASSERT_NE(at, std::string::npos);
  ASSERT_EQ(text.find("p12", at + 1), std::string::npos);
  data[at + 1] = 'X';
  testing::write_file_bytes(path, data);
  size_t visited = 0;
  auto status = store_->for_each_matching(Region::all(), 0, [&](const Event&) -> Status {
    ++visited;
    return {};
  });
  BATPAK_EXPECT_ERROR(status, ErrorCode::kCorruption);
  EXPECT_LT(visited, 13u);  // Nothing at or after the damaged event (sequence 13).
}

// A scan longer than one index step (4096 rows) and spread over many segments.
TEST_F(StoreTest, ForEachMatchingCrossesIndexStepsAndSegments) {
  StoreOptions options;
  options.durability = Durability::kBuffered;
  options.segment_bytes_max = 64u << 10;
  options.preallocate_bytes = 0;
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  constexpr uint64_t kEvents = 9000;
  for (uint64_t i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(store->append(coord("e:" + std::to_string(i % 7)), kKindA, bytes(std::to_string(i))).has_value());
  }
  EXPECT_GE(store->stats().segment_count, 6u);
  uint64_t next = 0;
  auto status = store->for_each_matching(Region::all(), 0, [&](const Event& e) -> Status {
    EXPECT_EQ(e.header.global_sequence, next + 1);
    EXPECT_EQ(e.payload, bytes(std::to_string(next)));
    ++next;
    return {};
  });
  ASSERT_TRUE(status.has_value()) << status.error().to_string();
  EXPECT_EQ(next, kEvents);
  uint64_t of_entity = 0;
  ASSERT_TRUE(store->for_each_matching(Region::entity("e:3"), 4000, [&](const Event& e) -> Status {
                      EXPECT_EQ(e.coordinate.entity(), "e:3");
                      EXPECT_GT(e.header.global_sequence, 4000u);
                      ++of_entity;
                      return {};
                    })
                  .has_value());
  EXPECT_EQ(of_entity, 715u);  // Sequences 4001..9000 with (sequence - 1) % 7 == 3.
}

TEST_F(ReadTest, WalkAncestorsReturnsTheAnchorFirstThenItsParentsUpToTheLimit) {
  // order:1 has events at indexes 0, 5, 10, 15, 20 (clocks 1..5).
  const Receipt& anchor = receipts_[15];
  ASSERT_EQ(anchor.clock, 4u);
  BATPAK_ASSERT_OK_AND_ASSIGN(chain, store_->walk_ancestors(anchor.event_id, 10));
  ASSERT_EQ(chain.size(), 4u);
  EXPECT_EQ(chain[0].header.event_id, anchor.event_id);
  EXPECT_EQ(seqs(chain), (std::vector<uint64_t>{16, 11, 6, 1}));
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    EXPECT_EQ(chain[i].header.prev_hash, chain[i + 1].header.event_hash);
    EXPECT_EQ(chain[i].header.clock, chain[i + 1].header.clock + 1);
  }
  EXPECT_TRUE(chain.back().header.prev_hash.is_zero());
  BATPAK_ASSERT_OK_AND_ASSIGN(limited, store_->walk_ancestors(anchor.event_id, 2));
  EXPECT_EQ(seqs(limited), (std::vector<uint64_t>{16, 11}));
  BATPAK_ASSERT_OK_AND_ASSIGN(none, store_->walk_ancestors(anchor.event_id, 0));
  EXPECT_TRUE(none.empty());
  BATPAK_ASSERT_OK_AND_ASSIGN(just_anchor, store_->walk_ancestors(receipts_[0].event_id, 10));
  EXPECT_EQ(seqs(just_anchor), (std::vector<uint64_t>{1}));
  EventId unknown;
  unknown.bytes[0] = 1;
  BATPAK_EXPECT_ERROR(store_->walk_ancestors(unknown, 10), ErrorCode::kNotFound);
}

TEST_F(ReadTest, EntityGenerationIsTheExactEntitysClock) {
  EXPECT_EQ(store_->entity_generation("order:1"), 5u);
  EXPECT_EQ(store_->entity_generation("order:1:line"), 5u);
  EXPECT_EQ(store_->entity_generation("order"), 0u);
  EXPECT_EQ(store_->entity_generation("nobody"), 0u);
  ASSERT_TRUE(store_->append(coord("order:1"), kKindA, bytes("x")));
  EXPECT_EQ(store_->entity_generation("order:1"), 6u);
}

TEST_F(ReadTest, StatsCountEventsEntitiesSegmentsAndBytes) {
  const StoreStats st = store_->stats();
  EXPECT_EQ(st.event_count, 25u);
  EXPECT_EQ(st.entity_count, 5u);
  EXPECT_EQ(st.segment_count, 1u);
  EXPECT_EQ(st.last_global_sequence, 25u);
  EXPECT_EQ(st.durable_global_sequence, 25u);
  EXPECT_GT(st.data_bytes, 25u * 224);
  ASSERT_TRUE(store_->append(coord("new"), kKindA, bytes("x")));
  const StoreStats after = store_->stats();
  EXPECT_EQ(after.event_count, 26u);
  EXPECT_EQ(after.entity_count, 6u);
  EXPECT_GT(after.data_bytes, st.data_bytes);
}

TEST_F(ReadTest, VerifyChecksEveryEventOfAnIntactStore) {
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store_->verify());
  EXPECT_TRUE(report.ok()) << report.damage->reason;
  EXPECT_EQ(report.events_checked, 25u);
  EXPECT_EQ(report.segments_checked, 1u);
}

TEST_F(ReadTest, ReadSequencesAndReplayPlanAgreeWithQuery) {
  BATPAK_ASSERT_OK_AND_ASSIGN(plan, store_->replay_plan("order:2", {}));
  EXPECT_EQ(plan.generation, 5u);
  BATPAK_ASSERT_OK_AND_ASSIGN(events, store_->read_sequences(plan.global_sequences));
  BATPAK_ASSERT_OK_AND_ASSIGN(queried, store_->query(Region::entity("order:2")));
  ASSERT_EQ(events.size(), queried.size());
  for (size_t i = 0; i < events.size(); ++i) expect_same_event(events[i], queried[i]);
}

TEST_F(ReadTest, WaitForVisibleReturnsAtOnceForVisibleEventsAndTimesOutOtherwise) {
  BATPAK_ASSERT_OK_AND_ASSIGN(seen, store_->wait_for_visible(10, 1000));
  EXPECT_EQ(seen, 25u);
  BATPAK_EXPECT_ERROR(store_->wait_for_visible(25, 20), ErrorCode::kTimeout);
}

// Events of one entity far apart (another entity's 20 KiB events between them) are read as
// separate runs, many batches of them (Fs::read_batch), across segments: every read path
// returns them whole and in order.
class ScatteredReadTest : public StoreTest {};

TEST_F(ScatteredReadTest, EveryReadPathReturnsFarApartEventsWholeAndInOrder) {
  StoreOptions options;
  options.durability = Durability::kBuffered;
  options.segment_bytes_max = 4u << 20;  // ~24 MB of events: six segments.
  auto store = open(options);
  ASSERT_NE(store, nullptr);
  std::vector<Receipt> near;
  const std::vector<uint8_t> filler(20 * 1024, 0xEE);
  for (int i = 0; i < 1200; ++i) {
    BATPAK_ASSERT_OK_AND_ASSIGN(r, store->append(coord("near:1"), kKindA, bytes("n" + std::to_string(i))));
    near.push_back(r);
    BATPAK_ASSERT_OK(store->append(coord("far:1"), kKindB, filler));
  }
  EXPECT_GE(store->stats().segment_count, 6u);
  auto check = [&](const std::vector<Event>& events, const char* path) {
    ASSERT_EQ(events.size(), near.size()) << path;
    for (size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].header.event_hash, near[i].event_hash) << path << " " << i;
      EXPECT_EQ(events[i].payload, bytes("n" + std::to_string(i))) << path << " " << i;
    }
  };
  BATPAK_ASSERT_OK_AND_ASSIGN(queried, store->query(Region::entity("near:1")));
  check(queried, "query");
  std::vector<Event> visited;
  BATPAK_ASSERT_OK(store->for_each_matching(Region::entity("near:1"), 0, [&](const Event& e) -> Status {
    visited.push_back(e);
    return {};
  }));
  check(visited, "for_each_matching");
  BATPAK_ASSERT_OK_AND_ASSIGN(walked, store->walk_ancestors(near.back().event_id, 2000));
  std::reverse(walked.begin(), walked.end());  // Anchor first.
  check(walked, "walk_ancestors");
}

}  // namespace
}  // namespace batpak::store_test
