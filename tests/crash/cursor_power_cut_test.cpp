// Durable cursors and reactors under a power cut (SimFs). Invariants proved here: in
// kBuffered and kAsync mode, whose events are visible before they are durable, a cursor
// checkpoint committed before a power cut resumes at or before the end of the journal that
// survived it, so the events appended after the cut are delivered, none skipped; and a
// reactor's checkpoint never survives the cut without the reactions of the sources it passed;
// and a reactor restarted after a cut that took its checkpoint reacts to a redelivered batch
// holding newer sources once per source; and a checkpoint removed or moved before the cut
// stays removed or moved, the move never ahead of the journal that survived.
#include <gtest/gtest.h>

#include <string>

#include "batpak/batpak.hpp"
#include "support/sim_fs.hpp"

namespace batpak::testing {
namespace {

const EventKind kKind(0x1001);
const std::string kDir = "/sim/store";

struct Placed {
  static constexpr EventKind kKind{0x1101};
  int64_t n = 0;
  MSGPACK_DEFINE_MAP(n)
};

struct Reacted {
  static constexpr EventKind kKind{0x1102};
  int64_t n = 0;
  MSGPACK_DEFINE_MAP(n)
};

StoreOptions options_on(std::shared_ptr<Fs> fs, Durability durability) {
  StoreOptions options;
  options.fs = std::move(fs);
  options.durability = durability;
  options.sync_every_events = 1'000'000;  // Nothing syncs but what the test does.
  options.sync_every_ms = 3'600'000;
  return options;
}

Result<Receipt> append(Store& store, const std::string& entity) {
  return store.append(Coordinate::make(entity, "s").value(), kKind, std::vector<uint8_t>(50, 1));
}

TEST(CursorPowerCut, ACommittedCheckpointNeverSkipsTheEventsAppendedAfterTheCut) {
  for (Durability durability : {Durability::kBuffered, Durability::kAsync}) {
    SCOPED_TRACE(static_cast<int>(durability));
    auto fs = std::make_shared<SimFs>();
    uint64_t committed = 0;
    {
      auto store = Store::open(kDir, options_on(fs, durability));
      ASSERT_TRUE(store) << store.error().to_string();
      for (int i = 0; i < 3; ++i) ASSERT_TRUE(append(**store, "e"));
      ASSERT_TRUE((*store)->wait_for_visible(2, 10'000)) << "kAsync: readable once written";
      auto cursor = Cursor::resume(**store, Region::all(), "c");
      ASSERT_TRUE(cursor) << cursor.error().to_string();
      auto batch = cursor->poll_batch(10);
      ASSERT_TRUE(batch && batch->size() == 3u);
      ASSERT_TRUE(cursor->commit());
      committed = cursor->position();
      for (int i = 0; i < 2; ++i) ASSERT_TRUE(append(**store, "e"));  // Visible, not durable.
      // The power cut: only what was made durable, under the durable names.
      auto reopened = Store::open(kDir, options_on(fs->crashed_copy({}, false), durability));
      ASSERT_TRUE(reopened) << reopened.error().to_string();
      const uint64_t journal_end = (*reopened)->stats().last_global_sequence;
      EXPECT_GE(journal_end, committed) << "the events the checkpoint passed were lost";
      auto resumed = Cursor::resume(**reopened, Region::all(), "c");
      ASSERT_TRUE(resumed) << resumed.error().to_string();
      EXPECT_EQ(resumed->position(), committed);
      auto next = append(**reopened, "after-the-cut");
      ASSERT_TRUE(next) << next.error().to_string();
      ASSERT_TRUE((*reopened)->wait_for_visible(next->global_sequence - 1, 10'000));
      std::vector<uint64_t> delivered;
      for (auto b = resumed->poll_batch(10); b && !b->empty(); b = resumed->poll_batch(10)) {
        for (const Event& e : *b) delivered.push_back(e.header.global_sequence);
      }
      ASSERT_FALSE(delivered.empty()) << "the event appended after the cut was skipped";
      EXPECT_EQ(delivered.back(), next->global_sequence);
    }
  }
}

TEST(CursorPowerCut, ARemovedOrMovedCheckpointStaysSoAfterTheCut) {
  for (Durability durability : {Durability::kSync, Durability::kBuffered, Durability::kAsync}) {
    SCOPED_TRACE(static_cast<int>(durability));
    auto fs = std::make_shared<SimFs>();
    auto store = Store::open(kDir, options_on(fs, durability));
    ASSERT_TRUE(store) << store.error().to_string();
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(append(**store, "e"));
    ASSERT_TRUE((*store)->wait_for_visible(1, 10'000)) << "kAsync: readable once written";
    for (const char* id : {"moved", "removed"}) {
      auto cursor = Cursor::resume(**store, Region::all(), id);
      ASSERT_TRUE(cursor && cursor->poll_batch(10));
      ASSERT_TRUE(cursor->commit());
    }
    const uint64_t last = append(**store, "e")->global_sequence;  // Durable at once only in kSync mode.
    ASSERT_TRUE((*store)->wait_for_visible(last - 1, 10'000));
    ASSERT_TRUE(Cursor::move_checkpoint(**store, "moved", last));
    ASSERT_TRUE(Cursor::remove_checkpoint(**store, "removed"));

    auto reopened = Store::open(kDir, options_on(fs->crashed_copy({}, false), durability));
    ASSERT_TRUE(reopened) << reopened.error().to_string();
    EXPECT_GE((*reopened)->stats().last_global_sequence, last) << "the move ran ahead of the durable journal";
    auto listed = Cursor::list_checkpoints(**reopened);
    ASSERT_TRUE(listed) << listed.error().to_string();
    ASSERT_EQ(listed->size(), 1u) << "the removal was lost";
    EXPECT_EQ(listed->front().checkpoint_id, "moved");
    EXPECT_EQ(listed->front().position, last) << "the move was lost";
    EXPECT_FALSE(listed->front().error);
  }
}

TEST(CursorPowerCut, AReactorsCheckpointNeverOutlivesItsReactions) {
  for (Durability durability : {Durability::kBuffered, Durability::kAsync}) {
    SCOPED_TRACE(static_cast<int>(durability));
    auto fs = std::make_shared<SimFs>();
    auto store = Store::open(kDir, options_on(fs, durability));
    ASSERT_TRUE(store) << store.error().to_string();
    const Coordinate order = Coordinate::make("order:1", "s").value();
    ASSERT_TRUE((*store)->append(order, Placed{1}));
    ASSERT_TRUE((*store)->append(order, Placed{2}));
    ASSERT_TRUE((*store)->sync()) << "the sources are durable; their reactions are not yet";
    Reactor reactor;
    reactor.on<Placed>([](const Placed& placed, const Event&, ReactionBatch& out) {
      return out.push(Coordinate::make("invoice:1", "s").value(), Reacted{placed.n});
    });
    auto cursor = Cursor::resume(**store, Region::entity("order"), "invoicer");
    ASSERT_TRUE(cursor) << cursor.error().to_string();
    auto batch = cursor->poll_batch(10);
    ASSERT_TRUE(batch && batch->size() == 2u);
    ASSERT_TRUE(reactor.react(**store, *batch));
    ASSERT_TRUE(cursor->commit());

    auto reopened = Store::open(kDir, options_on(fs->crashed_copy({}, false), durability));
    ASSERT_TRUE(reopened) << reopened.error().to_string();
    auto resumed = Cursor::resume(**reopened, Region::entity("order"), "invoicer");
    ASSERT_TRUE(resumed) << resumed.error().to_string();
    auto reactions = (*reopened)->query(Region::entity("invoice"));
    ASSERT_TRUE(reactions) << reactions.error().to_string();
    if (resumed->position() >= batch->back().header.global_sequence) {
      EXPECT_EQ(reactions->size(), 2u) << "the checkpoint passed sources whose reactions the cut took";
    }
    EXPECT_EQ(resumed->position(), batch->back().header.global_sequence) << "the commit itself is durable";
  }
}

TEST(CursorPowerCut, AReactorRestartedAfterTheCutReactsOnceToOldAndNewSources) {
  for (Durability durability : {Durability::kSync, Durability::kBuffered, Durability::kAsync}) {
    SCOPED_TRACE(static_cast<int>(durability));
    auto fs = std::make_shared<SimFs>();
    Reactor reactor;
    reactor.on<Placed>([](const Placed& placed, const Event&, ReactionBatch& out) {
      return out.push(Coordinate::make("invoice:1", "s").value(), Reacted{placed.n});
    });
    const Coordinate order = Coordinate::make("order:1", "s").value();
    std::shared_ptr<SimFs> after_cut;
    {
      auto store = Store::open(kDir, options_on(fs, durability));
      ASSERT_TRUE(store) << store.error().to_string();
      ASSERT_TRUE((*store)->append(order, Placed{1}));
      ASSERT_TRUE((*store)->append(order, Placed{2}));
      ASSERT_TRUE((*store)->sync());
      auto cursor = Cursor::resume(**store, Region::entity("order"), "invoicer");
      ASSERT_TRUE(cursor) << cursor.error().to_string();
      auto batch = cursor->poll_batch(10);
      ASSERT_TRUE(batch && batch->size() == 2u);
      ASSERT_TRUE(reactor.react(**store, *batch));
      after_cut = fs->crashed_copy({}, false);  // The cut comes before the checkpoint.
    }
    auto reopened = Store::open(kDir, options_on(after_cut, durability));
    ASSERT_TRUE(reopened) << reopened.error().to_string();
    ASSERT_EQ((*reopened)->query(Region::entity("invoice"))->size(), 2u) << "react() returned: its reactions are durable";
    ASSERT_TRUE((*reopened)->append(order, Placed{3}));
    ASSERT_TRUE((*reopened)->sync());
    auto resumed = Cursor::resume(**reopened, Region::entity("order"), "invoicer");
    ASSERT_TRUE(resumed) << resumed.error().to_string();
    EXPECT_EQ(resumed->position(), 0u);
    auto batch = resumed->poll_batch(10);
    ASSERT_TRUE(batch && batch->size() == 3u) << "the redelivery holds the new source too";
    ASSERT_TRUE(reactor.react(**reopened, *batch));
    ASSERT_TRUE((*reopened)->sync());
    auto reactions = (*reopened)->query(Region::entity("invoice"));
    ASSERT_TRUE(reactions) << reactions.error().to_string();
    ASSERT_EQ(reactions->size(), 3u) << "one reaction per source, none twice";
    EXPECT_EQ(reactions->back().header.causation_id, batch->back().header.event_id);
  }
}

}  // namespace
}  // namespace batpak::testing
