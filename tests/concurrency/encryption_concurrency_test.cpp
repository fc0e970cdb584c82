// Payload encryption under concurrency (run under ThreadSanitizer in CI). Invariant proved
// here: while appenders make new keys, a shredder destroys them and readers read, every read
// returns either exactly the payload that was appended or a shredded payload, never an
// error and never other bytes; and an entity never shredded always reads back whole. And
// appenders that race to make the first key of the same entities (their calls group-commit)
// make exactly one key per entity. And while the master key changes again and again, appends
// of new entities, shreds and reads go on without an error, and every key made meanwhile is
// in the file under the last master key.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "store/store_fixtures.hpp"

namespace batpak::store_test {
namespace {

constexpr int kAppenders = 4;
constexpr int kEntitiesPerAppender = 30;

std::string entity_of(int appender, int i) { return "user:" + std::to_string(appender) + ":" + std::to_string(i); }

TEST(EncryptionConcurrency, ReadsSeeThePayloadOrAShredNeverAnythingElse) {
  testing::TempDir tmp;
  StoreOptions o;
  o.encrypt_payloads = true;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp.sub("store"), o));
  std::atomic<bool> appending{true};
  std::atomic<int> bad_reads{0};
  std::vector<std::thread> threads;
  for (int a = 0; a < kAppenders; ++a) {
    threads.emplace_back([&, a] {
      for (int i = 0; i < kEntitiesPerAppender; ++i) {
        const std::string entity = entity_of(a, i);
        for (int k = 0; k < 2; ++k) {
          if (!store->append(coord(entity), kKindA, bytes(entity))) bad_reads.fetch_add(1);
        }
      }
    });
  }
  std::thread shredder([&] {  // Shreds the odd entities of appender 0 as they appear.
    for (int round = 0; appending.load(); ++round) {
      for (int i = 1; i < kEntitiesPerAppender; i += 2) {
        if (!store->shred_entity(entity_of(0, i))) bad_reads.fetch_add(1);
      }
      std::this_thread::yield();
    }
  });
  std::thread reader([&] {
    while (appending.load()) {
      auto events = store->query(Region::entity("user"));
      if (!events) {
        bad_reads.fetch_add(1);
        continue;
      }
      for (const Event& e : *events) {
        const bool whole = e.payload == bytes(e.coordinate.entity());
        if (!(e.payload_shredded ? e.payload.empty() : whole)) bad_reads.fetch_add(1);
      }
    }
  });
  for (std::thread& t : threads) t.join();
  appending.store(false);
  shredder.join();
  reader.join();
  EXPECT_EQ(bad_reads.load(), 0);

  BATPAK_ASSERT_OK_AND_ASSIGN(all, store->query(Region::entity("user")));
  ASSERT_EQ(all.size(), static_cast<size_t>(kAppenders * kEntitiesPerAppender * 2));
  for (const Event& e : all) {
    if (e.payload_shredded) {
      // Only appender 0's odd entities are ever shredded.
      EXPECT_EQ(e.coordinate.entity().rfind("user:0:", 0), 0u) << e.coordinate.entity();
      continue;
    }
    EXPECT_EQ(e.payload, bytes(e.coordinate.entity()));
  }
  for (int a = 1; a < kAppenders; ++a) {  // Never shredded: always whole.
    BATPAK_ASSERT_OK_AND_ASSIGN(events, store->query(Region::entity("user:" + std::to_string(a))));
    for (const Event& e : events) EXPECT_FALSE(e.payload_shredded) << e.coordinate.entity();
  }
  BATPAK_ASSERT_OK_AND_ASSIGN(report, store->verify());
  EXPECT_TRUE(report.ok());
}

TEST(EncryptionConcurrency, AppendersRacingForTheSameNewEntitiesMakeOneKeyEach) {
  constexpr int kThreads = 8;
  constexpr int kEntities = 40;
  testing::TempDir tmp;
  StoreOptions o;
  o.encrypt_payloads = true;
  o.durability = Durability::kBuffered;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp.sub("store"), o));
  std::atomic<int> failed_appends{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kEntities; ++i) {
        const std::string entity = "shared:" + std::to_string(i);
        if (!store->append(coord(entity), kKindA, bytes(entity))) failed_appends.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failed_appends.load(), 0);
  EXPECT_EQ(store->stats().payload_keys, static_cast<uint32_t>(kEntities));
  BATPAK_ASSERT_OK_AND_ASSIGN(all, store->query(Region::entity("shared")));
  ASSERT_EQ(all.size(), static_cast<size_t>(kThreads * kEntities));
  for (const Event& e : all) EXPECT_EQ(e.payload, bytes(e.coordinate.entity()));
}

// Each copy of a backup rewrapped under a third key, taken between the changes, opens with
// that key and reads every payload it holds (or a shred).
void expect_copy_reads_under(const std::string& copy_dir, const MasterKey& master_key) {
  StoreOptions o;
  o.master_key = master_key;
  o.access = AccessMode::kReadOnly;
  BATPAK_ASSERT_OK_AND_ASSIGN(copy, Store::open(copy_dir, o));
  BATPAK_ASSERT_OK_AND_ASSIGN(events, copy->query(Region::all()));
  EXPECT_FALSE(events.empty()) << copy_dir;
  for (const Event& e : events) {
    if (!e.payload_shredded) {
      EXPECT_EQ(e.payload, bytes(e.coordinate.entity())) << copy_dir;
    }
  }
}

TEST(EncryptionConcurrency, AppendsShredsReadsAndRewrappedBackupsGoOnWhileTheMasterKeyChanges) {
  const MasterKey first{0x0a};
  const MasterKey second{0x0b};
  BackupOptions to_third;
  to_third.rewrap_keys = true;
  to_third.master_key = MasterKey{0x0c};
  testing::TempDir tmp;
  StoreOptions o;
  o.master_key = first;
  BATPAK_ASSERT_OK_AND_ASSIGN(store, Store::open(tmp.sub("store"), o));
  BATPAK_ASSERT_OK(store->append(coord("main"), kKindA, bytes("main")));  // Every copy holds an event.
  std::atomic<bool> changing{true};
  std::atomic<int> failures{0};
  std::vector<std::vector<EventId>> appended(kAppenders);
  std::vector<std::thread> threads;
  for (int a = 0; a < kAppenders; ++a) {
    threads.emplace_back([&, a] {
      for (int i = 0; changing.load() || i < 3; ++i) {  // A new entity, so a new key, each time.
        auto r = store->append(coord(entity_of(a, i)), kKindA, bytes(entity_of(a, i)));
        if (!r) failures.fetch_add(1);
        if (!r) break;
        appended[a].push_back(r->event_id);
        auto read = store->get(appended[a].front());
        if (!read || read->payload != bytes(entity_of(a, 0))) failures.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; changing.load(); ++i) {
      const std::string entity = "other:" + std::to_string(i);
      if (!store->append(coord(entity), kKindA, bytes(entity)) || !store->shred_entity(entity)) failures.fetch_add(1);
    }
  });
  for (int change = 0; change < 7; ++change) {
    EXPECT_TRUE(store->change_master_key(change % 2 == 0 ? second : first).has_value()) << change;
    EXPECT_TRUE(store->backup(tmp.sub("copy-" + std::to_string(change)), to_third).has_value()) << change;
  }
  changing.store(false);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (int change = 0; change < 7; ++change) expect_copy_reads_under(tmp.sub("copy-" + std::to_string(change)), *to_third.master_key);
  BATPAK_ASSERT_OK(store->close());
  BATPAK_EXPECT_ERROR(Store::open(tmp.sub("store"), o), ErrorCode::kInvalidArgument);
  o.master_key = second;  // The last change, the seventh, was to the second key.
  BATPAK_ASSERT_OK_AND_ASSIGN(reopened, Store::open(tmp.sub("store"), o));
  for (int a = 0; a < kAppenders; ++a) {
    ASSERT_GE(appended[a].size(), 3u);
    for (size_t i = 0; i < appended[a].size(); ++i) {
      BATPAK_ASSERT_OK_AND_ASSIGN(event, reopened->get(appended[a][i]));
      EXPECT_EQ(event.payload, bytes(entity_of(a, static_cast<int>(i))));
    }
  }
}

}  // namespace
}  // namespace batpak::store_test
