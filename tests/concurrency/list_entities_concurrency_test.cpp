// Store::list_entities while appenders create entities (run under ThreadSanitizer in CI).
// Invariant proved here: every page a reader takes is in strictly increasing name order,
// continues after the `after` it was given, and lists only entities with an event the store
// has made visible; once the appenders are done, one pass lists exactly the entities made.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "batpak/batpak.hpp"
#include "support/temp_dir.hpp"

namespace batpak::testing {
namespace {

constexpr int kAppenders = 4;
constexpr int kEntitiesPerAppender = 150;

std::string entity_of(int appender, int i) { return "e:" + std::to_string(appender) + ":" + std::to_string(i); }

// One pass over namespace "e" in pages of 16; false (with `problem` set) on a broken page.
bool list_pass(const Store& store, size_t& listed, std::string& problem) {
  listed = 0;
  std::string after;
  auto fail = [&problem](std::string why) {
    problem = std::move(why);
    return false;
  };
  while (true) {
    auto page = store.list_entities("e", after, 16);
    if (!page) return fail(page.error().to_string());
    const uint64_t last_sequence = store.stats().last_global_sequence;  // Read after the page.
    for (const EntitySummary& e : *page) {
      if (e.entity <= after) return fail(e.entity + " listed after " + after);
      if (e.generation == 0 || e.last_global_sequence == 0 || e.last_global_sequence > last_sequence) {
        return fail(e.entity + " listed without a visible event");
      }
      after = e.entity;
    }
    listed += page->size();
    if (page->size() < 16) return true;
  }
}

TEST(ListEntitiesConcurrency, PagesStayOrderedWhileEntitiesAreCreated) {
  TempDir tmp;
  auto store = Store::open(tmp.sub("store"));
  ASSERT_TRUE(store) << store.error().to_string();
  std::atomic<int> appenders_left{kAppenders};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int a = 0; a < kAppenders; ++a) {
    threads.emplace_back([&, a] {
      for (int i = 0; i < kEntitiesPerAppender; ++i) {
        const std::vector<uint8_t> payload{1};
        if (!(*store)->append(Coordinate::make(entity_of(a, i), "s").value(), EventKind(0x1001), payload)) {
          failures.fetch_add(1);
        }
      }
      appenders_left.fetch_sub(1);
    });
  }
  std::string problem;
  int passes = 0;
  size_t listed = 0;
  while (appenders_left.load() > 0 && problem.empty()) {
    if (list_pass(**store, listed, problem)) ++passes;
  }
  for (std::thread& t : threads) t.join();
  EXPECT_TRUE(problem.empty()) << problem;
  EXPECT_EQ(failures.load(), 0);
  ASSERT_TRUE(list_pass(**store, listed, problem)) << problem;
  EXPECT_EQ(listed, static_cast<size_t>(kAppenders * kEntitiesPerAppender));
  RecordProperty("passes_during_appends", passes);
}

}  // namespace
}  // namespace batpak::testing
