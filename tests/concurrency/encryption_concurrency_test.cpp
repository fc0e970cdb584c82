// Payload encryption under concurrency (run under ThreadSanitizer in CI). Invariant proved
// here: while appenders make new keys, a shredder destroys them and readers read, every read
// returns either exactly the payload that was appended or a shredded payload, never an
// error and never other bytes; and an entity never shredded always reads back whole. And
// appenders that race to make the first key of the same entities (their calls group-commit)
// make exactly one key per entity.
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

}  // namespace
}  // namespace batpak::store_test
