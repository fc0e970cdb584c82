// Store::import_from while the source takes appends and another thread imports the same
// source into the same store (run under ThreadSanitizer in CI).
// Invariant proved here: no event is copied twice, whichever importer's batch commits first;
// every import call accounts for each event up to its watermark exactly once; and a last
// import after the appenders stop leaves the copy holding every source event once, in the
// source's order within each entity.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"
#include "concurrency/entity_appenders.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr int kAppenders = 2;
constexpr int kEventsPerAppender = 300;
constexpr int kImporters = 2;

TEST(ImportConcurrency, TwoImportersAndTheSourcesAppendersNeverCopyAnEventTwice) {
  TempDir tmp;
  auto source = Store::open(tmp.sub("source"));
  auto copy = Store::open(tmp.sub("copy"));
  ASSERT_TRUE(source && copy);
  EntityAppenders appenders;
  appenders.start(**source, kAppenders, kEventsPerAppender);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  std::atomic<uint64_t> imported{0};
  std::atomic<int> passes{0};
  for (int i = 0; i < kImporters; ++i) {
    threads.emplace_back([&] {
      ImportOptions small_batches;
      small_batches.chunk_events = 7;
      while (appenders.left.load() > 0) {
        auto report = (*copy)->import_from(**source, {}, small_batches);
        if (!report) {
          failures.fetch_add(1);
          return;
        }
        const uint64_t counted = report->imported + report->already_present;
        if (counted != report->source_visible_sequence) failures.fetch_add(1);
        imported.fetch_add(report->imported);
        passes.fetch_add(1);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  appenders.join();
  ASSERT_EQ(failures.load() + appenders.failures.load(), 0);
  auto last = (*copy)->import_from(**source);
  ASSERT_TRUE(last) << last.error().to_string();
  EXPECT_EQ(imported.load() + last->imported, static_cast<uint64_t>(kAppenders * kEventsPerAppender));

  auto copied = (*copy)->query(Region::all());
  ASSERT_TRUE(copied);
  ASSERT_EQ(copied->size(), static_cast<size_t>(kAppenders * kEventsPerAppender));
  std::set<EventId> ids;
  std::map<std::string, int> next_payload;
  for (const Event& e : *copied) {
    EXPECT_TRUE(ids.insert(e.header.event_id).second);
    int& next = next_payload[std::string(e.coordinate.entity())];
    EXPECT_EQ(e.payload, std::vector<uint8_t>{static_cast<uint8_t>(next)});
    ++next;
  }
  auto verified = (*copy)->verify();
  ASSERT_TRUE(verified);
  EXPECT_TRUE(verified->ok());
  RecordProperty("import_passes_during_appends", passes.load());
}

}  // namespace
}  // namespace batpak::testing
