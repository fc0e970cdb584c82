// The in-memory index: region selection with paging, chain walking, generations.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "index/index.hpp"

namespace batpak {
namespace {

struct Row {
  const char* entity;
  const char* scope;
  uint16_t kind;
  uint32_t clock;
};

// Global sequence i + 1 is kRows[i].
const Row kRows[] = {
    {"order:7", "a", 0x1001, 1},       // 1
    {"order7", "a", 0x1001, 1},        // 2
    {"order", "b", 0x2001, 1},         // 3
    {"order:7", "b", 0x1002, 2},       // 4
    {"user:1", "a", 0x1001, 1},        // 5
    {"order:7", "a", 0x2001, 3},       // 6
    {"order:7:line", "a", 0x1001, 1},  // 7
    {"order", "a", 0x1001, 2},         // 8
};

EventId id_for(uint64_t seq) {
  EventId id;
  id.bytes[0] = 0xEE;
  id.bytes[15] = static_cast<uint8_t>(seq);
  return id;
}

class IndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uint64_t seq = 0;
    for (const Row& r : kRows) {
      ++seq;
      index::Entry e;
      e.event_id = id_for(seq);
      e.segment_id = 1;
      e.offset = 64 + 256 * (seq - 1);
      e.wall_ms = 1000 + seq;
      e.frame_bytes = 256;
      e.clock = r.clock;
      e.kind = EventKind(r.kind);
      Hash32 event_hash;
      event_hash.bytes[0] = static_cast<uint8_t>(seq);
      idx_.add(r.entity, r.scope, e, event_hash);
    }
  }

  std::vector<uint64_t> select(const Region& region, uint64_t after = 0, size_t limit = SIZE_MAX) {
    std::vector<uint64_t> out;
    for (const index::Located& l : idx_.select(region, after, limit)) {
      // Every selected row carries its own coordinate.
      EXPECT_EQ(l.entity, kRows[l.global_sequence - 1].entity);
      EXPECT_EQ(l.scope, kRows[l.global_sequence - 1].scope);
      EXPECT_EQ(l.entry.event_id, id_for(l.global_sequence));
      out.push_back(l.global_sequence);
    }
    return out;
  }

  index::Index idx_;
};

using Seqs = std::vector<uint64_t>;

TEST_F(IndexTest, SizeEntityCountFindAndAtAgree) {
  EXPECT_EQ(idx_.size(), 8u);
  EXPECT_EQ(idx_.entity_count(), 5u);
  for (uint64_t seq = 1; seq <= 8; ++seq) {
    EXPECT_EQ(idx_.find(id_for(seq)), seq);
    auto at = idx_.at(seq);
    ASSERT_TRUE(at.has_value());
    EXPECT_EQ(at->entry.offset, 64 + 256 * (seq - 1));
  }
  EXPECT_FALSE(idx_.find(id_for(9)).has_value());
  EXPECT_FALSE(idx_.at(0).has_value());
  EXPECT_FALSE(idx_.at(9).has_value());
}

TEST_F(IndexTest, SelectAllReturnsEveryEventInCommitOrder) {
  EXPECT_EQ(select(Region::all()), (Seqs{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_F(IndexTest, EntityPrefixSelectsTheNamespaceNotStringPrefixes) {
  EXPECT_EQ(select(Region::entity("order")), (Seqs{1, 3, 4, 6, 7, 8}));
  EXPECT_EQ(select(Region::entity("order:7")), (Seqs{1, 4, 6, 7}));
  EXPECT_EQ(select(Region::entity("order7")), (Seqs{2}));
  EXPECT_EQ(select(Region::entity("order:7:line")), (Seqs{7}));
  EXPECT_EQ(select(Region::entity("orde")), Seqs{});
  EXPECT_EQ(select(Region::entity("nothing")), Seqs{});
  EXPECT_EQ(select(Region::entity("user")), (Seqs{5}));
}

TEST_F(IndexTest, ScopeKindAndClockRangeFilterTheSelection) {
  EXPECT_EQ(select(Region::all().with_scope("b")), (Seqs{3, 4}));
  EXPECT_EQ(select(Region::entity("order").with_scope("a")), (Seqs{1, 6, 7, 8}));
  EXPECT_EQ(select(Region::all().with_kinds(KindFilter::exact(EventKind(0x1001)))), (Seqs{1, 2, 5, 7, 8}));
  EXPECT_EQ(select(Region::all().with_kinds(KindFilter::category(0x2))), (Seqs{3, 6}));
  EXPECT_EQ(select(Region::entity("order:7").with_kinds(KindFilter::category(0x1))), (Seqs{1, 4, 7}));
  EXPECT_EQ(select(Region::all().with_clock_range(2, 3)), (Seqs{4, 6, 8}));
  EXPECT_EQ(select(Region::entity("order:7").with_clock_range(1, 1)), (Seqs{1, 7}));
  EXPECT_EQ(select(Region::all().with_scope("zzz")), Seqs{});
}

TEST_F(IndexTest, AfterAndLimitPageThroughAllEventsWithoutGapsOrRepeats) {
  EXPECT_EQ(select(Region::all(), 0, 3), (Seqs{1, 2, 3}));
  EXPECT_EQ(select(Region::all(), 3, 3), (Seqs{4, 5, 6}));
  EXPECT_EQ(select(Region::all(), 6, 3), (Seqs{7, 8}));
  EXPECT_EQ(select(Region::all(), 8, 3), Seqs{});
  EXPECT_EQ(select(Region::all(), 100, 3), Seqs{});
  EXPECT_EQ(select(Region::all(), 0, 0), Seqs{});
}

TEST_F(IndexTest, AfterAndLimitPageThroughAPrefixRegionAcrossEntities) {
  const Region r = Region::entity("order");
  Seqs all;
  uint64_t after = 0;
  for (int pages = 0; pages < 10; ++pages) {
    Seqs page = select(r, after, 2);
    if (page.empty()) break;
    EXPECT_LE(page.size(), 2u);
    all.insert(all.end(), page.begin(), page.end());
    after = page.back();
  }
  EXPECT_EQ(all, (Seqs{1, 3, 4, 6, 7, 8}));
  // The limit counts matches, not rows looked at.
  EXPECT_EQ(select(r.with_scope("a"), 1, 2), (Seqs{6, 7}));
  EXPECT_EQ(select(Region::all().with_scope("b"), 0, 1), (Seqs{3}));
}

TEST_F(IndexTest, ChainBackWalksOneEntityNewestFirstFromAClock) {
  auto seqs = [&](std::string_view entity, uint32_t clock, size_t limit) {
    Seqs out;
    for (const auto& l : idx_.chain_back(entity, clock, limit)) {
      EXPECT_EQ(l.entity, entity);
      out.push_back(l.global_sequence);
    }
    return out;
  };
  EXPECT_EQ(seqs("order:7", 3, 10), (Seqs{6, 4, 1}));
  EXPECT_EQ(seqs("order:7", 2, 10), (Seqs{4, 1}));
  EXPECT_EQ(seqs("order:7", 3, 2), (Seqs{6, 4}));
  EXPECT_EQ(seqs("order:7", 99, 10), (Seqs{6, 4, 1}));
  EXPECT_EQ(seqs("order:7", 3, 0), Seqs{});
  EXPECT_EQ(seqs("order", 2, 10), (Seqs{8, 3}));
  EXPECT_EQ(seqs("order:", 2, 10), Seqs{});
  EXPECT_EQ(seqs("unknown", 1, 10), Seqs{});
}

TEST_F(IndexTest, EntityGenerationIsTheExactEntitysEventCount) {
  EXPECT_EQ(idx_.entity_generation("order:7"), 3u);
  EXPECT_EQ(idx_.entity_generation("order"), 2u);
  EXPECT_EQ(idx_.entity_generation("order7"), 1u);
  EXPECT_EQ(idx_.entity_generation("order:7:line"), 1u);
  EXPECT_EQ(idx_.entity_generation("order:"), 0u);
  EXPECT_EQ(idx_.entity_generation("nobody"), 0u);
}

TEST_F(IndexTest, HeadIsTheEntitysLastEvent) {
  auto head = idx_.head("order:7");
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->clock, 3u);
  EXPECT_EQ(head->event_hash.bytes[0], 6);
  EXPECT_EQ(head->wall_ms, 1006u);
  EXPECT_FALSE(idx_.head("nobody").has_value());
}

TEST_F(IndexTest, PlanListsTheEntitysRelevantKindsInClockOrder) {
  const EventKind kinds[] = {EventKind(0x1001), EventKind(0x2001)};
  auto plan = idx_.plan("order:7", kinds);
  EXPECT_EQ(plan.generation, 3u);
  EXPECT_EQ(plan.global_sequences, (Seqs{1, 6}));
  auto every = idx_.plan("order:7", {});
  EXPECT_EQ(every.global_sequences, (Seqs{1, 4, 6}));
  auto none = idx_.plan("nobody", {});
  EXPECT_EQ(none.generation, 0u);
  EXPECT_TRUE(none.global_sequences.empty());
  EXPECT_EQ(none.watermark, 0u);
}

// Invariant: plan(after) lists exactly the suffix of plan() above `after`, and its
// watermark, generation and head hash do not depend on `after`.
TEST_F(IndexTest, PlanAfterASequenceListsOnlyTheNewerEventsWithTheSameSummary) {
  const EventKind kinds[] = {EventKind(0x1001), EventKind(0x2001)};
  const index::Index::EntityPlan whole = idx_.plan("order:7", kinds);
  EXPECT_EQ(whole.watermark, 6u);
  for (uint64_t after : {0u, 1u, 2u, 5u, 6u, 7u, 100u}) {
    SCOPED_TRACE(after);
    const index::Index::EntityPlan part = idx_.plan("order:7", kinds, after);
    Seqs expected;
    for (uint64_t s : whole.global_sequences) {
      if (s > after) expected.push_back(s);
    }
    EXPECT_EQ(part.global_sequences, expected);
    EXPECT_EQ(part.watermark, whole.watermark);
    EXPECT_EQ(part.generation, whole.generation);
    EXPECT_EQ(part.head_hash, whole.head_hash);
  }
  const EventKind only_first[] = {EventKind(0x1001)};
  EXPECT_EQ(idx_.plan("order:7", only_first, UINT64_MAX).watermark, 1u) << "walks back past other kinds";
  const EventKind absent[] = {EventKind(0x7001)};
  EXPECT_EQ(idx_.plan("order:7", absent, UINT64_MAX).watermark, 0u);
  EXPECT_EQ(idx_.plan("order:7", {}, UINT64_MAX).watermark, 6u);
}

// Index::segment_rows finds one segment's rows among hidden ones: rows 1-2 in segment 1,
// 3 hidden, 4-5 in segment 2 with 6 hidden between them and 7, 8 hidden, 9 in segment 3.
TEST(IndexSegmentRowsTest, ASegmentsRowsAreFoundAroundHiddenOnes) {
  index::Index idx;
  const uint64_t segment_of[] = {1, 1, 0, 2, 2, 0, 2, 0, 3};  // 0: hidden.
  uint32_t clock = 0;
  for (uint64_t seq = 1; seq <= 9; ++seq) {
    if (segment_of[seq - 1] == 0) {
      idx.add_hidden();
      continue;
    }
    index::Entry e;
    e.event_id = id_for(seq);
    e.segment_id = segment_of[seq - 1];
    e.offset = 64 * seq;
    e.frame_bytes = 64;
    e.clock = ++clock;
    idx.add("order:1", "s", e, Hash32{});
  }
  auto sequences = [&](uint64_t segment_id) {
    std::vector<uint64_t> out;
    for (const index::Located& l : idx.segment_rows(segment_id).rows) out.push_back(l.global_sequence);
    return out;
  };
  EXPECT_EQ(sequences(1), (Seqs{1, 2}));
  EXPECT_EQ(sequences(2), (Seqs{4, 5, 7}));
  EXPECT_EQ(sequences(3), (Seqs{9}));
  EXPECT_TRUE(sequences(4).empty());
  EXPECT_FALSE(idx.segment_rows(1).hidden_among);
  EXPECT_TRUE(idx.segment_rows(2).hidden_among);
  EXPECT_FALSE(idx.segment_rows(3).hidden_among);
}

// A group added through one Adder has its ids put in the id table when the Adder is
// dropped: more rows than the id prefetch distance, one hidden among them.
TEST(IndexAdder, EveryIdOfAGroupIsFoundOnceTheAdderIsDropped) {
  constexpr uint64_t kGroup = 100;
  constexpr uint64_t kHidden = 40;
  index::Index idx;
  {
    index::Index::Adder adder = idx.adder();
    for (uint64_t seq = 1; seq <= kGroup; ++seq) {
      if (seq == kHidden) {
        adder.add_hidden();
        continue;
      }
      index::Entry e;
      e.event_id = id_for(seq);
      e.clock = static_cast<uint32_t>(seq < kHidden ? seq : seq - 1);
      adder.add("entity", "scope", e, Hash32{});
    }
  }
  EXPECT_EQ(idx.size(), kGroup);
  for (uint64_t seq = 1; seq <= kGroup; ++seq) {
    if (seq == kHidden) {
      EXPECT_FALSE(idx.find(id_for(seq)).has_value());
    } else {
      EXPECT_EQ(idx.find(id_for(seq)), seq);
    }
  }
}

}  // namespace
}  // namespace batpak
