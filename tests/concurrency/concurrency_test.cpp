// Concurrency suite: several appender threads (same and distinct entities, single events
// and batches, optimistic-concurrency races, idempotency races) with reader threads doing
// get / query_after / walk_ancestors / stats / verify at the same time. Runs under
// ThreadSanitizer in CI (BATPAK_SANITIZE=thread); sized to stay fast there.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "batpak/chain_walk.hpp"
#include "support/durability_names.hpp"
#include "support/store_invariants.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr EventKind kKind{0x1001};
constexpr EventKind kOtherKind{0x2002};

StoreOptions options_for(Durability durability) {
  StoreOptions o;
  o.durability = durability;
  o.segment_bytes_max = 32 * 1024;  // Rotations happen while readers read.
  o.preallocate_bytes = 16 * 1024;
  o.sync_every_events = 40;
  o.sync_every_ms = 5;
  o.index_checkpoint_every_events = 100;  // Background checkpoints cut while threads append.
  return o;
}

class ConcurrencyTest : public ::testing::TestWithParam<Durability> {
 protected:
  std::string dir() const { return tmp_.sub("store"); }
  // The store under test (options_for the durability); null, with a failure, if it did not open.
  std::unique_ptr<Store> open_store() {
    auto opened = Store::open(dir(), options_for(GetParam()));
    EXPECT_TRUE(opened.has_value()) << opened.error().to_string();
    return opened ? std::move(*opened) : nullptr;
  }
  TempDir tmp_;
};

// Runs `threads` threads for `rounds` rounds; in each round they start `body(thread, round)`
// together. A body that returns false ends its thread (the others go on without it).
void race(int threads, int rounds, const std::function<bool(int, int)>& body) {
  std::barrier sync_point(threads);
  std::vector<std::thread> running;
  for (int t = 0; t < threads; ++t) {
    running.emplace_back([&, t] {
      for (int round = 0; round < rounds; ++round) {
        sync_point.arrive_and_wait();
        if (!body(t, round)) return sync_point.arrive_and_drop();
      }
    });
  }
  for (auto& t : running) t.join();
}

// Failures inside worker threads are collected and reported by the main thread.
class Problems {
 public:
  void add(std::string what) {
    std::lock_guard lock(mu_);
    if (list_.size() < 20) list_.push_back(std::move(what));
  }
  void expect_none() {
    std::lock_guard lock(mu_);
    for (const auto& p : list_) ADD_FAILURE() << p;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> list_;
};

// What one call of a reader did (see appenders_beside_readers).
enum class ReadOutcome { kRead, kNothingYet, kFailed };

// Runs `appenders` threads of `append(thread)` beside two reader threads. Each reader calls
// `read()` until every appender is done and once more after; kNothingYet asks to be called
// again (the appends are not visible yet), kFailed ends that reader. Returns the reads made.
int appenders_beside_readers(int appenders, const std::function<void(int)>& append,
                             const std::function<ReadOutcome()>& read) {
  std::atomic<int> appenders_left{appenders};
  std::atomic<int> reads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < appenders; ++t) {
    threads.emplace_back([&, t] {
      append(t);
      appenders_left.fetch_sub(1);
    });
  }
  auto reader = [&] {
    for (bool last = false; !last;) {
      last = appenders_left.load() == 0;
      const ReadOutcome outcome = read();
      if (outcome == ReadOutcome::kFailed) return;
      if (outcome == ReadOutcome::kNothingYet) last = false;
      if (outcome == ReadOutcome::kRead) reads.fetch_add(1);
    }
  };
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  for (auto& t : threads) t.join();
  return reads.load();
}

// Invariant: with appenders and readers running together, readers only ever see a
// contiguous, committed prefix of the log (sequences without gaps, intact chains, stats
// that never go back), and afterwards the log holds exactly the acknowledged events:
// global sequences 1..N, per-entity clocks contiguous, chains linked, verify() clean
// before and after a reopen.
TEST_P(ConcurrencyTest, AppendersAndReadersTogetherKeepEveryInvariant) {
  constexpr int kAppenders = 4;
  constexpr int kOpsPerAppender = 300;
  std::unique_ptr<Store> store = open_store();
  ASSERT_NE(store, nullptr);

  Problems problems;
  std::atomic<int> appenders_left{kAppenders};
  std::vector<std::vector<Receipt>> receipts(kAppenders);
  std::vector<std::thread> threads;
  for (int t = 0; t < kAppenders; ++t) {
    threads.emplace_back([&, t] {
      struct Done {  // Readers stop once every appender finished, however it finished.
        std::atomic<int>& left;
        ~Done() { left.fetch_sub(1); }
      } done{appenders_left};
      // Threads 0 and 1 share an entity; 2 and 3 have their own. Every 10th op is a batch
      // touching the thread's entity and the shared one.
      const std::string own = t < 2 ? "acct:shared" : "acct:own" + std::to_string(t);
      for (int i = 0; i < kOpsPerAppender; ++i) {
        const std::string payload = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (i % 10 == 9) {
          std::vector<BatchItem> batch{{coord(own), kKind, bytes(payload + "a"), {}},
                                       {coord("acct:shared", "other"), kOtherKind, bytes(payload + "b"), {}}};
          auto r = store->append_batch(batch);
          if (!r) return problems.add("append_batch: " + r.error().to_string());
          if (r->size() != 2 || (*r)[1].global_sequence != (*r)[0].global_sequence + 1) {
            return problems.add("a batch was not committed contiguously");
          }
          receipts[t].insert(receipts[t].end(), r->begin(), r->end());
        } else {
          auto r = store->append(coord(own), kKind, bytes(payload));
          if (!r) return problems.add("append: " + r.error().to_string());
          receipts[t].push_back(*r);
        }
      }
    });
  }

  // Reader 1: pages through the log in commit order while it grows.
  threads.emplace_back([&] {
    uint64_t last = 0;
    uint64_t last_stats = 0;
    for (bool final_pass = false;;) {
      const bool appenders_done = appenders_left.load() == 0;
      auto page = store->query_after(Region::all(), last, 37);
      if (!page) return problems.add("query_after: " + page.error().to_string());
      for (const Event& e : *page) {
        if (e.header.global_sequence != last + 1) {
          return problems.add("query_after skipped from " + std::to_string(last) + " to " +
                              std::to_string(e.header.global_sequence));
        }
        last = e.header.global_sequence;
      }
      if (!page->empty()) {
        auto again = store->get(page->back().header.event_id);
        if (!again || again->header.event_hash != page->back().header.event_hash) {
          return problems.add("get disagrees with query_after");
        }
      }
      const StoreStats stats = store->stats();
      if (stats.last_global_sequence < last_stats || stats.last_global_sequence < last) {
        return problems.add("stats went backwards");
      }
      last_stats = stats.last_global_sequence;
      if (page->empty()) {
        if (final_pass) return;
        if (appenders_done) final_pass = true;
        std::this_thread::yield();
      }
    }
  });

  // Reader 2: walks chains, checks generations and verifies while appends run.
  threads.emplace_back([&] {
    uint64_t generation = 0;
    int round = 0;
    while (appenders_left.load() > 0) {
      const uint64_t g = store->entity_generation("acct:shared");
      if (g < generation) return problems.add("entity_generation went backwards");
      generation = g;
      auto latest = store->query_after(Region::entity("acct:shared"), 0, 1000000);
      if (!latest) return problems.add("query: " + latest.error().to_string());
      if (!latest->empty()) {
        auto walk = store->walk_ancestors(latest->back().header.event_id, 50);
        if (!walk) return problems.add("walk_ancestors: " + walk.error().to_string());
        for (size_t i = 0; i + 1 < walk->size(); ++i) {
          const EventHeader& child = (*walk)[i].header;
          const EventHeader& parent = (*walk)[i + 1].header;
          if (child.prev_hash != parent.event_hash || child.clock != parent.clock + 1) {
            return problems.add("walk_ancestors returned a broken chain");
          }
        }
      }
      if (++round % 8 == 0) {
        auto report = store->verify();
        if (!report) return problems.add("verify: " + report.error().to_string());
        if (!report->ok()) return problems.add("verify found damage while appending: " + report->damage->reason);
      }
      std::this_thread::yield();
    }
  });
  for (auto& t : threads) t.join();
  problems.expect_none();
  // kAsync acknowledges before the write; sync() makes every acknowledged event readable.
  ASSERT_TRUE(store->sync().has_value());

  // Afterwards: exactly the acknowledged events, in a log with every invariant.
  std::map<uint64_t, Receipt> by_sequence;
  for (int t = 0; t < kAppenders; ++t) {
    std::map<std::string, uint32_t> clocks;  // One thread's clocks per entity only grow.
    for (const Receipt& r : receipts[t]) {
      EXPECT_TRUE(by_sequence.emplace(r.global_sequence, r).second) << "sequence handed out twice";
      EXPECT_GT(r.clock, clocks[r.entity]);
      clocks[r.entity] = r.clock;
    }
  }
  const std::vector<Event> all = expect_log_invariants(*store);
  ASSERT_EQ(all.size(), by_sequence.size());
  for (const Event& e : all) {
    const Receipt& r = by_sequence.at(e.header.global_sequence);
    EXPECT_EQ(r.event_id, e.header.event_id);
    EXPECT_EQ(r.event_hash, e.header.event_hash);
    EXPECT_EQ(r.clock, e.header.clock);
  }
  expect_verify_ok(*store, all.size());
  EXPECT_GT(wait_for_background_checkpoints(*store, 1), 0u);
  BATPAK_ASSERT_OK(store->close());
  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, Store::open(dir()));
  EXPECT_FALSE(reopened->open_report().torn_tail);
  EXPECT_EQ(reopened->open_report().index_source, IndexSource::kCheckpoint);
  EXPECT_EQ(expect_log_invariants(*reopened).size(), all.size());
  expect_verify_ok(*reopened, all.size());
}

// Invariant: when several threads race to append to one entity with the same
// expected_clock, exactly one wins and every other gets kConflict; the entity's clocks stay
// contiguous.
TEST_P(ConcurrencyTest, ExpectedClockRacesHaveExactlyOneWinner) {
  constexpr int kThreads = 4;
  constexpr uint32_t kRounds = 60;
  std::unique_ptr<Store> store = open_store();
  ASSERT_NE(store, nullptr);
  Problems problems;
  std::vector<std::atomic<int>> winners(kRounds);
  std::vector<std::atomic<int>> conflicts(kRounds);
  race(kThreads, kRounds, [&](int t, int r) {
    const auto round = static_cast<uint32_t>(r);
    AppendOptions o;
    o.expected_clock = round;
    // Half the contenders also append an unrelated event in the same instant.
    if (t % 2 == 1) (void)store->append(coord("bystander"), kKind, bytes("noise"));
    auto appended = store->append(coord("race"), kKind, bytes("t" + std::to_string(t)), o);
    if (appended) {
      winners[round].fetch_add(1);
      if (appended->clock != round + 1) problems.add("winner got clock " + std::to_string(appended->clock));
    } else if (appended.error().code == ErrorCode::kConflict) {
      conflicts[round].fetch_add(1);
      if (appended.error().entity != "race") problems.add("conflict does not name the entity");
    } else {
      problems.add("race append: " + appended.error().to_string());
    }
    return true;
  });
  problems.expect_none();
  // kAsync acknowledges before the write; sync() makes every acknowledged event readable.
  ASSERT_TRUE(store->sync().has_value());
  for (uint32_t round = 0; round < kRounds; ++round) {
    EXPECT_EQ(winners[round].load(), 1) << "round " << round;
    EXPECT_EQ(conflicts[round].load(), kThreads - 1) << "round " << round;
  }
  EXPECT_EQ(store->entity_generation("race"), kRounds);
  const std::vector<Event> all = expect_log_invariants(*store);
  expect_verify_ok(*store, all.size());
}

// Invariant: threads racing to append with the same idempotency key commit exactly one
// event; every thread gets that event's receipt, and only one receipt is fresh.
TEST_P(ConcurrencyTest, IdempotencyKeyRacesCommitExactlyOnce) {
  constexpr int kThreads = 4;
  constexpr int kKeys = 40;
  std::unique_ptr<Store> store = open_store();
  ASSERT_NE(store, nullptr);
  Problems problems;
  std::vector<std::vector<Receipt>> got(kThreads);
  race(kThreads, kKeys, [&](int t, int k) {
    AppendOptions o;
    o.idempotency_key = "key-" + std::to_string(k);
    auto r = store->append(coord("idem:" + std::to_string(k % 3)), kKind, bytes("same"), o);
    if (!r) {
      problems.add("keyed append: " + r.error().to_string());
      return false;
    }
    got[t].push_back(*r);
    return true;
  });
  problems.expect_none();
  // kAsync acknowledges before the write; sync() makes every acknowledged event readable.
  ASSERT_TRUE(store->sync().has_value());
  for (int k = 0; k < kKeys; ++k) {
    int fresh = 0;
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_EQ(got[t].size(), static_cast<size_t>(kKeys));
      EXPECT_EQ(got[t][k].event_id, got[0][k].event_id);
      EXPECT_EQ(got[t][k].global_sequence, got[0][k].global_sequence);
      EXPECT_EQ(got[t][k].event_hash, got[0][k].event_hash);
      fresh += !got[t][k].idempotent_replay;
    }
    EXPECT_EQ(fresh, 1) << "key " << k;
  }
  EXPECT_EQ(expect_log_invariants(*store).size(), static_cast<size_t>(kKeys));
  expect_verify_ok(*store, kKeys);
}

// Invariant: identical keyed batches submitted at once commit exactly once: one submitter
// gets fresh receipts for every item, the others the same receipts as replays, and none is
// refused as a partly committed batch.
TEST_P(ConcurrencyTest, IdempotentBatchRacesCommitExactlyOnce) {
  constexpr int kThreads = 4;
  constexpr int kBatches = 20;
  constexpr int kItems = 3;
  std::unique_ptr<Store> store = open_store();
  ASSERT_NE(store, nullptr);
  Problems problems;
  std::vector<std::vector<Receipt>> got(kThreads);
  race(kThreads, kBatches, [&](int t, int b) {
    std::vector<BatchItem> items;
    for (int i = 0; i < kItems; ++i) {
      AppendOptions o;
      o.idempotency_key = "batch-" + std::to_string(b) + "-" + std::to_string(i);
      items.push_back(BatchItem{coord("idem:" + std::to_string(i)), kKind, bytes("same"), o});
    }
    auto r = store->append_batch(items);
    if (!r) {
      problems.add("keyed batch: " + r.error().to_string());
      return false;
    }
    got[t].insert(got[t].end(), r->begin(), r->end());
    return true;
  });
  problems.expect_none();
  ASSERT_TRUE(store->sync().has_value());
  for (int b = 0; b < kBatches; ++b) {
    int fresh_batches = 0;
    for (int t = 0; t < kThreads; ++t) {
      ASSERT_EQ(got[t].size(), static_cast<size_t>(kBatches * kItems));
      int fresh_items = 0;
      for (int i = 0; i < kItems; ++i) {
        const Receipt& r = got[t][static_cast<size_t>(b * kItems + i)];
        EXPECT_EQ(r.event_id, got[0][static_cast<size_t>(b * kItems + i)].event_id);
        EXPECT_EQ(r.global_sequence, got[0][static_cast<size_t>(b * kItems + i)].global_sequence);
        fresh_items += !r.idempotent_replay;
      }
      EXPECT_TRUE(fresh_items == 0 || fresh_items == kItems) << "batch " << b << " half replayed";
      fresh_batches += fresh_items == kItems;
    }
    EXPECT_EQ(fresh_batches, 1) << "batch " << b;
  }
  EXPECT_EQ(expect_log_invariants(*store).size(), static_cast<size_t>(kBatches * kItems));
  expect_verify_ok(*store, kBatches * kItems);
}

// Invariant: a reader never sees part of a batch: every batch's events are all visible or
// none is, whichever read it makes while batches commit.
TEST_P(ConcurrencyTest, ReadersSeeEachBatchWholeOrNotAtAll) {
  constexpr int kAppenders = 2;
  constexpr int kBatches = 60;
  constexpr int kItems = 6;
  std::unique_ptr<Store> store = open_store();
  ASSERT_NE(store, nullptr);
  Problems problems;
  auto append = [&](int t) {
    for (int b = 0; b < kBatches; ++b) {
      const std::string tag = std::to_string(t) + "-" + std::to_string(b);
      std::vector<BatchItem> items;
      for (int i = 0; i < kItems; ++i) {
        items.push_back(BatchItem{coord("whole:" + std::to_string(t) + ":" + std::to_string(i)), kKind, bytes(tag), {}});
      }
      if (auto r = store->append_batch(items); !r) problems.add("batch: " + r.error().to_string());
    }
  };
  auto read = [&] {
    auto events = store->query(Region::all());
    if (!events) {
      problems.add("query: " + events.error().to_string());
      return ReadOutcome::kFailed;
    }
    std::map<std::string, int> per_tag;
    for (const Event& e : *events) ++per_tag[std::string(e.payload.begin(), e.payload.end())];
    for (const auto& [tag, count] : per_tag) {
      if (count != kItems) {
        problems.add("saw " + std::to_string(count) + " of the " + std::to_string(kItems) + " events of batch " + tag);
      }
    }
    return ReadOutcome::kRead;
  };
  const int reads = appenders_beside_readers(kAppenders, append, read);
  problems.expect_none();
  EXPECT_GE(reads, 2);
  ASSERT_TRUE(store->sync().has_value());
  EXPECT_EQ(expect_log_invariants(*store).size(), static_cast<size_t>(kAppenders * kBatches * kItems));
}

// Invariant: a chain walk from any visible event, while appenders lengthen the same chain,
// finds nothing wrong and reaches the entity's first event, checking exactly the start's
// clock of events.
TEST_P(ConcurrencyTest, ChainWalksWhileTheChainGrowsAreAlwaysWhole) {
  constexpr int kAppenders = 2;
  constexpr int kEvents = 80;
  std::unique_ptr<Store> store = open_store();
  ASSERT_NE(store, nullptr);
  Problems problems;
  auto append = [&](int t) {
    for (int i = 0; i < kEvents; ++i) {
      if (auto r = store->append(coord("walked:1"), kKind, bytes(std::to_string(t * kEvents + i))); !r) {
        problems.add("append: " + r.error().to_string());
      }
    }
  };
  auto walk = [&] {
    auto events = store->query(Region::entity("walked:1"));
    if (!events) {
      problems.add("query: " + events.error().to_string());
      return ReadOutcome::kFailed;
    }
    if (events->empty()) {  // Not visible yet (kAsync): wait for the first event.
      auto waited = store->wait_for_visible(uint64_t{0}, 5000);
      if (!waited) problems.add("no event became visible: " + waited.error().to_string());
      return waited ? ReadOutcome::kNothingYet : ReadOutcome::kFailed;
    }
    const EventHeader& newest = events->back().header;
    ChainWalkRequest request;
    request.start = newest.event_id;
    request.expected_event_hash = newest.event_hash;
    const ChainWalkReport report = chain_walk_evidence(*store, request);
    if (!report.ok() || report.boundary != ChainWalkBoundary::kReachedGenesis ||
        report.checked_count != newest.clock) {
      problems.add("walk from clock " + std::to_string(newest.clock) + ": " + to_json(report).dump());
    }
    return ReadOutcome::kRead;
  };
  const int walks = appenders_beside_readers(kAppenders, append, walk);
  problems.expect_none();
  EXPECT_GE(walks, 2);
}

INSTANTIATE_TEST_SUITE_P(Durabilities, ConcurrencyTest,
                         ::testing::Values(Durability::kSync, Durability::kBuffered,
                                           Durability::kAsync),
                         durability_name);

}  // namespace
}  // namespace batpak::testing
